"""grpo: group relative policy optimization, TRL's GRPOTrainer on {prompt, **fields} rows: prompts (format:
prompts), or any task's samples with their replies as references (tuneforge.data.rows.prompt_rows), scored
by the recipe's rewards (tuneforge.train.rewards). Its held-out measure is the mean weighted reward of
replies sampled for the validation prompts, not a loss."""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from tuneforge.data.rows import prompt_rows
from tuneforge.recipe.schema import PositiveInt, Recipe, Section
from tuneforge.registry import Method
from tuneforge.train.job import TrainingJob
from tuneforge.train.methods.rows import row_trainer
from tuneforge.train.rewards.functions import build_rewards, check_fields
from tuneforge.train.rewards.schema import RewardSpec

# What rewards hold open for training (a judge's connection, or the server of a judge run), closed at exit.
REWARD_RESOURCES = ExitStack()
atexit.register(REWARD_RESOURCES.close)


class GRPOSection(Section):
    """Group relative policy optimization (TRL's GRPOTrainer): sample several replies per prompt, score
    them with the rewards, and raise the better ones against their group's mean."""

    rewards: list[RewardSpec] = Field(min_length=1)
    """What a good reply earns: [{name: chrf | bleu | label_match | format | length | judge | custom, weight, ...}]."""
    num_generations: Annotated[int, Field(ge=2)] = 4
    """Replies sampled per prompt (the group); train.batch_size counts replies and must be a multiple of it."""
    max_completion_length: PositiveInt = 128
    """Longest sampled reply in tokens (a reply cut there is scored as it is)."""
    temperature: Annotated[float, Field(gt=0)] = 1.0
    """Sampling temperature of the replies."""
    beta: Annotated[float, Field(ge=0)] = 0.0
    """KL penalty towards the starting model; 0: none, and no reference pass (TRL's default)."""
    loss_type: Literal["grpo", "dr_grpo", "dapo", "bnpo"] = "dapo"
    """TRL's loss normalisation: dapo (TRL's default: per token over the batch), grpo (per sequence),
    dr_grpo (a constant), bnpo (per token over the local batch)."""
    scale_rewards: Literal["group", "batch", "none"] = "group"
    """Divide the advantages by the rewards' spread in the group, in the batch, or not at all (Dr. GRPO)."""
    eval_prompts: PositiveInt | None = 32
    """Held-out (validation) prompts whose mean reward is measured before and after training; None: all."""


class GRPO(Method):
    name: ClassVar[str] = "grpo"
    settings: ClassVar[type[Section]] = GRPOSection
    settings_required: ClassVar[bool] = True
    formats: ClassVar[tuple[str, ...]] = ("prompts",)
    trains_on_task_data: ClassVar[bool] = True
    held_out: ClassVar[tuple[str, str]] = ("held_out_reward", "eval_reward")
    held_out_higher_is_better: ClassVar[bool] = True
    held_out_title: ClassVar[str] = (
        "Held-out reward (GRPO: mean weighted reward of sampled replies to validation prompts)"
    )

    def check(self, recipe: Recipe) -> list[str]:
        settings, batch = recipe.train.grpo, recipe.train.batch_size
        if settings is None or batch % settings.num_generations == 0:  # absent: settings_required says so
            return []
        return [
            f"train.batch_size: in GRPO it counts sampled replies, so it must be a multiple of "
            f"train.grpo.num_generations ({settings.num_generations}), got {batch}"
        ]

    def preflight(self, recipe: Recipe, samples: list) -> None:
        """Every reward that reads a row field finds it in every prompt."""
        check_fields(recipe.train.grpo.rewards, prompt_rows(samples))

    def build_trainer(self, job: TrainingJob):
        from trl import GRPOConfig, GRPOTrainer

        settings = job.recipe.train.grpo
        # A judge served here (a run folder) lives as long as the trainer; its server dies with this process.
        rewards, weights = build_rewards(settings.rewards, REWARD_RESOURCES, runs_dir=job.runs_dir)
        config = {
            "num_generations": settings.num_generations,
            "max_completion_length": settings.max_completion_length,
            "temperature": settings.temperature,
            "beta": settings.beta,
            "loss_type": settings.loss_type,
            "scale_rewards": settings.scale_rewards,
            "reward_weights": weights,
        }
        return row_trainer(
            job,
            GRPOTrainer,
            GRPOConfig,
            config,
            prompt_rows,
            eval_rows=settings.eval_prompts,
            not_settings=("max_length",),  # not a GRPO setting: replies stop at max_completion_length
            reward_funcs=rewards,
        )
