"""A finished run as the later stages read it (evaluation, export, prediction): its recipe, manifest, own
data splits and own copies of what its evaluation reads. Nothing here goes back to the user's recipe or
data files, which may have changed or gone since: a run folder moved to another machine still evaluates.

Its recipe is validated as a record (tuneforge/recipe/validate.py): the paths in it name what training
read and need not exist. Besides the splits (RUN/data/), training copies the files and folders that the
recipe's task evaluations read (Task.run_inputs: probe prompts, an author's articles) into RUN/inputs/,
with their sha256 in the manifest's "inputs"; RunFolder.input hands out those copies.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tuneforge.data.formats import Sample
from tuneforge.data.splits import read_run_split
from tuneforge.errors import UserError
from tuneforge.files import atomic_folder, sha256_path
from tuneforge.recipe.loading import read_yaml
from tuneforge.recipe.schema import Recipe
from tuneforge.recipe.validate import validate_recipe
from tuneforge.registry import registered_tasks
from tuneforge.runs import RESOLVED_RECIPE, read_manifest

INPUTS_DIR = "inputs"
HELD_OUT_ORDER = ("test", "val", "train")  # the most held-out first


def load_run(run_dir: Path) -> tuple[Recipe, dict]:
    """The recipe and manifest of a finished run; refuses runs that did not complete."""
    manifest = read_manifest(run_dir)
    if manifest.get("status") != "complete":
        raise UserError(
            f"{run_dir} is not a complete run (status: {manifest.get('status')})",
            fix=f"finish it with `tuneforge train {manifest.get('recipe') or _recipe_name(run_dir)} --resume {run_dir}`",
        )
    return read_recipe_record(run_dir / RESOLVED_RECIPE), manifest


def read_recipe_record(path: Path) -> Recipe:
    """A finished run's resolved recipe (or an export's copy of it), validated as a record."""
    return validate_recipe(read_yaml(path), path, record=True)


def _recipe_name(run_dir: Path) -> str:
    """The name in the run's resolved recipe (read as it is: an unfinished run's recipe need not validate)."""
    raw = read_yaml(run_dir / RESOLVED_RECIPE) if (run_dir / RESOLVED_RECIPE).is_file() else None
    return str(raw.get("name", "RECIPE")) if isinstance(raw, dict) else "RECIPE"


def evaluation_inputs(recipe: Recipe) -> dict[str, Path]:
    """What the recipe's evaluations read besides the run's splits (each evaluating task's run_inputs), by name."""
    inputs: dict[str, Path] = {}
    for task in registered_tasks():
        if task.evaluates(recipe):
            inputs.update(task.run_inputs(recipe))
    return inputs


def carry_inputs(run_dir: Path, inputs: dict[str, Path]) -> dict:
    """Copies each input into RUN/inputs/<name> (the folder replaced as a whole); returns the manifest's
    "inputs" entry: {name: {"source", "sha256"}}."""
    missing = [f"{path}: not found ({name})" for name, path in inputs.items() if not path.exists()]
    if missing:
        raise UserError("an input of the recipe's evaluation is gone:", missing, fix="restore it, then train again")
    if not inputs:
        return {}
    with atomic_folder(run_dir / INPUTS_DIR) as staging:
        for name, path in inputs.items():
            if path.is_dir():
                shutil.copytree(path, staging / name)
            else:
                shutil.copy2(path, staging / name)
    return {
        name: {"source": str(path), "sha256": sha256_path(run_dir / INPUTS_DIR / name)} for name, path in inputs.items()
    }


class RunFolder:
    """A complete run as later stages see it: its folder, recipe, manifest, own data splits and own copies of
    what its evaluation reads."""

    def __init__(self, path: Path, recipe: Recipe | None = None, manifest: dict | None = None):
        self.path = Path(path)
        if recipe is None or manifest is None:
            recipe, manifest = load_run(self.path)
        self.recipe, self.manifest = recipe, manifest
        self._splits: dict[str, list[Sample]] = {}
        self._inputs: dict[tuple[str, str], Path] = {}  # (name, original) -> the path checked once

    def split(self, name: str) -> list[Sample]:
        """The samples of one split exactly as training used them (RUN/data/<name>.jsonl, checked against the
        sha256 in the manifest)."""
        if name not in self._splits:
            self._splits[name] = read_run_split(self.path, self.manifest, name)
        return self._splits[name]

    def held_out_split(self) -> tuple[str, list[Sample]]:
        """The name and samples of the first split that has samples among test, val and train: what a check
        of the trained model asks when the run kept no test split ("none" and [] for a run without samples)."""
        for name in HELD_OUT_ORDER:
            if name in self.manifest.get("data_splits", {}) and (found := self.split(name)):
                return name, found
        return "none", []

    @property
    def carries_inputs(self) -> bool:
        """Whether training copied the evaluation's inputs into the run (runs trained before that did not)."""
        return "inputs" in self.manifest

    def input(self, name: str, original: Path) -> Path:
        """A file or folder the evaluation reads (a task's run_inputs): the run's own copy, checked against the
        sha256 in the manifest, when training copied `original` under this name; else `original` itself where
        it still exists (a run trained before runs carried their inputs, or an eval-time override naming
        another file)."""
        key = (name, str(original))
        if key not in self._inputs:
            self._inputs[key] = self._find_input(name, Path(original))
        return self._inputs[key]

    def _find_input(self, name: str, original: Path) -> Path:
        entry = self.manifest.get("inputs", {}).get(name)
        if entry is not None and entry["source"] == str(original):
            copy = self.path / INPUTS_DIR / name
            if not copy.exists() or sha256_path(copy) != entry["sha256"]:
                raise UserError(
                    f"{copy}: missing or changed since training (sha256 differs from the manifest)",
                    fix="restore the run folder from a copy, or train again",
                )
            return copy
        if original.exists():
            return original
        raise UserError(
            f"{original}: not found; the evaluation reads it, and {self.path} holds no copy of it",
            fix=f"restore it at {original}, or train the run again (a run trained now keeps a copy in {INPUTS_DIR}/)",
        )
