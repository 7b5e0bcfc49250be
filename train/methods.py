"""`train.method`: the one place that picks TRL's trainer and config for a method, as Unsloth patches
them (importing unsloth patches TRL's trainers itself). Everything around the trainer (model, LoRA,
data, run folder, resume, devices, export) is shared; a method adds only its own settings and the
shape of data its trainer reads.

- sft: SFTTrainer on the tokenized samples (assistant turns in the loss).
- dpo: DPOTrainer on {prompt, chosen, rejected} rows from the run's split files; TRL tokenizes them.
  Its reference is the starting model: with no `model.adapter`, the fresh adapter (zero update,
  i.e. the base model); with one, TRL copies the loaded adapter into a frozen "ref" adapter, so
  the reference is the SFT model itself, not the bare base.
"""

from __future__ import annotations

from pathlib import Path

from tuneforge.recipe import DPOSection, Recipe
from tuneforge.train.distributed import World
from tuneforge.train.engine import sft_config, trainer_dataset, training_arguments


def build_trainer(
    model, tokenizer, recipe: Recipe, datasets: dict, data, run_dir: Path, callbacks, world: World, engine
):
    """The method's TRL trainer. `datasets` holds the tokenized splits, `data` the split samples."""
    builder = {"sft": sft_trainer, "dpo": dpo_trainer}[recipe.train.method]
    return builder(model, tokenizer, recipe, datasets, data, run_dir, callbacks, world, engine)


def sft_trainer(model, tokenizer, recipe, datasets, data, run_dir, callbacks, world, engine):
    from trl import SFTTrainer

    has_val = len(datasets["val"]) > 0
    return SFTTrainer(
        model=model,
        processing_class=tokenizer,
        args=sft_config(recipe, run_dir / "checkpoints", has_val, world, engine),
        train_dataset=trainer_dataset(datasets["train"]),
        eval_dataset=trainer_dataset(datasets["val"]) if has_val else None,
        callbacks=callbacks,
    )


def dpo_trainer(model, tokenizer, recipe, datasets, data, run_dir, callbacks, world, engine):
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from tuneforge.tasks.preference.data import preference_rows

    rows = {split: preference_rows(samples) for split, samples in data.items()}
    settings = recipe.train.dpo or DPOSection()
    has_val = bool(rows["val"])
    return DPOTrainer(
        model=model,
        ref_model=None,  # the frozen reference is the starting adapter (see the module docstring)
        processing_class=tokenizer,
        args=DPOConfig(
            **training_arguments(recipe, run_dir / "checkpoints", has_val, world, engine),
            beta=settings.beta,
            loss_type=[settings.loss_type],
        ),
        train_dataset=Dataset.from_list(rows["train"]),
        eval_dataset=Dataset.from_list(rows["val"]) if has_val else None,
        callbacks=callbacks,
    )
