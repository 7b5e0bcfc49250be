"""Trainer callbacks: every logged metric to metrics.jsonl, the loss curve as loss.png, a stop at
the next step boundary on SIGTERM / Ctrl-C, a check that the distributed strategy engaged, and the run's
settings for the experiment trackers."""

from __future__ import annotations

import json
import logging
import re
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from tuneforge.errors import StopRequested
from tuneforge.plots import pyplot, reporting_plot, save_figure
from tuneforge.train.distributed import World, any_rank
from tuneforge.train.strategy import check_in_effect
from tuneforge.train.tracking import log_run_parameters, run_parameters

log = logging.getLogger(__name__)


class Callback:
    """transformers' TrainerCallback protocol, without importing transformers with this module (the training
    modules load before Unsloth, which must patch transformers first). The Trainer calls every event on
    every callback; the events a subclass leaves out do nothing."""

    def __getattr__(self, name: str):
        if name.startswith("on_"):
            return _ignore_event
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def _ignore_event(args, state, control, **kwargs) -> None:
    return None


class MetricsFile(Callback):
    """Appends each log event as one JSON line; a resumed run keeps appending to the same file."""

    def __init__(self, path: Path):
        self.path = path
        self.started = time.time()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero:  # every rank logs the same (reduced) values; one writes
            return
        record = {
            "step": state.global_step,
            "max_steps": state.max_steps,  # the total, so a reader (the studio) can show progress and an ETA
            "epoch": state.epoch,
            "elapsed_s": round(time.time() - self.started, 2),
        }
        record.update(logs or {})
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# A repeat this soon is the same request arriving twice (torchrun and SLURM pass a stop on to every
# process that already got it); a later one means "stop now".
REPEAT_IS_SAME_REQUEST_S = 5.0


class StopAtStepBoundary(Callback):
    """A stop signal during training ends it at the next step boundary, after a checkpoint of that
    step, on every rank at once (the ranks agree on the step with one all-reduce per step)."""

    def __init__(self, world: World):
        self.world = world
        self.signum: int | None = None
        self.requested_at = 0.0
        self.stopped_at: int | None = None

    def on_step_end(self, args, state, control, **kwargs):
        if any_rank(self.signum is not None, self.world):
            self.signum = self.signum or signal.SIGTERM  # another rank got it
            self.stopped_at = state.global_step
            control.should_save = True
            control.should_training_stop = True
        return control

    @contextmanager
    def armed(self):
        """While the block runs, a first stop signal is recorded; a second one stops at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_stop(signum, frame):
            if self.signum is None:
                self.signum, self.requested_at = signum, time.monotonic()
                log.warning(
                    "%s: stopping after this step, with a checkpoint (send it again to stop at once)",
                    signal.Signals(signum).name,
                )
            elif time.monotonic() - self.requested_at > REPEAT_IS_SAME_REQUEST_S:
                raise StopRequested(signum)

        previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
        for signum in STOP_SIGNALS:
            signal.signal(signum, request_stop)
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


class StrategyCheck(Callback):
    """Fails the run at its start when the strategy in effect is not the one asked for."""

    def __init__(self, requested: str):
        self.requested = requested
        self.trainer = None  # set once the trainer exists
        self.in_effect: str | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.in_effect = check_in_effect(self.requested, self.trainer)
        return control


class TrackedSettings(Callback):
    """The run's settings (tuneforge.train.tracking.run_parameters) into the trackers of train.report_to, at the
    start of training: added after the Trainer's own tracker callbacks, it runs once they opened their runs."""

    def __init__(self, trainer, recipe, manifest: dict):
        self.trainer, self.recipe, self.manifest = trainer, recipe, manifest

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:  # the trackers are open on rank 0 only
            log_run_parameters(self.trainer, run_parameters(self.recipe, self.manifest))
        return control


def read_metrics(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@reporting_plot
def plot_loss(
    metrics_path: Path, output: Path, best_step: int | None = None, stopped_step: int | None = None
) -> Path | None:
    """Training loss per step, with held-out loss where it was measured; for GRPO, a second panel with
    each reward's mean per step (and its spread) and the held-out reward. `best_step` (the best held-out
    measure, train.keep_best / early_stopping) and `stopped_step` (where early stopping ended training) are
    marked with vertical lines on every panel."""
    records = read_metrics(metrics_path)
    title = f"{output.parent.parent.name} / {output.parent.name}"  # recipe / run id
    figure = loss_figure(records, title, step_marks(best_step, stopped_step))
    if figure is None:
        log.warning("no losses were logged; skipping %s", output.name)
        return None
    save_figure(figure, output)
    return output


def step_marks(best_step: int | None, stopped_step: int | None) -> list[tuple[int, str, str]]:
    """(step, legend label, line style) of each step to mark."""
    marks = []
    if best_step is not None:
        marks.append((best_step, f"best held-out measure (step {best_step})", "--"))
    if stopped_step is not None:
        marks.append((stopped_step, f"early stop (step {stopped_step})", ":"))
    return marks


def loss_figure(records: list[dict], title: str, marks: list[tuple[int, str, str]]):
    """The figure of plot_loss, or None when no loss was logged."""
    train = [(r["step"], r["loss"]) for r in records if "loss" in r]
    held_out = [(r["step"], r["eval_loss"]) for r in records if "eval_loss" in r and "eval_reward" not in r]
    # GRPO logs rewards/<name>/mean per reward (DPO's rewards/chosen, /margins ... are not such curves)
    rewards = sorted({key.split("/")[1] for r in records for key in r if re.fullmatch(r"rewards/[^/]+/mean", key)})
    if not train and not held_out:
        return None
    figure, panels = pyplot().subplots(1, 2 if rewards else 1, figsize=(12 if rewards else 7, 4), squeeze=False)
    axes = panels[0][0]
    if train:
        axes.plot(*zip(*train), label="train loss", linewidth=1.5)
    if held_out:
        axes.plot(*zip(*held_out), "o-", label="held-out loss", linewidth=1.5)
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("GRPO loss" if rewards else "cross-entropy (assistant tokens)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if rewards:
        plot_rewards(panels[0][1], records, rewards)
    for panel in panels[0]:
        for step, label, style in marks:
            panel.axvline(step, color="dimgray", linestyle=style, linewidth=1.2, label=label)
        panel.legend()
    return figure


def plot_rewards(axes, records: list[dict], rewards: list[str]) -> None:
    for name in rewards:
        logged = [
            (r["step"], r[f"rewards/{name}/mean"], r.get(f"rewards/{name}/std", 0.0))
            for r in records
            if f"rewards/{name}/mean" in r
        ]
        steps, means, spreads = zip(*logged)
        axes.plot(steps, means, label=f"{name} (mean)", linewidth=1.5)
        axes.fill_between(
            steps, [m - s for m, s in zip(means, spreads)], [m + s for m, s in zip(means, spreads)], alpha=0.15
        )
    held_out = [(r["step"], r["eval_reward"]) for r in records if "eval_reward" in r]
    if held_out:
        axes.plot(*zip(*held_out), "o-", color="black", label="held-out reward (weighted sum)", linewidth=1.5)
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("reward of sampled replies (mean ± spread)")
    axes.grid(alpha=0.3)
