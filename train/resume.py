"""Where a training run goes: a new run folder, or an interrupted one to continue.

--resume none   always a new run
--resume auto   the newest unfinished run of this recipe, if it has a checkpoint and was
                started from the same resolved recipe; otherwise a new run (and it says why)
--resume PATH   that run folder (its newest checkpoint) or that checkpoint folder
"""

from __future__ import annotations

import logging
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.runs import RESOLVED_RECIPE, latest_checkpoint, list_runs, read_manifest

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
