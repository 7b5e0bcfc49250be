"""Paths inside a recipe: relative to the recipe file's folder, and checked to exist when it is validated.

A finished run's recipe is validated as a *record* (the context's "record": true, see
tuneforge/recipe/validate.py): its paths name what training read, and later stages read the run's own
copies, so a path there is resolved but need not exist any more (the run was moved, the data deleted).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationInfo


def base_dir(info: ValidationInfo) -> Path:
    """The folder that relative paths of the recipe being validated are resolved against."""
    return Path((info.context or {}).get("base_dir", "."))


def is_record(info: ValidationInfo) -> bool:
    """True while a finished run's recipe is validated: its paths need not exist."""
    return bool((info.context or {}).get("record", False))


def resolve_path(value: Path, info: ValidationInfo) -> Path:
    """A recipe-relative path made absolute (nothing checked)."""
    path = value if value.is_absolute() else (base_dir(info) / value)
    return path.resolve()


def resolve_existing_file(value: Path, info: ValidationInfo, folders_allowed: bool = False) -> Path:
    """Resolve a recipe-relative path and insist that the file (or, where allowed, folder) exists, unless the
    recipe is a run's record."""
    path = resolve_path(value, info)
    if not is_record(info) and not (path.is_file() or (folders_allowed and path.is_dir())):
        raise ValueError(f"{'file or folder' if folders_allowed else 'file'} not found: {path}")
    return path
