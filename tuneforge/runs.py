"""Run folders: `runs/<recipe>/<run-id>/`, their manifest, and atomic writes.

A run's manifest says `"status": "running"` until training finished and every output is in
place; only then is it rewritten as `"complete"`. Later stages refuse runs that are not complete.
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


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary name and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


def write_json_atomic(path: Path, payload: dict) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")


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


def load_run(run_dir: Path):
    """The recipe and manifest of a finished run; refuses runs that did not complete."""
    from tuneforge.recipe import read_yaml, validate_recipe

    manifest = read_manifest(run_dir)
    if manifest.get("status") != "complete":
        raise UserError(
            f"{run_dir} is not a complete run (status: {manifest.get('status')})",
            fix=f"finish it with `tuneforge train {manifest.get('recipe_source')} --resume {run_dir}`",
        )
    return validate_recipe(read_yaml(run_dir / RESOLVED_RECIPE), run_dir / RESOLVED_RECIPE), manifest


class RunFolder:
    """A complete run as later stages see it: its folder, recipe, manifest and own data splits."""

    def __init__(self, path: Path, recipe=None, manifest: dict | None = None):
        self.path = Path(path)
        if recipe is None or manifest is None:
            recipe, manifest = load_run(self.path)
        self.recipe, self.manifest = recipe, manifest
        self._splits: dict | None = None

    def split(self, name: str) -> list:
        """The samples of one split exactly as training used them (tuneforge.data.splits)."""
        if self._splits is None:
            from tuneforge.data.splits import run_splits

            self._splits = run_splits(self.path, self.recipe, self.manifest)
        return self._splits[name]
