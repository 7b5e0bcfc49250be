"""The recipe editor's YAML text: read it, set one key from the form, write it back.

The text is the recipe as the user will save it, so the server is its only parser (the strict safe loader
that the CLI reads recipes with). Writing it back goes through yaml.safe_dump, which keeps the key order but
not comments: the header comment (what the recipe does, its commands, its hardware) is kept; comments
inside the mapping are lost once a field of the form is changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tuneforge.errors import UserError
from tuneforge.recipe.assemble import data_formats
from tuneforge.recipe.loading import PROFILES, parse_yaml
from tuneforge.registry import registered_methods
from tuneforge.studio.recipe_form import SWITCHES


def recipe_mapping(text: str, source: Path) -> dict:
    """The mapping `text` holds (read as the file `source`; its profiles kept), or UserError."""
    raw = parse_yaml(text, source)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(f"{source}: a recipe must be a YAML mapping of sections, got {type(raw).__name__}")
    return raw


def header_comment(text: str) -> str:
    """The comment lines the text opens with (up to the first line of YAML)."""
    lines = []
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        lines.append(line)
    return "".join(lines)


def dumped(raw: dict, header: str = "") -> str:
    """The mapping as YAML after the header comment, profiles last (as the shipped recipes write them)."""
    ordered = {key: value for key, value in raw.items() if key != PROFILES}
    if PROFILES in raw:
        ordered[PROFILES] = raw[PROFILES]
    body = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=10**6) if ordered else ""
    return header + body


def with_field(text: str, source: Path, key: str, value: Any) -> str:
    """The text with `key` (dotted) set to `value`, or left out when value is None (a nested section left
    empty goes too, so its defaults apply again). Changing a switch (data.format, train.method) drops the
    keys that only the old choice had."""
    raw = recipe_mapping(text, source)
    keys = key.split(".")
    if value is None:
        _remove(raw, keys)
    else:
        _set(raw, keys, value)
    if key in SWITCHES:
        _drop_other_choice(raw, key, value)
    return dumped(raw, header_comment(text))


def form_value(kind: str, text: str | None, checked: bool | None) -> Any:
    """What an input of the form means as a YAML value (None: leave the key out)."""
    if kind == "checkbox":
        return bool(checked)
    if text is None or not text.strip():
        return None
    if kind == "text":
        return text
    if kind == "number":
        return _number(text.strip())
    try:
        return yaml.safe_load(text)  # a select's choice or a textarea's YAML
    except yaml.YAMLError as exc:
        raise UserError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}") from None


def _number(text: str) -> int | float | str:
    """int, float (2e-4 too, which YAML would read as a string), or the text itself for the schema to refuse."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _set(raw: dict, keys: list[str], value: Any) -> None:
    node = raw
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value


def _remove(raw: dict, keys: list[str]) -> None:
    """Removes raw[k1]...[kn], then every section on the way that it left empty."""
    trail, node = [], raw
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            return
        trail.append((node, key))
        node = node[key]
    node.pop(keys[-1], None)
    for parent, key in reversed(trail):
        if parent[key]:
            break
        del parent[key]


def _drop_other_choice(raw: dict, key: str, value: Any) -> None:
    """After data.format changes, the data keys the new format has not; after train.method, the old method's
    settings section (the recipe may give only its own method's)."""
    section = raw.get(key.split(".")[0])
    if not isinstance(section, dict):
        return
    if key == "data.format":
        known = _data_fields(value)
        for name in [name for name in section if known and name not in known]:
            del section[name]
    else:
        for name in [name for name in section if name in _method_names() and name != value]:
            del section[name]


def _data_fields(fmt: Any) -> set[str]:
    from_format = data_formats().get(fmt) if isinstance(fmt, str) else None
    return set(from_format.model_fields) if from_format else set()


def _method_names() -> tuple[str, ...]:
    return tuple(method.name for method in registered_methods())
