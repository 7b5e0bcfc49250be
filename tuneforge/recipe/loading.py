"""Finding, reading, overriding and validating a recipe file.

A recipe is a shipped one's name (found recursively under recipes/) or a path to a YAML file. Dotted-key
overrides (`-o train.lr=1e-4`) change it before validation. A recipe may name profiles, sets of
overrides kept in the file itself (`--profile cpu`):

    profiles:
      cpu:   # the embedded model and a short schedule: this CPU in about 7 minutes
        model.base: embedded:smollm2-135m-instruct
        train.max_steps: 40

The profile applies first, then the -o overrides; `profiles` itself is no key of the validated recipe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import tuneforge.recipes
from tuneforge.errors import UserError
from tuneforge.recipe.schema import Recipe
from tuneforge.recipe.validate import validate_recipe

PROFILES = "profiles"
DOTTED_KEY = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*")
PROFILES_SHAPE = "profiles: {NAME: {dotted.key: value, ...}, ...}, e.g. profiles: {cpu: {train.max_steps: 40}}"


@dataclass(frozen=True)
class Profile:
    """A named set of overrides in a recipe file."""

    name: str
    description: str  # the comment on the profile's line in the file ("" when there is none)
    settings: dict[str, Any]  # dotted key -> value, applied like -o KEY=VALUE


class _StrictLoader(yaml.SafeLoader):
    """safe_load that also refuses duplicate keys (PyYAML silently keeps the last one)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def read_yaml(path: Path) -> Any:
    return parse_yaml(_read_text(path), path)


def parse_yaml(text: str, path: Path) -> Any:
    """`text` parsed as the YAML file `path` holds (a problem names path:line); duplicate keys refused."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise UserError(f"{where}: invalid YAML: {problem}", fix="fix the YAML syntax at that line") from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None


def recipes_dir() -> Path:
    """The shipped recipes folder (installed as the package tuneforge.recipes)."""
    return Path(tuneforge.recipes.__file__).resolve().parent


def shipped_recipes() -> dict[str, Path]:
    """Every shipped recipe by name, found recursively under recipes/."""
    return {path.stem: path for path in sorted(recipes_dir().rglob("*.yaml"))}


def find_recipe(ref: str | Path) -> Path:
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise UserError(f"recipe file not found: {path}")
        return path.resolve()
    recipes = shipped_recipes()
    if str(ref) in recipes:
        return recipes[str(ref)]
    raise UserError(f"unknown recipe {str(ref)!r}", fix=f"use a path to a YAML file or one of: {', '.join(recipes)}")


def parse_override(text: str) -> tuple[list[str], Any]:
    key, sep, raw = text.partition("=")
    if not sep or not DOTTED_KEY.fullmatch(key.strip()):
        raise UserError(f"bad override {text!r}", fix="write overrides as -o section.key=value, e.g. -o train.lr=1e-4")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    for text in overrides:
        keys, value = parse_override(text)
        _set_key(raw, keys, value, f"override {text!r}")
    return raw


def _set_key(raw: dict, keys: list[str], value: Any, what: str) -> None:
    """raw[k1][k2]...[kn] = value, creating absent or null sections on the way."""
    node = raw
    for depth, key in enumerate(keys[:-1]):
        if node.get(key) is None:  # an absent or null optional section (e.g. eval.domain.judge) starts empty
            node[key] = {}
        child = node[key]
        if not isinstance(child, dict):
            raise UserError(f"{what}: {'.'.join(keys[: depth + 1])} is not a section")
        node = child
    node[keys[-1]] = value


def load_recipe(ref: str | Path, overrides: list[str] | None = None, profile: str | None = None) -> tuple[Recipe, Path]:
    """Find, read, apply the profile and the overrides (in that order), and validate a recipe. Returns it
    with its source path."""
    source = find_recipe(ref)
    return recipe_from_text(_read_text(source), source, overrides, profile), source


def recipe_from_text(text: str, source: Path, overrides: list[str] | None = None, profile: str | None = None) -> Recipe:
    """The recipe `text` holds, read as if it were the file `source` (its relative paths resolve against
    source's folder): what load_recipe does once it has read the file (the studio validates its editor so)."""
    return validate_recipe(raw_recipe(text, source, overrides, profile), source)


def raw_recipe(text: str, source: Path, overrides: list[str] | None = None, profile: str | None = None) -> Any:
    """The mapping `text` holds with the profile and the overrides applied (in that order) and without its
    `profiles`, not validated yet."""
    raw = parse_yaml(text, source) or {}
    if isinstance(raw, dict):
        profiles = _profiles(raw.pop(PROFILES, None), source)
        if profile is not None:
            _apply_profile(raw, profile, _profile_settings(profiles, profile, source))
        raw = apply_overrides(raw, overrides or [])
    elif profile is not None:
        raise UserError(f"{source}: no profile {profile!r}: the file holds no recipe mapping")
    return raw


def recipe_profiles(ref: str | Path) -> dict[str, Profile]:
    """The profiles a recipe names, in file order (empty when it has none)."""
    source = find_recipe(ref)
    raw = read_yaml(source) or {}
    settings = _profiles(raw.get(PROFILES) if isinstance(raw, dict) else None, source)
    comments = _profile_comments(_read_text(source))
    return {name: Profile(name, comments.get(name, ""), keys) for name, keys in settings.items()}


def recipe_to_yaml(recipe: Recipe) -> str:
    return yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


# ---------------------------------------------------------------- profiles


def _profiles(value: Any, source: Path) -> dict[str, dict[str, Any]]:
    """The `profiles` mapping checked for its shape: names to mappings of dotted keys."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UserError(f"{source}: profiles: must be a mapping of profile names", fix=f"write {PROFILES_SHAPE}")
    for name, settings in value.items():
        if not isinstance(settings, dict) or not settings:
            raise UserError(
                f"{source}: profiles.{name}: must be a mapping of dotted keys to values", fix=f"write {PROFILES_SHAPE}"
            )
        bad = [str(key) for key in settings if not isinstance(key, str) or not DOTTED_KEY.fullmatch(key)]
        if bad:
            raise UserError(
                f"{source}: profiles.{name}: {', '.join(map(repr, bad))} is not a dotted key such as train.max_steps",
                fix=f"write {PROFILES_SHAPE}",
            )
    return {str(name): settings for name, settings in value.items()}


def _profile_settings(profiles: dict[str, dict[str, Any]], name: str, source: Path) -> dict[str, Any]:
    if name not in profiles:
        names = f"its profiles: {', '.join(profiles)}" if profiles else "it has no profiles"
        raise UserError(f"{source}: no profile {name!r}; {names}")
    return profiles[name]


def _apply_profile(raw: dict, name: str, settings: dict[str, Any]) -> None:
    for key, value in settings.items():
        _set_key(raw, key.split("."), value, f"profiles.{name}.{key}")


def _profile_comments(text: str) -> dict[str, str]:
    """The comment on each profile's line (`cpu:   # what it is for`), by profile name."""
    root = yaml.compose(text, Loader=_StrictLoader)
    if not isinstance(root, yaml.MappingNode):
        return {}
    nodes = next((value for key, value in root.value if key.value == PROFILES), None)
    if not isinstance(nodes, yaml.MappingNode):
        return {}
    lines, comments = text.splitlines(), {}
    for key, value in nodes.value:
        line = key.end_mark.line
        start = value.end_mark.column if value.end_mark.line == line else key.end_mark.column
        _, hash_mark, comment = lines[line][start:].partition("#")
        comments[key.value] = comment.strip() if hash_mark else ""
    return comments
