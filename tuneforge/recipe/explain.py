"""`tuneforge recipes show --explain`: every key of a recipe with its type, default, value and doc."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel


def explain(model: BaseModel, prefix: str = "") -> list[str]:
    """One line per key of a validated recipe (or section): key path, type, default, value and doc."""
    lines = []
    for name, field in type(model).model_fields.items():
        value, key = getattr(model, name), f"{prefix}{name}"
        doc = " ".join((field.description or "").split())
        if isinstance(value, BaseModel):
            lines.append(f"{key}:  {doc}")
            lines += explain(value, f"{key}.")
            continue
        if isinstance(value, list) and value and all(isinstance(item, BaseModel) for item in value):
            lines.append(f"{key}:  {doc}")  # a list of sections (GRPO's rewards): each entry by its index
            for index, item in enumerate(value):
                lines += explain(item, f"{key}.{index}.")
            continue
        default = (
            "required" if field.is_required() else f"default {shown(field.get_default(call_default_factory=True))}"
        )
        lines.append(f"{key} = {shown(value)}  [{type_name(field.annotation)}; {default}]  {doc}")
    return lines


def shown(value: Any) -> str:
    """A value on one line, as YAML writes it (a path as its text)."""
    return (
        yaml.safe_dump(
            value if not isinstance(value, Path) else str(value),
            default_flow_style=True,
            width=10**6,
            allow_unicode=True,
        )
        .strip()
        .removesuffix("...")
        .strip()
        if not isinstance(value, list) or all(not isinstance(v, Path) for v in value)
        else "[" + ", ".join(map(str, value)) + "]"
    )


def type_name(annotation: Any) -> str:
    """A readable type: `int | null`, `one of: a, b`, `list[Path]` (constraints are in the doc and the errors)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return type_name(args[0])
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if origin is Literal:
        return "one of: " + ", ".join(map(str, args))
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(map(type_name, args))}]"
    return "null" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))
