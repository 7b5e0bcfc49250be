"""Where a training run goes: a new run folder (its resolved recipe and a first manifest), or an
interrupted one to continue (its metrics rewound to the checkpoint). Rank 0 decides (open_run).

--resume none   always a new run
--resume auto   the newest unfinished run of this recipe, if it has a checkpoint and was
                started from the same resolved recipe; otherwise a new run (and it says why)
--resume PATH   that run folder (its newest checkpoint) or that checkpoint folder
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.files import write_json_atomic, write_text_atomic
from tuneforge.recipe.loading import recipe_to_yaml
from tuneforge.recipe.schema import Recipe
from tuneforge.runs import (
    MANIFEST,
    RESOLVED_RECIPE,
    create_run_dir,
    git_commit,
    latest_checkpoint,
    list_runs,
    machine_description,
    package_versions,
    read_manifest,
)

log = logging.getLogger(__name__)


def find_auto(runs_root: Path, recipe_name: str, resolved_yaml: str) -> tuple[Path, Path] | None:
    runs = list_runs(runs_root, recipe_name)
    if not runs:
        return None
    newest = runs[-1]
    if read_manifest(newest).get("status") == "complete":
        return None
    checkpoint = latest_checkpoint(newest)
    if checkpoint is None:
        log.info("not resuming %s: it has no complete checkpoint", newest)
        return None
    if (newest / RESOLVED_RECIPE).read_text(encoding="utf-8") != resolved_yaml:
        log.info("not resuming %s: it was started from a different recipe or overrides", newest)
        return None
    return newest, checkpoint


def find_explicit(path: Path, resolved_yaml: str) -> tuple[Path, Path]:
    path = path.resolve()
    if path.name.startswith("checkpoint-"):
        run_dir, checkpoint = path.parent.parent, path
    else:
        run_dir, checkpoint = path, latest_checkpoint(path)
    read_manifest(run_dir)  # raises a clear error if this is not a run folder
    if checkpoint is None or not (checkpoint / "trainer_state.json").is_file():
        raise UserError(
            f"resume {path}: no complete checkpoint to resume from",
            fix="pass a run folder that has checkpoints/checkpoint-N, or use --resume none",
        )
    if (run_dir / RESOLVED_RECIPE).read_text(encoding="utf-8") != resolved_yaml:
        raise UserError(
            f"resume {path}: that run was started from a different recipe or overrides",
            fix=f"use the same recipe and -o options as in {run_dir / RESOLVED_RECIPE}, "
            f"or start fresh with --resume none",
        )
    return run_dir, checkpoint


def select_resume(mode: str, runs_root: Path, recipe_name: str, resolved_yaml: str) -> tuple[Path, Path] | None:
    """(run folder, checkpoint) to continue, or None for a fresh run."""
    if mode == "none":
        return None
    if mode == "auto":
        return find_auto(runs_root, recipe_name, resolved_yaml)
    return find_explicit(Path(mode), resolved_yaml)


def start_manifest(run_dir: Path, recipe: Recipe, source: Path) -> dict:
    manifest = {
        "status": "running",
        "recipe": recipe.name,
        "recipe_source": str(source),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "packages": package_versions(),
        "machine": machine_description(),
    }
    write_json_atomic(run_dir / MANIFEST, manifest)
    return manifest


def open_run(recipe: Recipe, source: Path, runs_root: Path, resume: str, run_id: str | None):
    """Returns (run folder, checkpoint to resume or None, manifest). Rank 0 only."""
    resolved_yaml = recipe_to_yaml(recipe)
    found = select_resume(resume, runs_root, recipe.name, resolved_yaml)
    if found:
        run_dir, checkpoint = found
        log.info("resuming %s from %s", run_dir, checkpoint.name)
        manifest = read_manifest(run_dir) | {"status": "running"}
        for stale in ("stopped_at_step", "error"):
            manifest.pop(stale, None)
        rewind_metrics(run_dir / "metrics.jsonl", checkpoint_step(checkpoint))
        write_json_atomic(run_dir / MANIFEST, manifest)
        return run_dir, checkpoint, manifest
    run_dir = create_run_dir(runs_root, recipe.name, run_id)
    write_text_atomic(run_dir / RESOLVED_RECIPE, resolved_yaml)
    return run_dir, None, start_manifest(run_dir, recipe, source)


def trainer_state(checkpoint: Path) -> dict:
    return json.loads((checkpoint / "trainer_state.json").read_text())


def checkpoint_step(checkpoint: Path) -> int:
    return trainer_state(checkpoint)["global_step"]


def rewind_metrics(path: Path, step: int) -> None:
    """Drop what was logged after the checkpoint: those steps are trained again, and the loss curve
    must not show them twice."""
    if not path.is_file():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if line.strip() and json.loads(line)["step"] <= step]
    if len(kept) != len(lines):
        write_text_atomic(path, "".join(kept))
