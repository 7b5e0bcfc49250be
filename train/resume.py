"""Where a training run goes: a new run folder (its resolved recipe and a first manifest), or an
interrupted one to continue (its metrics rewound to the checkpoint). Rank 0 decides (open_run).

--resume none   always a new run
--resume auto   the newest unfinished run of this recipe, if it has a checkpoint and nothing changed since
                that would corrupt it (tuneforge.train.resume_changes); otherwise a new run (and it says why)
--resume PATH   that run folder (its newest checkpoint) or that checkpoint folder; a change that would
                corrupt it is refused

A resumed run takes the changes that are safe (a longer schedule, other logging or trackers ...): its
recipe.resolved.yaml becomes the new resolved recipe, and the session's entry in the manifest lists them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

from tuneforge.errors import UserError
from tuneforge.files import write_json_atomic, write_text_atomic
from tuneforge.process import this_process
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
from tuneforge.train.continuity import losses_before
from tuneforge.train.resume_changes import Change, change_record, change_table, changes_since

log = logging.getLogger(__name__)
TRAINED_WITH = "trained_with"  # the manifest's record of tuneforge.train.fingerprint, rewritten each session


@dataclass(frozen=True)
class Resumption:
    """What a resumed session starts from (shared with every rank)."""

    checkpoint_step: int
    changed: dict = field(default_factory=dict)
    """The safe changes since the run's last session: {key: [old, new]}."""
    losses_before: list = field(default_factory=list)
    """The last losses logged up to the checkpoint (tuneforge.train.continuity)."""


def run_changes(run_dir: Path, checkpoint: Path, resolved_yaml: str, fingerprint: dict) -> list[Change]:
    """What differs between the run's last session and this one (resolved recipe and training facts)."""
    old_recipe = yaml.safe_load((run_dir / RESOLVED_RECIPE).read_text(encoding="utf-8"))
    old_facts = read_manifest(run_dir).get(TRAINED_WITH)
    return changes_since(old_recipe, yaml.safe_load(resolved_yaml), old_facts, fingerprint, checkpoint_step(checkpoint))


def find_auto(runs_root: Path, recipe_name: str, resolved_yaml: str, fingerprint: dict):
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
    changes = run_changes(newest, checkpoint, resolved_yaml, fingerprint)
    refused = [change for change in changes if not change.safe]
    if refused:
        log.warning(
            "not resuming %s, starting a new run: since its %s, these changed in ways that would corrupt "
            "it:\n%s\n(to resume it, change them back and pass --resume %s)",
            newest,
            checkpoint.name,
            change_table(refused),
            newest,
        )
        return None
    return newest, checkpoint, changes


def find_explicit(path: Path, resolved_yaml: str, fingerprint: dict):
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
    changes = run_changes(run_dir, checkpoint, resolved_yaml, fingerprint)
    refused = [change for change in changes if not change.safe]
    if refused:
        raise UserError(
            f"resume {path}: since its {checkpoint.name}, these changed in ways that would corrupt the run:\n"
            f"{change_table(refused)}",
            fix=f"change them back to the old values (the run's recipe: {run_dir / RESOLVED_RECIPE}), "
            f"or start a new run with --resume none",
        )
    return run_dir, checkpoint, changes


def select_resume(mode: str, runs_root: Path, recipe_name: str, resolved_yaml: str, fingerprint: dict):
    """(run folder, checkpoint, changes since its last session) to continue, or None for a fresh run."""
    if mode == "none":
        return None
    if mode == "auto":
        return find_auto(runs_root, recipe_name, resolved_yaml, fingerprint)
    return find_explicit(Path(mode), resolved_yaml, fingerprint)


def start_manifest(run_dir: Path, recipe: Recipe, source: Path, fingerprint: dict) -> dict:
    manifest = {
        "status": "running",
        "recipe": recipe.name,
        "recipe_source": str(source),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "packages": package_versions(),
        "machine": machine_description(),
        "process": this_process(),  # which process trains it, so a reader can tell a live run from a dead one
        TRAINED_WITH: fingerprint,
    }
    write_json_atomic(run_dir / MANIFEST, manifest)
    return manifest


def open_run(recipe: Recipe, source: Path, runs_root: Path, resume: str, run_id: str | None, fingerprint: dict):
    """Returns (run folder, checkpoint to resume or None, manifest, Resumption or None). Rank 0 only.
    `fingerprint`: this session's training facts (tuneforge.train.fingerprint)."""
    resolved_yaml = recipe_to_yaml(recipe)
    found = select_resume(resume, runs_root, recipe.name, resolved_yaml, fingerprint)
    if found:
        return continue_run(*found, resolved_yaml, fingerprint)
    run_dir = create_run_dir(runs_root, recipe.name, run_id)
    write_text_atomic(run_dir / RESOLVED_RECIPE, resolved_yaml)
    return run_dir, None, start_manifest(run_dir, recipe, source, fingerprint), None


def continue_run(run_dir: Path, checkpoint: Path, changes: list[Change], resolved_yaml: str, fingerprint: dict):
    """The run folder made ready for another session: metrics rewound to the checkpoint, the new resolved
    recipe and training facts in place (later stages read them), the manifest running again."""
    step = checkpoint_step(checkpoint)
    if changes:
        log.info(
            "resuming %s from %s, with changes that are safe:\n%s", run_dir, checkpoint.name, change_table(changes)
        )
    else:
        log.info("resuming %s from %s", run_dir, checkpoint.name)
    losses = losses_before(run_dir / "metrics.jsonl", step)  # read before the rewind drops what came after
    manifest = read_manifest(run_dir) | {"status": "running", "process": this_process(), TRAINED_WITH: fingerprint}
    for stale in ("stopped_at_step", "error"):
        manifest.pop(stale, None)
    rewind_metrics(run_dir / "metrics.jsonl", step)
    write_text_atomic(run_dir / RESOLVED_RECIPE, resolved_yaml)
    write_json_atomic(run_dir / MANIFEST, manifest)
    return run_dir, checkpoint, manifest, Resumption(step, change_record(changes), losses)


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
