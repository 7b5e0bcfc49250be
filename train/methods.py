"""`train.method`: the one place that picks TRL's trainer and config for a method, as Unsloth patches
them (importing unsloth patches TRL's trainers itself). Everything around the trainer (model, LoRA,
data, run folder, resume, devices, export) is shared; a method adds only its own settings and the
shape of data its trainer reads.

- sft: SFTTrainer on the tokenized samples (assistant turns in the loss).
- dpo, orpo: DPOTrainer / ORPOTrainer (trl.experimental) on {prompt, chosen, rejected} rows from the
  run's split files; kto: KTOTrainer on {prompt, completion, label} rows. TRL tokenizes them.
- grpo: GRPOTrainer on {prompt, **fields} rows (tuneforge/tasks/prompts/data.py: prompts, or any task's
  samples with their replies as references), scored by the recipe's rewards (train/rewards.py). Its
  held-out measure is the mean reward on validation prompts, not a loss.
- The reference of dpo and kto is the starting model: with no `model.adapter`, the fresh adapter
  (a zero update, i.e. the base model); with one, TRL copies the loaded adapter into a frozen "ref"
  adapter, so the reference is the SFT model itself, not the bare base. ORPO has no reference; GRPO
  has one only with a KL penalty (train.grpo.beta > 0).
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from pathlib import Path

from tuneforge.recipe import DPOSection, KTOSection, ORPOSection, Recipe
from tuneforge.train.distributed import World
from tuneforge.train.engine import sft_config, trainer_dataset, training_arguments

# What rewards hold open for training (a judge's connection, or the server of a judge run), closed at exit.
REWARD_RESOURCES = ExitStack()
atexit.register(REWARD_RESOURCES.close)
# What each method's evaluation reports as its held-out measure: (metrics key prefix, Trainer log key).
HELD_OUT = {"grpo": ("held_out_reward", "eval_reward")}
HELD_OUT_LOSS = ("held_out_loss", "eval_loss")


def held_out_measure(method: str) -> tuple[str, str]:
    return HELD_OUT.get(method, HELD_OUT_LOSS)


def build_trainer(
    model, tokenizer, recipe: Recipe, datasets: dict, data, run_dir: Path, callbacks, world: World, engine
):
    """The method's TRL trainer. `datasets` holds the tokenized splits, `data` the folder of the split
    samples (read by the methods whose trainer tokenizes rows itself)."""
    builders = {"sft": sft_trainer, "dpo": dpo_trainer, "orpo": orpo_trainer, "kto": kto_trainer, "grpo": grpo_trainer}
    return builders[recipe.train.method](model, tokenizer, recipe, datasets, data, run_dir, callbacks, world, engine)


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
    from trl import DPOConfig, DPOTrainer

    from tuneforge.tasks.preference.data import preference_rows

    settings = recipe.train.dpo or DPOSection()
    # DPOConfig leaves the Trainer's token count off; on, it counts the chosen and rejected rows'
    # non-padding tokens, as SFT's are counted (tokens/s in the manifest).
    method = {"beta": settings.beta, "loss_type": [settings.loss_type], "include_num_input_tokens_seen": "non_padding"}
    shared = (model, tokenizer, recipe, (datasets, data), run_dir, callbacks, world, engine)
    return row_trainer(DPOTrainer, DPOConfig, method, preference_rows, *shared, ref_model=None)


def orpo_trainer(model, tokenizer, recipe, datasets, data, run_dir, callbacks, world, engine):
    from trl.experimental.orpo import ORPOConfig, ORPOTrainer

    from tuneforge.tasks.preference.data import preference_rows

    method = {"beta": (recipe.train.orpo or ORPOSection()).beta}
    shared = (model, tokenizer, recipe, (datasets, data), run_dir, callbacks, world, engine)
    return row_trainer(ORPOTrainer, ORPOConfig, method, preference_rows, *shared)


def kto_trainer(model, tokenizer, recipe, datasets, data, run_dir, callbacks, world, engine):
    from trl import KTOConfig, KTOTrainer

    from tuneforge.tasks.preference.data import marked_rows

    settings = recipe.train.kto or KTOSection()
    method = settings.model_dump()  # beta, desirable_weight, undesirable_weight: TRL's own names
    shared = (model, tokenizer, recipe, (datasets, data), run_dir, callbacks, world, engine)
    return row_trainer(KTOTrainer, KTOConfig, method, marked_rows, *shared, ref_model=None)


def grpo_trainer(model, tokenizer, recipe, datasets, data, run_dir, callbacks, world, engine):
    from trl import GRPOConfig, GRPOTrainer

    from tuneforge.tasks.prompts.data import prompt_rows
    from tuneforge.train.rewards import build_rewards

    settings = recipe.train.grpo
    # A judge served here (a run folder) lives as long as the trainer; its server dies with this process.
    rewards, weights = build_rewards(settings.rewards, REWARD_RESOURCES, runs_dir=run_dir.parent.parent)
    method = {
        "num_generations": settings.num_generations,
        "max_completion_length": settings.max_completion_length,
        "temperature": settings.temperature,
        "beta": settings.beta,
        "loss_type": settings.loss_type,
        "scale_rewards": settings.scale_rewards,
        "reward_weights": weights,
    }
    shared = (model, tokenizer, recipe, (datasets, data), run_dir, callbacks, world, engine)
    trainer = row_trainer(
        GRPOTrainer,
        GRPOConfig,
        method,
        prompt_rows,
        *shared,
        eval_rows=settings.eval_prompts,
        not_settings=("max_length",),  # not a GRPO setting: replies stop at max_completion_length
        reward_funcs=rewards,
    )
    return trainer


def kept_samples(samples: list, tokenized) -> list:
    """The split samples the tokenizing step kept: one that data.filter.overlength dropped (and the data
    report counts as dropped) must not reach a trainer that reads the samples themselves."""
    kept = set(tokenized["source"])
    return [sample for sample in samples if sample.source in kept]


def row_trainer(
    trainer_class,
    config_class,
    method: dict,
    rows_of,
    model,
    tokenizer,
    recipe,
    data,
    run_dir,
    callbacks,
    world,
    engine,
    eval_rows: int | None = None,
    not_settings: tuple[str, ...] = (),
    **extra,
):
    """A trainer that tokenizes rows itself (DPO, ORPO, KTO, GRPO): the split samples as TRL's rows,
    the validation rows cut to `eval_rows` where given. `data` is (the tokenized splits, the folder of
    the split samples)."""
    from datasets import Dataset

    from tuneforge.data.splits import SPLITS, read_split_file

    datasets, folder = data
    rows = {
        split: rows_of(kept_samples(read_split_file(folder / f"{split}.jsonl"), datasets[split])) for split in SPLITS
    }
    rows["val"] = rows["val"][:eval_rows]
    has_val = bool(rows["val"])
    arguments = training_arguments(recipe, run_dir / "checkpoints", has_val, world, engine) | method
    for key in not_settings:  # shared settings this method's config does not have
        del arguments[key]
    return trainer_class(
        model=model,
        processing_class=tokenizer,
        args=config_class(**arguments),
        train_dataset=Dataset.from_list(rows["train"]),
        eval_dataset=Dataset.from_list(rows["val"]) if has_val else None,
        callbacks=callbacks,
        **extra,
    )
