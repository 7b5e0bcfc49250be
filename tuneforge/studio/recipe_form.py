"""The recipe editor's form, generated from the Recipe model of what is registered (never written by hand).

Every field of the model becomes one input: its key path, the kind of input its type calls for, its attribute
docstring as help and its default (the same texts `tuneforge recipes show --explain` prints). Two keys switch
what the form holds: `data.format` picks the data section's class (the discriminated union of the tasks'
formats), and `train.method` picks which `train.<method>` settings section is shown. A field's input holds
what the recipe's YAML writes for it; a key the YAML leaves out is empty and shows its default.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tuneforge.recipe.assemble import data_formats, recipe_model
from tuneforge.recipe.explain import shown, type_name
from tuneforge.recipe.schema import DataSection

SWITCHES = ("data.format", "train.method")  # keys whose value changes which fields the form holds


@dataclass
class FormField:
    key: str  # the dotted key path, e.g. train.lr
    kind: str  # number, checkbox, select, text or yaml (a textarea for lists, mappings and mixed types)
    doc: str
    default: str  # as YAML, or "required"
    type_name: str
    value: str  # what the YAML writes for it ("" when it leaves the key out: the input shows the default)
    is_set: bool  # the YAML writes this key
    choices: tuple[str, ...] = ()
    checked: bool = False
    switch: bool = False


@dataclass
class FormSection:
    key: str
    doc: str
    is_set: bool
    items: list[FormField | FormSection] = field(default_factory=list)


def recipe_form(raw: dict) -> list[FormField | FormSection]:
    """The form of the whole recipe for the values of `raw` (a recipe's mapping, valid or not)."""
    model = recipe_model()
    items = []
    for name, info in model.model_fields.items():
        if name == "data":
            items.append(_data_section(info, _child(raw, name)))
        else:
            items.append(_item(name, info, raw))
    return items


def _data_section(info: FieldInfo, raw: Any) -> FormSection:
    """`data`: the fields of the format the YAML names (the core DataSection's while it names none we know)."""
    formats = data_formats()
    chosen = raw.get("format") if isinstance(raw, dict) else None
    section_class = formats.get(chosen, DataSection) if isinstance(chosen, str) else DataSection
    section = _section("data", info.description, section_class, raw)
    where = next(index for index, item in enumerate(section.items) if item.key == "data.format")
    section.items[where] = FormField(
        key="data.format",
        kind="select",
        doc=_doc(DataSection.model_fields["format"]),
        default="required",
        type_name="one of: " + ", ".join(formats),
        value=chosen if isinstance(chosen, str) else "",
        is_set=chosen is not None,
        choices=tuple(formats),
        switch=True,
    )
    return section


def _section(key: str, doc: str | None, model: type[BaseModel], raw: Any) -> FormSection:
    section = FormSection(key, " ".join((doc or model.__doc__ or "").split()), isinstance(raw, dict))
    values = raw if isinstance(raw, dict) else {}
    method = values.get("method", _default(model.model_fields["method"])) if key == "train" else None
    for name, info in model.model_fields.items():
        if key == "train" and _is_method_section(model, name) and name != method:
            continue  # another method's settings: the recipe may not give them (tuneforge/recipe/checks.py)
        section.items.append(_item(f"{key}.{name}", info, values))
    return section


def _is_method_section(train_model: type[BaseModel], name: str) -> bool:
    return name in typing.get_args(train_model.model_fields["method"].annotation)


def _item(key: str, info: FieldInfo, values: dict) -> FormField | FormSection:
    name = key.rpartition(".")[2]
    inner, _ = _without_none(info.annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return _section(key, info.description, inner, values.get(name))
    is_set = name in values
    kind, choices = _input_kind(inner)
    return FormField(
        key=key,
        kind=kind,
        doc=_doc(info),
        default="required" if info.is_required() else shown(_default(info)),
        type_name=type_name(info.annotation),
        value=_input_text(values[name], kind) if is_set else "",
        is_set=is_set,
        choices=choices,
        checked=(values[name] if is_set else _default(info)) is True,
        switch=key in SWITCHES,
    )


def _input_kind(annotation: Any) -> tuple[str, tuple[str, ...]]:
    """The input a type calls for, with the choices of a select."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return "select", tuple(shown(arg) for arg in args)
    if origin in (Union, types.UnionType) and all(typing.get_origin(a) is Literal or a is bool for a in args):
        literals = [shown(value) for arg in args if arg is not bool for value in typing.get_args(arg)]
        return "select", (*literals, "true", "false")  # e.g. model.load_in_4bit: auto, true or false
    if annotation is bool:
        return "checkbox", ()
    if annotation in (int, float):
        return "number", ()
    return ("text", ()) if _is_plain(annotation) else ("yaml", ())


def _is_plain(annotation: Any) -> bool:
    """A str or a path: typed as it is, without YAML."""
    return isinstance(annotation, type) and (annotation is str or annotation.__module__ == "pathlib")


def _input_text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind in ("text", "number") and isinstance(value, str):
        return value  # as written (YAML reads 2e-3 as a string; the schema converts it)
    return str(value) if kind == "text" else shown(value)


def _without_none(annotation: Any) -> tuple[Any, bool]:
    """The annotation without Annotated and without an Optional's None, and whether None was allowed."""
    annotation, args = _bare(annotation), typing.get_args(_bare(annotation))
    if typing.get_origin(annotation) in (Union, types.UnionType) and type(None) in args:
        rest = tuple(arg for arg in args if arg is not type(None))
        return (_bare(rest[0]) if len(rest) == 1 else Union[rest]), True  # noqa: UP007 (a runtime tuple)
    return annotation, False


def _bare(annotation: Any) -> Any:
    """Without Annotated (its constraints are checked on validation, and named in the help)."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _default(info: FieldInfo) -> Any:
    return None if info.is_required() else info.get_default(call_default_factory=True)


def _doc(info: FieldInfo) -> str:
    return " ".join((info.description or "").split())


def _child(raw: Any, name: str) -> Any:
    return raw.get(name) if isinstance(raw, dict) else None
