"""Early stopping and keep_best on the tiny model through the real Unsloth + TRL path: training stops before
max_steps, the run keeps the best checkpoint's adapter, a resumed run keeps the patience counter and the best
measure, and a run whose matplotlib cannot even be imported still completes. The recipe checks and the plot's
marks: tests/unit/test_best_checkpoint.py, tests/unit/test_plots.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import pair_records, preference_recipe, tiny_recipe, write_jsonl
from tuneforge.recipe.loading import load_recipe
from tuneforge.runs import latest_checkpoint, read_manifest
from tuneforge.train.resume import checkpoint_step, trainer_state

pytestmark = pytest.mark.integration

# No evaluation can improve on the best before it by more than this: each one counts against the patience.
NEVER_IMPROVES = 1e6


def held_out_losses(run_dir, eval_steps: int) -> dict[int, float]:
    """The held-out loss measured during training, by step: the first measure at each multiple of eval_steps
    (the measure before training is logged at step 0, the one after it last, at the final step)."""
    losses = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if "eval_loss" in record and record["step"] > 0 and record["step"] % eval_steps == 0:
            losses.setdefault(record["step"], record["eval_loss"])
    return losses


def wait_for(path: Path, process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"training exited early: {log.read_text()[-3000:]}")
        if time.time() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout}s")
        time.sleep(0.01)


def best_of(losses: dict[int, float]) -> tuple[int, float]:
    step = min(losses, key=losses.get)
    return step, losses[step]


def test_early_stopping_stops_and_keep_best_ends_with_the_best_checkpoint_s_adapter(
    tiny_llama_dir, tmp_path, monkeypatch
):
    """DPO whose validation pairs are its training pairs with chosen and rejected swapped: every step that
    learns the training preference worsens the held-out loss, so the first measure in training is the best."""
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    from safetensors.torch import load_file

    from tuneforge.train.finetune import train_recipe

    pairs = pair_records(12)[:12]
    write_jsonl(tmp_path / "pairs.jsonl", pairs)
    write_jsonl(
        tmp_path / "swapped.jsonl", [pair | {"chosen": pair["rejected"], "rejected": pair["chosen"]} for pair in pairs]
    )
    schedule = dict(max_steps=8, eval_steps=1, save_steps=1, save_total_limit=2, early_stopping={"patience": 2})
    path = preference_recipe(tmp_path, tiny_llama_dir, **schedule, keep_best=True)
    recipe, source = load_recipe(path, ["data.train=pairs.jsonl", "data.split.val=0", "data.val=swapped.jsonl"])
    run_dir = train_recipe(recipe, source, tmp_path / "runs", resume="none")

    losses = held_out_losses(run_dir, eval_steps=1)
    assert losses[1] < losses[2] < losses[3], losses
    metrics = read_manifest(run_dir)["metrics"]
    assert metrics["global_step"] == metrics["early_stopped_at_step"] == 3  # 2 and 3 worse than 1: patience 2
    assert metrics["adapter_kept"] == "best" and metrics["adapter_step"] == metrics["best_step"] == 1
    assert metrics["best_held_out_loss"] == pytest.approx(losses[1], rel=1e-6)
    # held_out_loss_after is measured on the adapter the run ends with: the best checkpoint's
    assert metrics["held_out_loss_after"] == pytest.approx(losses[1], rel=1e-4)

    checkpoints = run_dir / "checkpoints"
    assert sorted(p.name for p in checkpoints.glob("checkpoint-*")) == [
        "checkpoint-1",
        "checkpoint-3",
    ]  # rotation kept the best
    kept = load_file(run_dir / "adapter" / "adapter_model.safetensors")
    best = load_file(checkpoints / "checkpoint-1" / "adapter_model.safetensors")
    last = load_file(checkpoints / "checkpoint-3" / "adapter_model.safetensors")
    assert kept.keys() == best.keys() and all((kept[name] == best[name]).all() for name in kept)
    assert any(not (kept[name] == last[name]).all() for name in kept)
    assert (run_dir / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_a_resumed_run_keeps_the_patience_counter_and_the_best_measure(tiny_llama_dir, tmp_path, monkeypatch):
    """Killed early, resumed: it stops where one uninterrupted run stops. Measured every 2 steps, the first
    measure is the best and each later one counts against a patience of 5, so it stops at step 12 whichever
    checkpoint (4 ... 10) the kill left; a count started again from 0 would go on to step 14 or later, and a
    forgotten best measure would make the first measure after the resume the best again."""
    schedule = dict(max_steps=40, eval_steps=2, save_steps=2, save_total_limit=2, logging_steps=1)
    patience = {"patience": 5, "min_delta": NEVER_IMPROVES}
    recipe_path = tiny_recipe(tmp_path, tiny_llama_dir, **schedule, early_stopping=patience)
    runs = tmp_path / "runs"
    env = {**os.environ, "TUNEFORGE_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "tuneforge", "train", str(recipe_path), "--runs-dir", str(runs)]
    log = tmp_path / "train.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(runs / "tiny", process, log)
        (run_dir,) = (runs / "tiny").iterdir()
        wait_for(run_dir / "checkpoints" / "checkpoint-4" / "trainer_state.json", process, log)
    finally:
        process.send_signal(signal.SIGKILL)  # no chance to clean up, like a power cut or OOM kill
        process.wait()
    assert read_manifest(run_dir)["status"] == "running"
    killed_at = latest_checkpoint(run_dir)
    counted = trainer_state(killed_at)["stateful_callbacks"]["EarlyStoppingCallback"]["attributes"]
    assert counted["early_stopping_patience_counter"] == checkpoint_step(killed_at) // 2 - 1 > 0

    from tuneforge.train.finetune import train_recipe

    monkeypatch.setenv("TUNEFORGE_CACHE", env["TUNEFORGE_CACHE"])
    recipe, source = load_recipe(recipe_path)
    assert train_recipe(recipe, source, runs, resume="auto") == run_dir
    metrics = read_manifest(run_dir)["metrics"]
    assert metrics["global_step"] == metrics["early_stopped_at_step"] == 12
    best_step, best_loss = best_of(held_out_losses(run_dir, eval_steps=2))  # over both sessions' measures
    assert metrics["best_step"] == best_step and metrics["best_held_out_loss"] == pytest.approx(best_loss, rel=1e-6)
    assert metrics["adapter_kept"] == "last" and metrics["adapter_step"] == 12


def test_a_run_whose_matplotlib_fails_to_import_completes_without_its_plot(tiny_llama_dir, tmp_path):
    """Fault injection of a real failure: a `matplotlib` package first on the path whose import raises what
    matplotlib's font extension raised while rank 0 drew loss.png in a two-process run."""
    faults = tmp_path / "faults" / "matplotlib"
    faults.mkdir(parents=True)
    (faults / "__init__.py").write_text('raise ImportError("initialization failed")\n')
    recipe_path = tiny_recipe(tmp_path, tiny_llama_dir, max_steps=2, eval_steps=None, save_steps=2)
    # COLUMNS: the console's log lines unwrapped, so that the warning reads as one line here
    environment = {
        **os.environ,
        "PYTHONPATH": str(faults.parent),
        "TUNEFORGE_CACHE": str(tmp_path / "cache"),
        "COLUMNS": "1000",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tuneforge", "train", str(recipe_path), "--runs-dir", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (run_dir,) = (tmp_path / "runs" / "tiny").iterdir()
    assert read_manifest(run_dir)["status"] == "complete"
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file() and not (run_dir / "loss.png").exists()
    assert f"could not draw {run_dir / 'loss.png'} (ImportError: initialization failed)" in result.stderr
