"""One training session's pieces, as a method's `build_trainer(job)` receives them.

Everything here is shared by the methods (tuneforge/train/methods/): the model with its LoRA, the
tokenizer, the recipe, the tokenized splits and the folder of the split samples they came from, the
run folder, the callbacks, the processes and what the distributed engine asks of the trainer. A method
adds its own settings to `job.arguments()` and hands the lot to its TRL trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneforge.recipe.schema import Recipe
from tuneforge.train.distributed import World
from tuneforge.train.engine import training_arguments


@dataclass
class TrainingJob:
    model: Any
    """The base model with its adapter (a fresh LoRA, or model.adapter's to train further)."""
    tokenizer: Any
    recipe: Recipe
    datasets: dict
    """The tokenized splits by name (train, val, test): what SFT trains on, and the samples the data step kept."""
    split_folder: Path
    """The folder of the split samples (train.jsonl ...), read by the methods whose trainer tokenizes rows itself."""
    run_dir: Path
    callbacks: list = field(default_factory=list)
    world: World = field(default_factory=World)
    engine_arguments: dict = field(default_factory=dict)
    """Trainer arguments of the distributed strategy (a DeepSpeed config)."""

    @property
    def checkpoints_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    @property
    def runs_dir(self) -> Path:
        """The folder of every recipe's runs (runs/<recipe>/<run-id> is this run)."""
        return self.run_dir.parent.parent

    @property
    def has_val(self) -> bool:
        return len(self.datasets["val"]) > 0

    def arguments(self, has_val: bool | None = None) -> dict:
        """The settings every method's TRL config shares (schedule, optimizer, checkpoints, logging, devices);
        `has_val`: whether the trainer gets validation data (default: the tokenized validation split has samples)."""
        has_val = self.has_val if has_val is None else has_val
        return training_arguments(self.recipe, self.checkpoints_dir, has_val, self.world, self.engine_arguments)
