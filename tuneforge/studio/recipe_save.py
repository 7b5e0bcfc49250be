"""Saving the editor's text as a new recipe in the user's recipes folder.

A recipe's relative paths (data files, probe prompts, reward files, model.adapter) resolve against the
folder of its file (tuneforge/recipe/paths.py). A copy written to another folder gets those paths made
absolute, so that it reads the same files. Which keys are paths is not listed here: the recipe is resolved
once against its own folder and once against the new one (as a run's record, which resolves paths without
looking for them), and every key the two disagree on is a path relative to the recipe.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from tuneforge.errors import UserError
from tuneforge.files import write_text_atomic
from tuneforge.recipe.loading import PROFILES, recipe_from_text, shipped_recipes
from tuneforge.recipe.schema import RecipeBase
from tuneforge.recipe.validate import validate_recipe
from tuneforge.studio.context import Studio
from tuneforge.studio.recipe_text import dumped, header_comment, recipe_mapping
from tuneforge.studio.security import PathRefused, inside

# The schema's own rule for a recipe's name (runs go to runs/<name>/), so a file name is also a valid name.
NAME = re.compile(next(rule.pattern for rule in RecipeBase.model_fields["name"].metadata if hasattr(rule, "pattern")))


def save_recipe(studio: Studio, name: str, text: str, source: Path | None) -> Path:
    """Writes `text` as <user_recipes>/<name>.yaml with `name: <name>`, its relative paths rewritten for the
    new folder when `source` (the file it was edited from) lies elsewhere. Refuses a bad or taken name and
    a recipe that does not validate (with the problems `tuneforge train --dry-run` would print)."""
    target = _new_recipe_path(studio, name)
    raw = recipe_mapping(text, source or target)
    raw["name"] = name
    if source is not None and source.parent.resolve() != target.parent:
        _absolute_paths(raw, source, target)
    if raw != recipe_mapping(text, source or target):
        text = _copy_header(text, source) + dumped(raw)
    recipe_from_text(text, target)  # exactly what loading the saved file will do; UserError lists the problems
    write_text_atomic(target, text)
    return target


def _new_recipe_path(studio: Studio, name: str) -> Path:
    if not NAME.fullmatch(name):
        raise UserError(
            f"{name!r} is not a recipe name",
            fix="use lowercase letters, digits, - and _, starting with a letter or digit (runs go to runs/<name>/)",
        )
    if name in shipped_recipes():
        raise UserError(f"{name!r} is a shipped recipe's name", fix="pick another name: the shipped one would win")
    try:
        target = inside(studio.user_recipes, f"{name}.yaml")
    except PathRefused:
        raise UserError(f"{name!r} is not a recipe name") from None
    if target.exists() or target.with_suffix(".yml").exists():
        raise UserError(f"{target} already exists", fix="pick another name (saving never overwrites a recipe)")
    return target


def _absolute_paths(raw: dict, source: Path, target: Path) -> None:
    """Makes the recipe's relative paths absolute (resolved against source's folder) where the new folder
    would read them differently."""
    body = {key: value for key, value in raw.items() if key != PROFILES}
    validate_recipe(copy.deepcopy(body), source)  # an invalid recipe is refused with the CLI's own problems
    here = validate_recipe(copy.deepcopy(body), source, record=True).model_dump(mode="json")
    there = validate_recipe(copy.deepcopy(body), target, record=True).model_dump(mode="json")
    _take_differences(raw, here, there)


def _take_differences(raw: Any, here: Any, there: Any) -> None:
    """raw[key] = here[key] for every key that raw writes and where here and there differ (walking into
    sections, and into lists of sections such as GRPO's rewards)."""
    if isinstance(raw, dict) and isinstance(here, dict) and isinstance(there, dict):
        for key in [key for key in raw if key in here and key in there]:
            if _is_walkable(raw[key], here[key]):
                _take_differences(raw[key], here[key], there[key])
            elif here[key] != there[key]:
                raw[key] = here[key]
    elif isinstance(raw, list):
        for index, item in enumerate(raw):
            _take_differences(item, here[index], there[index])


def _is_walkable(raw: Any, resolved: Any) -> bool:
    if isinstance(raw, dict):
        return isinstance(resolved, dict)
    return (
        isinstance(raw, list)
        and isinstance(resolved, list)
        and len(raw) == len(resolved)
        and all(isinstance(item, dict) for item in raw)
    )


def _copy_header(text: str, source: Path | None) -> str:
    """The header comment of the text, below one line that says whose copy this is (the header's commands
    name the original)."""
    header = header_comment(text)
    if source is None or not header.strip():
        return header
    return f"# A copy of {source.stem} ({source}), saved by tuneforge studio; the comments below are its.\n" + header
