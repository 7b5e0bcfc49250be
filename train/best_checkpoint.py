"""Checkpoints judged by the method's held-out measure: train.early_stopping and train.keep_best.

transformers does the work: `metric_for_best_model` tracks the best measure and its step (TrainerState's
best_metric and best_global_step), `load_best_model_at_end` loads the best checkpoint's adapter when training
ends (and checkpoint rotation never deletes it), and its EarlyStoppingCallback stops training. This module
sets them from the recipe for every method alike (tuneforge.train.engine.training_arguments) and reads back
what happened, for the manifest and the loss plot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.recipe.schema import Recipe, TrainSection
from tuneforge.registry import get_method
from tuneforge.train.callbacks import Callback

log = logging.getLogger(__name__)


def judges_checkpoints(train: TrainSection) -> bool:
    return train.early_stopping is not None or train.keep_best


def best_checkpoint_arguments(recipe: Recipe, evaluates: bool) -> dict:
    """The trainer arguments of early stopping and keep_best; `evaluates`: whether the trainer measures the
    held-out split during training (a validation split with samples, and train.eval_steps)."""
    train = recipe.train
    if not judges_checkpoints(train):
        return {}
    if not evaluates:  # the recipe checks ask for a split; here it came out empty (a tiny data set, data filters)
        key = "early_stopping" if train.early_stopping else "keep_best"
        raise UserError(
            f"train.{key}: the validation split has no samples to measure (see the data report)",
            fix=f"give data.split.val a larger share or data.val a file with samples, or turn train.{key} off",
        )
    method = get_method(train.method)
    return {
        "metric_for_best_model": method.held_out[1],
        "greater_is_better": method.held_out_higher_is_better,
        "load_best_model_at_end": train.keep_best,
    }


def early_stopping_callbacks(train: TrainSection) -> list:
    """transformers' EarlyStoppingCallback where train.early_stopping is set (after Unsloth patched transformers),
    with the patience counter of the checkpoint a resumed session starts from."""
    if train.early_stopping is None:
        return []
    from transformers import EarlyStoppingCallback

    settings = train.early_stopping
    stopper = EarlyStoppingCallback(
        early_stopping_patience=settings.patience, early_stopping_threshold=settings.min_delta
    )
    return [stopper, CountedPatience(stopper)]


class CountedPatience(Callback):
    """A resumed session goes on counting evaluations without improvement from the checkpoint's count.

    The count is in the checkpoint's trainer_state.json (stateful_callbacks; the best measure it is counted
    against is TrainerState's own best_metric, always restored). transformers' own restoring of callback states
    would rebuild the callback with the checkpoint's patience and min_delta too, silently ignoring a resumed
    recipe that changed them (a safe change: tuneforge.train.resume_changes)."""

    def __init__(self, stopper):
        self.stopper = stopper

    def on_train_begin(self, args, state, control, **kwargs):
        name = type(self.stopper).__name__
        # A fresh run has the stopper's own state here; a run that turns early stopping on when resumed has none,
        # and the Trainer's checkpoint save expects an entry for every stateful callback.
        saved = state.stateful_callbacks.setdefault(name, self.stopper.state())
        self.stopper.early_stopping_patience_counter = saved["attributes"]["early_stopping_patience_counter"]
        return control


@dataclass(frozen=True)
class CheckpointChoice:
    """Which adapter a finished training session ends with, and why."""

    measure: str
    """The method's held-out measure (held_out_loss, held_out_reward): the manifest key of best_value."""
    adapter_step: int
    """The step of the adapter the run keeps: the best checkpoint's (keep_best) or the last step."""
    kept_best: bool
    best_step: int | None = None
    best_value: float | None = None
    early_stopped_at: int | None = None
    """The step early stopping ended training at, before the schedule's end; None: it did not."""

    def to_manifest(self, train: TrainSection) -> dict:
        """The manifest's metrics: always which adapter was kept; the best step and measure, and the early stop,
        where the recipe asked for them."""
        record = {"adapter_kept": "best" if self.kept_best else "last", "adapter_step": self.adapter_step}
        if judges_checkpoints(train):
            record |= {"best_step": self.best_step, f"best_{self.measure}": self.best_value}
        if train.early_stopping is not None:
            record["early_stopped_at_step"] = self.early_stopped_at
        return record


def checkpoint_choice(trainer, recipe: Recipe) -> CheckpointChoice:
    """What the trainer kept, read from its state once train() returned (not after a stop signal)."""
    state = trainer.state
    # The Trainer loads the best checkpoint only if it still exists; its step is that folder's, which is
    # best_global_step unless the best measure fell on a step without a checkpoint (save_steps > eval_steps).
    kept_best = recipe.train.keep_best and state.best_model_checkpoint is not None
    choice = CheckpointChoice(
        measure=get_method(recipe.train.method).held_out[0],
        adapter_step=checkpoint_step(state.best_model_checkpoint) if kept_best else state.global_step,
        kept_best=kept_best,
        best_step=state.best_global_step,
        best_value=state.best_metric,
        early_stopped_at=state.global_step if state.global_step < state.max_steps else None,
    )
    if recipe.train.keep_best and choice.best_step is None:
        log.warning("train.keep_best: no held-out measure was taken during training (fewer steps than eval_steps)")
    elif recipe.train.keep_best and choice.adapter_step != choice.best_step:
        log.warning(
            "train.keep_best: the best held-out measure was at step %s, which has no checkpoint; kept the adapter "
            "of step %s (set train.save_steps equal to train.eval_steps to keep the very best)",
            choice.best_step,
            choice.adapter_step,
        )
    return choice


def checkpoint_step(checkpoint: str) -> int:
    return int(Path(checkpoint).name.removeprefix("checkpoint-"))
