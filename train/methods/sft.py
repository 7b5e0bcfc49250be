"""sft: supervised fine-tuning, TRL's SFTTrainer on the tokenized samples (assistant turns in the loss).

It trains on every task's chat-shaped data and has no settings of its own: the schedule (train.*) and the
data step's packing and length grouping are all it reads.
"""

from __future__ import annotations

from typing import ClassVar

from tuneforge.registry import Method
from tuneforge.train.engine import sft_config, trainer_dataset
from tuneforge.train.job import TrainingJob


class SFT(Method):
    name: ClassVar[str] = "sft"
    trains_on_task_data: ClassVar[bool] = True

    def build_trainer(self, job: TrainingJob):
        from trl import SFTTrainer

        datasets = job.datasets
        return SFTTrainer(
            model=job.model,
            processing_class=job.tokenizer,
            args=sft_config(job.recipe, job.checkpoints_dir, job.has_val, job.world, job.engine_arguments),
            train_dataset=trainer_dataset(datasets["train"]),
            eval_dataset=trainer_dataset(datasets["val"]) if job.has_val else None,
            callbacks=job.callbacks,
        )
