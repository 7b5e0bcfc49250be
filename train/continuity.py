"""Whether a resumed run really goes on where it stopped: the trainer begins at the checkpoint's step (not at
step 0, which would train the run again), and its first logged loss is in line with the losses logged just
before the stop (a run that restarted from fresh adapter weights, or loaded another run's state, is not).
The verdict goes to the log and to the session's entry in the manifest (`continuity`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.train.callbacks import Callback, read_metrics

log = logging.getLogger(__name__)

# The losses logged up to the checkpoint that say where the run stood: the last few, not the whole curve,
# whose early part lies far above where the run had got to.
LOSS_WINDOW = 5
# Smallest margin around the window, as a share of its mean loss, for windows whose losses happen to lie close
# together (or that hold a single loss).
MIN_MARGIN = 0.10


def losses_before(metrics_path: Path, step: int) -> list[float]:
    """The last LOSS_WINDOW training losses of metrics.jsonl logged at or before `step`."""
    records = read_metrics(metrics_path)
    return [record["loss"] for record in records if "loss" in record and record["step"] <= step][-LOSS_WINDOW:]


def loss_band(losses: list[float]) -> tuple[float, float]:
    """The range a correctly resumed first loss lies in: the window's range, widened on each side by its own
    width (at least MIN_MARGIN of its mean).

    The first loss after a resume is measured on the next batches, with the restored adapter and optimizer,
    a step or a few after the window. Over so few steps the loss moves mostly by batch-to-batch noise, and
    the window's width shows how large that noise is at this point of the run; one more width on either side
    leaves room for a batch as unusual again, and for the slow trend of the curve. A restart from fresh
    adapter weights gives back the loss of step 1, and a wrong optimizer state or learning rate makes the loss
    jump: on a run that has learned anything, those lie several widths away."""
    low, high = min(losses), max(losses)
    margin = max(high - low, MIN_MARGIN * abs(sum(losses) / len(losses)))
    return low - margin, high + margin


def loss_verdict(first_loss: float, before: list[float]) -> dict:
    """The session's record of the first loss against the window before the stop (`in_line` None: no loss was
    logged before the stop, so there is nothing to compare it with)."""
    if not before:
        return {"first_loss": first_loss, "losses_before": [], "band": None, "in_line": None}
    low, high = loss_band(before)
    return {
        "first_loss": first_loss,
        "losses_before": before,
        "band": [low, high],
        "in_line": low <= first_loss <= high,
    }


class ResumeContinuity(Callback):
    """Checks a resumed session at its start (the step) and at its first logged loss; records both in
    `session["continuity"]`. A trainer that did not begin at the checkpoint's step fails the run."""

    def __init__(self, checkpoint_step: int, losses: list[float], session: dict):
        self.checkpoint_step = checkpoint_step
        self.losses = losses
        self.record = session.setdefault("continuity", {"checkpoint_step": checkpoint_step})
        self.max_steps: int | None = None
        self.loss_checked = False

    def on_train_begin(self, args, state, control, **kwargs):
        self.record["began_at_step"] = state.global_step
        if state.global_step != self.checkpoint_step:
            raise UserError(
                f"resuming: training began at step {state.global_step}, not at the checkpoint's step "
                f"{self.checkpoint_step}: the checkpoint's trainer state was not restored",
                fix="check that the checkpoint's trainer_state.json is complete and belongs to this run, "
                "or start a new run with --resume none",
            )
        self.max_steps = state.max_steps
        if state.global_step >= state.max_steps:
            log.warning(
                "resumed at step %d, and the schedule ends at step %d: nothing is left to train; the run "
                "finishes with the checkpoint's weights",
                state.global_step,
                state.max_steps,
            )
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.loss_checked or "loss" not in (logs or {}):
            return control
        self.loss_checked = True
        verdict = loss_verdict(logs["loss"], self.losses)
        self.record.update(verdict, first_loss_step=state.global_step)
        if state.is_world_process_zero:
            report_verdict(verdict, self.checkpoint_step, self.max_steps)
        return control


def report_verdict(verdict: dict, step: int, max_steps: int | None) -> None:
    where = f"resumed at step {step} of {max_steps}"
    first = f"{verdict['first_loss']:.4g}"
    if verdict["in_line"] is None:
        log.info("%s; first loss %s (no loss was logged before the stop to compare it with)", where, first)
        return
    before = f"{min(verdict['losses_before']):.4g}-{max(verdict['losses_before']):.4g}"
    if verdict["in_line"]:
        log.info("%s; first loss %s, in line with %s before the stop", where, first, before)
    else:
        log.warning(
            "%s; first loss %s, far out of line with %s before the stop: check that the checkpoint is this "
            "run's and that its data and settings are what it trained with",
            where,
            first,
            before,
        )
