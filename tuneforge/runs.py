"""Run folders: `runs/<recipe>/<run-id>/`, their manifest, and finding them.

A run's manifest says `"status": "running"` until training finished and every output is in
place; only then is it rewritten as `"complete"`. Later stages refuse runs that are not complete
(tuneforge.run_folder reads a finished run with its recipe). Files are written through tuneforge.files.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from tuneforge.errors import UserError

MANIFEST = "manifest.json"
RESOLVED_RECIPE = "recipe.resolved.yaml"
ADAPTER_DIR = "adapter"  # the trained LoRA adapter inside a run folder
TRACKED_PACKAGES = [
    "tuneforge",
    "torch",
    "transformers",
    "trl",
    "peft",
    "unsloth",
    "unsloth_zoo",
    "datasets",
    "accelerate",
    "bitsandbytes",
    "xformers",
    "llama_cpp_python",
    "gguf",
]


def read_manifest(run_dir: Path) -> dict:
    path = run_dir / MANIFEST
    if not path.is_file():
        raise UserError(
            f"{run_dir} is not a tuneforge run (no {MANIFEST})",
            fix="pass a folder made by `tuneforge train`, e.g. runs/<recipe>/<run-id>",
        )
    return json.loads(path.read_text())


def package_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return versions


def git_commit() -> str | None:
    """The commit of the tuneforge checkout, with '-dirty' when it has uncommitted changes."""
    source = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def machine_description() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def create_run_dir(runs_root: Path, recipe_name: str, run_id: str | None = None) -> Path:
    explicit = run_id is not None
    run_dir = runs_root / recipe_name / (run_id or new_run_id())
    while run_dir.exists() and not explicit:  # two runs started in the same second
        time.sleep(1)
        run_dir = runs_root / recipe_name / new_run_id()
    if run_dir.exists():
        raise UserError(f"run folder {run_dir} already exists", fix="choose another --run-id or use --resume")
    run_dir.mkdir(parents=True)
    return run_dir


def list_runs(runs_root: Path, recipe_name: str) -> list[Path]:
    folder = runs_root / recipe_name
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if (p / MANIFEST).is_file())


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest checkpoint that was written completely (its trainer_state.json exists)."""
    candidates = []
    for path in (run_dir / "checkpoints").glob("checkpoint-*"):
        step = path.name.removeprefix("checkpoint-")
        if step.isdigit() and (path / "trainer_state.json").is_file():
            candidates.append((int(step), path))
    return max(candidates)[1] if candidates else None


def latest_complete_run(runs_root: Path, recipe_name: str) -> Path:
    complete = [p for p in list_runs(runs_root, recipe_name) if read_manifest(p).get("status") == "complete"]
    if not complete:
        raise UserError(
            f"no complete run of recipe {recipe_name!r} under {runs_root}",
            fix=f"train it first: tuneforge train {recipe_name}",
        )
    return complete[-1]
