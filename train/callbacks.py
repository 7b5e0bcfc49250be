"""Trainer callbacks: every logged metric to metrics.jsonl, and the loss curve as loss.png."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from transformers import TrainerCallback

log = logging.getLogger(__name__)


class MetricsFile(TrainerCallback):
    """Appends each log event as one JSON line; a resumed run keeps appending to the same file."""

    def __init__(self, path: Path):
        self.path = path
        self.started = time.time()

    def on_log(self, args, state, control, logs=None, **kwargs):
        record = {"step": state.global_step, "epoch": state.epoch, "elapsed_s": round(time.time() - self.started, 2)}
        record.update(logs or {})
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


def read_metrics(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_loss(metrics_path: Path, output: Path) -> Path | None:
    """Training loss per step, with held-out loss where it was measured."""
    from tuneforge.plots import pyplot, save_figure

    plt = pyplot()
    records = read_metrics(metrics_path)
    train = [(r["step"], r["loss"]) for r in records if "loss" in r]
    held_out = [(r["step"], r["eval_loss"]) for r in records if "eval_loss" in r]
    if not train and not held_out:
        log.warning("no losses were logged; skipping %s", output.name)
        return None
    figure, axes = plt.subplots(figsize=(7, 4))
    if train:
        axes.plot(*zip(*train), label="train loss", linewidth=1.5)
    if held_out:
        axes.plot(*zip(*held_out), "o-", label="held-out loss", linewidth=1.5)
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("cross-entropy (assistant tokens)")
    axes.set_title(f"{output.parent.parent.name} / {output.parent.name}")  # recipe / run id
    axes.grid(alpha=0.3)
    axes.legend()
    save_figure(figure, output)
    return output
