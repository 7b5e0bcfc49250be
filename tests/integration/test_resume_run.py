"""A killed training run is not mistaken for a finished one, and resumes from its checkpoint; a stopped run
resumes through the CLI across a safe change (a longer schedule) and refuses changes that would corrupt it.
The resume selection rules: tests/unit/test_resume.py; which changes are safe: tests/unit/test_resume_changes.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from helpers import full_precision_recipe, sharegpt_records, tiny_recipe, write_jsonl
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


# ---------------------------------------------------------------- what a resume may change (through the CLI)


@pytest.fixture(scope="module")
def stopped_run(tiny_llama_dir, tmp_path_factory) -> tuple[Path, Path, int]:
    """(recipe, run folder, step): a 12-step run of the tiny model stopped by SIGTERM once step 3 is logged, as
    a cluster preempts it; it stops at the next step boundary with a checkpoint of that step."""
    folder = tmp_path_factory.mktemp("stopped")
    data = {"format": "sharegpt", "train": write_jsonl(folder / "data.jsonl", sharegpt_records(24)).name}
    schedule = {"max_steps": 12, "batch_size": 4, "grad_accum": 1, "save_steps": 100, "lr_scheduler": "constant"}
    recipe = full_precision_recipe(folder, "tiny", tiny_llama_dir, data | {"split": {"val": 0.2}}, schedule)
    command = [sys.executable, "-m", "tuneforge", "train", str(recipe), "--runs-dir", str(folder / "runs")]
    log = folder / "train.log"  # a file, not a pipe: a pipe nobody reads while training fills up and blocks it
    with open(log, "w") as stderr:
        process = subprocess.Popen([*command, "--run-id", "stopped"], stderr=stderr)
    run_dir = folder / "runs" / "tiny" / "stopped"
    try:
        wait_for_loss(run_dir / "metrics.jsonl", 3, process, log)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM, log.read_text()[-3000:]
    manifest = read_manifest(run_dir)
    assert manifest["status"] == "interrupted" and 3 <= manifest["stopped_at_step"] < 12, "stopped before the end"
    return recipe, run_dir, manifest["stopped_at_step"]


def wait_for_loss(metrics: Path, step: int, process: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while not (metrics.is_file() and any(r.get("step", 0) >= step and "loss" in r for r in read_records(metrics))):
        if process.poll() is not None or time.time() > deadline:
            raise AssertionError(f"step {step} was never logged: {log.read_text()[-3000:]}")
        time.sleep(0.05)


def read_records(metrics: Path) -> list[dict]:
    return [json.loads(line) for line in metrics.read_text().splitlines() if line.endswith("}")]


def train_cli(recipe: Path, runs: Path, *extra: str):
    return CliRunner().invoke(main, ["train", str(recipe), "--runs-dir", str(runs), *extra])


def test_a_longer_schedule_resumes_at_the_checkpoint(stopped_run, tmp_path, monkeypatch):
    recipe, stopped, step = stopped_run
    runs = tmp_path / "runs"
    shutil.copytree(stopped.parent.parent, runs)  # the refusals below use the stopped run as it is
    monkeypatch.setenv("COLUMNS", "250")  # the log's lines unwrapped
    result = train_cli(recipe, runs, "--resume", "auto", "-o", "train.max_steps=16")
    assert result.exit_code == 0, result.output
    run_dir = runs / "tiny" / "stopped"
    assert Path(result.output.strip().splitlines()[-1]) == run_dir
    manifest = read_manifest(run_dir)
    session = manifest["sessions"][-1]
    assert session["from_step"] == step and session["changed"] == {"train.max_steps": [12, 16]}
    continuity = session["continuity"]
    assert continuity["began_at_step"] == step and continuity["first_loss_step"] == step + 1
    assert continuity["in_line"] is True
    low, high = continuity["band"]
    assert low <= continuity["first_loss"] <= high
    before = continuity["losses_before"]
    line = (
        f"resumed at step {step} of 16; first loss {continuity['first_loss']:.4g}, in line with "
        f"{min(before):.4g}-{max(before):.4g} before the stop"
    )
    assert line in " ".join(result.output.split())
    assert "resuming" in result.output and "train.max_steps" in result.output
    assert yaml.safe_load((run_dir / "recipe.resolved.yaml").read_text())["train"]["max_steps"] == 16
    assert manifest["status"] == "complete" and manifest["metrics"]["global_step"] == 16
    loss_steps = [record["step"] for record in read_records(run_dir / "metrics.jsonl") if "loss" in record]
    assert loss_steps == list(range(1, 17)), "every step once: from the checkpoint on, not from step 0"


@pytest.mark.parametrize(
    "override, key, old, new", [("train.lr=0.1", "train.lr", "0.005", "0.1"), ("lora.r=16", "lora.r", "8", "16")]
)
def test_a_change_that_corrupts_the_run_is_refused(stopped_run, override, key, old, new):
    recipe, stopped, _ = stopped_run
    before = (stopped / "recipe.resolved.yaml").read_text(), read_manifest(stopped)
    result = train_cli(recipe, stopped.parent.parent, "--resume", str(stopped), "-o", override)
    assert result.exit_code == 2, result.output
    rows = [line.split() for line in result.output.splitlines() if line.strip().startswith(key)]
    assert rows == [[key, old, new]] and "--resume none" in result.output and "Traceback" not in result.output
    assert ((stopped / "recipe.resolved.yaml").read_text(), read_manifest(stopped)) == before, "the run untouched"


def test_other_data_under_the_same_path_is_refused(stopped_run):
    recipe, stopped, _ = stopped_run
    data = recipe.parent / "data.jsonl"
    original = data.read_text()
    try:
        write_jsonl(data, sharegpt_records(30))
        result = train_cli(recipe, stopped.parent.parent, "--resume", str(stopped))
    finally:
        data.write_text(original)
    assert result.exit_code == 2, result.output
    (row,) = [line.split() for line in result.output.splitlines() if line.strip().startswith("data_sha256.train")]
    assert row[1] != row[2] and "would corrupt the run" in result.output
