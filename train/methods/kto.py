"""kto: Kahneman-Tversky optimization, TRL's KTOTrainer on {prompt, completion, label} rows (format: kto),
against a frozen reference like DPO's."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from tuneforge.data.rows import marked_rows
from tuneforge.recipe.schema import Section
from tuneforge.registry import Method
from tuneforge.train.job import TrainingJob
from tuneforge.train.methods.rows import row_trainer


class KTOSection(Section):
    """Kahneman-Tversky optimization (TRL's KTOTrainer): learn from single replies marked good or bad
    (format: kto), against a frozen reference like DPO."""

    beta: Annotated[float, Field(gt=0)] = 0.1
    """How far the model may move from the reference: higher stays closer."""
    desirable_weight: Annotated[float, Field(gt=0)] = 1.0
    """Weight of the good replies' loss (raise it when good replies are the rarer kind)."""
    undesirable_weight: Annotated[float, Field(gt=0)] = 1.0
    """Weight of the bad replies' loss."""


class KTO(Method):
    name: ClassVar[str] = "kto"
    settings: ClassVar[type[Section]] = KTOSection
    formats: ClassVar[tuple[str, ...]] = ("kto",)

    def build_trainer(self, job: TrainingJob):
        from trl import KTOConfig, KTOTrainer

        config = self.settings_of(job.recipe).model_dump()  # beta, desirable_weight, undesirable_weight: TRL's names
        return row_trainer(job, KTOTrainer, KTOConfig, config, marked_rows, ref_model=None)
