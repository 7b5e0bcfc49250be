"""dpo: direct preference optimization, TRL's DPOTrainer on {prompt, chosen, rejected} rows (format:
preference). The reference is the starting model: the base with a fresh adapter, or model.adapter's run
(TRL copies the loaded adapter into a frozen "ref" adapter, which the saved adapter leaves out).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from tuneforge.data.rows import preference_rows
from tuneforge.recipe.schema import Section
from tuneforge.registry import Method
from tuneforge.train.job import TrainingJob
from tuneforge.train.methods.rows import row_trainer


class DPOSection(Section):
    """Direct preference optimization (TRL's DPOTrainer): raise chosen over rejected replies against a
    frozen reference (the starting adapter, or the base model)."""

    beta: Annotated[float, Field(gt=0)] = 0.1
    """How far the model may move from the reference: higher stays closer."""
    loss_type: Literal["sigmoid", "hinge", "ipo", "robust"] = "sigmoid"
    """sigmoid: the DPO paper's loss; hinge: SLiC; ipo: identity preference; robust: label-noise robust DPO."""


class DPO(Method):
    name: ClassVar[str] = "dpo"
    settings: ClassVar[type[Section]] = DPOSection
    formats: ClassVar[tuple[str, ...]] = ("preference",)

    def build_trainer(self, job: TrainingJob):
        from trl import DPOConfig, DPOTrainer

        settings = self.settings_of(job.recipe)
        # DPOConfig leaves the Trainer's token count off; on, it counts the chosen and rejected rows'
        # non-padding tokens, as SFT's are counted (tokens/s in the manifest).
        config = {
            "beta": settings.beta,
            "loss_type": [settings.loss_type],
            "include_num_input_tokens_seen": "non_padding",
        }
        return row_trainer(job, DPOTrainer, DPOConfig, config, preference_rows, ref_model=None)
