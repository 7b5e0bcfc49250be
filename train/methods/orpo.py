"""orpo: odds-ratio preference optimization, TRL's ORPOTrainer on {prompt, chosen, rejected} rows (format:
preference), in one pass and without a reference model."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from tuneforge.data.rows import preference_rows
from tuneforge.recipe.schema import Section
from tuneforge.registry import Method
from tuneforge.train.job import TrainingJob
from tuneforge.train.methods.rows import row_trainer


class ORPOSection(Section):
    """Odds-ratio preference optimization (TRL's ORPOTrainer): SFT on chosen plus an odds-ratio penalty on
    rejected, in one pass and without a reference model."""

    beta: Annotated[float, Field(gt=0)] = 0.1
    """Weight of the odds-ratio term against the SFT loss (the paper's lambda)."""


class ORPO(Method):
    name: ClassVar[str] = "orpo"
    settings: ClassVar[type[Section]] = ORPOSection
    formats: ClassVar[tuple[str, ...]] = ("preference",)

    def build_trainer(self, job: TrainingJob):
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer

        config = {"beta": self.settings_of(job.recipe).beta}
        return row_trainer(job, ORPOTrainer, ORPOConfig, config, preference_rows)
