"""A killed training run is not mistaken for a finished one, and resumes from its checkpoint. The
resume selection rules: tests/unit/test_resume.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import tiny_recipe
from tuneforge.cli import main
from tuneforge.recipe.loading import load_recipe
from tuneforge.runs import latest_checkpoint, read_manifest

pytestmark = pytest.mark.integration


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"training exited early: {process.stderr.read()[-3000:]}")
        if time.time() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout}s")
        time.sleep(0.1)


def test_killed_run_resumes_from_its_last_checkpoint(tiny_llama_dir, tmp_path, monkeypatch):
    recipe_path = tiny_recipe(
        tmp_path, tiny_llama_dir, max_steps=200, save_steps=4, eval_steps=None, logging_steps=1, save_total_limit=3
    )
    runs = tmp_path / "runs"
    env = {**os.environ, "TUNEFORGE_CACHE": str(tmp_path / "cache")}
    process = subprocess.Popen(
        [sys.executable, "-m", "tuneforge", "train", str(recipe_path), "--runs-dir", str(runs)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(runs / "tiny", process)
        (run_dir,) = (runs / "tiny").iterdir()
        wait_for(run_dir / "checkpoints" / "checkpoint-8" / "trainer_state.json", process)
    finally:
        process.send_signal(signal.SIGKILL)  # no chance to clean up, like a power cut or OOM kill
        process.wait()

    assert read_manifest(run_dir)["status"] == "running" and not (run_dir / "adapter").exists()
    refused = CliRunner().invoke(main, ["eval", str(run_dir)])
    assert refused.exit_code == 2 and "not a complete run" in refused.output
    killed_at = int(latest_checkpoint(run_dir).name.split("-")[1])
    assert 8 <= killed_at < 200

    from tuneforge.train.finetune import train_recipe

    monkeypatch.setenv("TUNEFORGE_CACHE", env["TUNEFORGE_CACHE"])  # for this test only: later tests need the real cache
    recipe, source = load_recipe(recipe_path)
    resumed = train_recipe(recipe, source, runs, resume="auto")
    assert resumed == run_dir
    manifest = read_manifest(run_dir)
    assert manifest["status"] == "complete" and manifest["metrics"]["global_step"] == 200
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    loss_steps = [r["step"] for r in records if "loss" in r]
    assert loss_steps.count(1) == 1, "the resumed run must continue from the checkpoint, not from step 0"
    assert loss_steps == list(range(1, 201)), "every step once: what was logged after the checkpoint is dropped"
