"""Finding what to serve: an export folder, its manifest, and a verified artifact in it.

`tuneforge serve`, `chat` and `predict` accept a run folder, an export folder, or a recipe
name (its newest complete run). Every file served is checked against the sha256 that
`tuneforge export` recorded, so a truncated copy or an edited file is caught before launch.
Serving reads the export folder alone (its artifacts, export.json and the copy of the run's
resolved recipe beside them), so an export folder copied to another machine serves as it is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.files import sha256_file
from tuneforge.recipe.schema import GGUF_QUANTS, Recipe
from tuneforge.run_folder import read_recipe_record
from tuneforge.runs import RESOLVED_RECIPE
from tuneforge.targets import EXPORT_MANIFEST, resolve_run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Export:
    folder: Path
    manifest: dict
    recipe: Recipe

    @property
    def artifacts(self) -> dict:
        return self.manifest["artifacts"]

    @property
    def ggufs(self) -> list[str]:
        return [quant for quant in GGUF_QUANTS if quant in self.artifacts]


def find_export(target: str, runs_dir: Path) -> Export:
    """The export of a run folder, an export folder (wherever it lies), or a recipe's newest complete run."""
    folder = export_folder(target, runs_dir)
    manifest = json.loads((folder / EXPORT_MANIFEST).read_text())
    return Export(folder, manifest, export_recipe(folder, manifest))


def export_folder(target: str, runs_dir: Path) -> Path:
    if (Path(target) / EXPORT_MANIFEST).is_file():
        return Path(target)
    run_dir = resolve_run(target, runs_dir)
    if not (run_dir / "export" / EXPORT_MANIFEST).is_file():
        raise UserError(
            f"{run_dir}: no finished export (no export/{EXPORT_MANIFEST})",
            fix=f"run `tuneforge export {run_dir}` first",
        )
    return run_dir / "export"


def export_recipe(folder: Path, manifest: dict) -> Recipe:
    """The recipe the export was made from, validated as a record (nothing it names need exist): the export's
    own copy, checked against export.json; for an export made before exports carried one, its run's."""
    entry = manifest.get("resolved_recipe")
    if entry is None:
        if not (folder.parent / RESOLVED_RECIPE).is_file():
            raise UserError(
                f"{folder}: an export made by an older tuneforge, without its recipe; it needs its run folder",
                fix=f"serve it inside its run folder, or export the run again: tuneforge export {manifest['source_run']}",
            )
        return read_recipe_record(folder.parent / RESOLVED_RECIPE)
    path = folder / entry["file"]
    if not path.is_file() or sha256_file(path) != entry["sha256"]:
        raise UserError(
            f"{path}: missing or changed since export (sha256 differs from {EXPORT_MANIFEST})",
            fix=f"re-run `tuneforge export {manifest['source_run']}`",
        )
    return read_recipe_record(path)


def require_artifact(export: Export, key: str, fix: str) -> Path:
    """The artifact's path after checking every recorded file's sha256."""
    entry = export.artifacts.get(key)
    if entry is None:
        raise UserError(
            f"{export.folder}: the export has no {key!r} artifact (it has: {', '.join(export.artifacts) or 'nothing'})",
            fix=fix,
        )
    path = export.folder / entry["file"]
    for name, digest in entry["sha256"].items():
        file = path / name if path.is_dir() else path
        if not file.is_file() or sha256_file(file) != digest:
            raise UserError(
                f"{file}: missing or changed since export (sha256 differs from {EXPORT_MANIFEST})",
                fix=f"re-run `tuneforge export {export.folder.parent}`",
            )
    log.info("verified %s (sha256)", path.name)
    return path


def pick_gguf(export: Export, quant: str | None) -> Path:
    """The requested GGUF, or by default the first of the recipe's export quants that exists."""
    if not export.ggufs:
        raise UserError(
            f"{export.folder}: the export has no GGUF file",
            fix=f"run `tuneforge export {export.folder.parent} --format gguf`",
        )
    preferred = [q for q in export.recipe.export.quants if q in export.ggufs]
    chosen = quant or (preferred or export.ggufs)[0]
    if quant and quant not in GGUF_QUANTS:
        raise UserError(f"quant {quant}: unknown; valid: {', '.join(GGUF_QUANTS)}")
    return require_artifact(
        export,
        chosen,
        fix=f"run `tuneforge export {export.folder.parent} --quant {chosen}` or pick one of: {', '.join(export.ggufs)}",
    )
