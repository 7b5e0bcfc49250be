"""pydantic's validation errors as a recipe author reads them: key path, what is wrong, and the fix.

pydantic puts the tag of a discriminated union into an error's location (data.classification.labels reads
data.classification.classification.labels, a GRPO reward's pattern train.grpo.rewards.0.format.pattern).
The location is walked through the assembled Recipe model, so every union (the data formats, a method's
list of kinds) loses its tag the same way and lists its own kinds, whatever is registered.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tuneforge.recipe.assemble import data_formats, recipe_model

# (annotation, discriminator) while walking an error location through the model; (None, None): lost the way
Place = tuple[Any, "str | None"]


def format_error(error: dict) -> str:
    """One line for one pydantic error: `key.path: message`, with the fix where there is one."""
    loc = error_location(tuple(error["loc"]))
    location = ".".join(str(part) for part in loc) or "(recipe)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return (
            f"{location}: unknown key{_belongs_elsewhere(error['loc'])} (check the spelling; "
            "`tuneforge recipes show NAME --explain` lists the valid keys)"
        )
    if error["type"] == "missing":
        return f"{location}: required key is missing"
    if error["type"] in ("union_tag_invalid", "union_tag_not_found") and loc[:1] != ("data",):
        return _tag_error(location, loc, error)
    if error["type"] == "union_tag_invalid":
        return (
            f"{location}.format: {error['ctx']['tag']!r} is not a data format; use one of: {', '.join(data_formats())}"
        )
    if error["type"] == "union_tag_not_found":
        return f"{location}.format: required key is missing (one of: {', '.join(data_formats())})"
    shown = error.get("input")
    # A section-level problem would otherwise dump the whole section; its message names the keys.
    return f"{location}: {message}" if isinstance(shown, (dict, list)) else f"{location}: {message} (got {shown!r})"


def error_location(loc: tuple) -> tuple:
    """The key path of an error, without the tags that pydantic's discriminated unions put into it."""
    return _walk(loc)[0]


def _tag_error(location: str, loc: tuple, error: dict) -> str:
    """A kind of entry (a GRPO reward's name) that is missing or unknown, with the kinds there are."""
    key = error["ctx"]["discriminator"].strip("'")
    kinds = ", ".join(_union_tags(*_walk(loc)[1])) or error["ctx"].get("expected_tags", "").replace("'", "")
    if error["type"] == "union_tag_not_found":
        return f"{location}.{key}: required key is missing (one of: {kinds})"
    return f"{location}.{key}: {error['ctx']['tag']!r} is not one of the built-ins: {kinds}"


def _belongs_elsewhere(loc: tuple) -> str:
    """', which goes with format: X' for a data key of another format."""
    if len(loc) != 3 or loc[0] != "data":
        return ""
    owners = [fmt for fmt, section in data_formats().items() if loc[2] in section.model_fields]
    return f" for format: {loc[1]} (it goes with format: {', '.join(owners)})" if owners else ""


# ---------------------------------------------------------------- walking a location through the model


def _walk(loc: tuple) -> tuple[tuple, Place]:
    """(the location without union tags, the place it ends at)."""
    kept, place = [], (recipe_model(), None)
    for part in loc:
        tags = _union_tags(*place)
        if isinstance(part, str) and part in tags:
            place = (tags[part], None)  # the tag names the union member; it is no key of the recipe
            continue
        kept.append(part)
        place = _child(place[0], part)
    return tuple(kept), place


def _child(annotation: Any, part: Any) -> Place:
    """The place one step below `annotation`: a model's field, a list's item, a mapping's value."""
    annotation, _ = _unwrapped(annotation, None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and part in annotation.model_fields:
        field = annotation.model_fields[part]
        return _unwrapped(field.annotation, field.discriminator)
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (list, tuple) and isinstance(part, int) and args:
        return _unwrapped(args[0], None)
    if typing.get_origin(annotation) is dict and len(args) == 2:
        return _unwrapped(args[1], None)
    return None, None


def _unwrapped(annotation: Any, discriminator: str | None) -> Place:
    """Without Annotated (keeping its discriminator) and without an Optional's None."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            infos = [item for item in annotation.__metadata__ if isinstance(item, FieldInfo) and item.discriminator]
            discriminator = infos[0].discriminator if infos else discriminator
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType) and type(None) in typing.get_args(annotation):
            rest = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(rest) != 1:
                return annotation, discriminator
            annotation = rest[0]
        else:
            return annotation, discriminator


def _union_tags(annotation: Any, discriminator: str | None) -> dict[str, type[BaseModel]]:
    """{tag: member} of a discriminated union of models, in the union's order; {} for anything else."""
    if not isinstance(discriminator, str) or typing.get_origin(annotation) not in (Union, types.UnionType):
        return {}
    tags = {}
    for member in typing.get_args(annotation):
        field = getattr(member, "model_fields", {}).get(discriminator)
        if field is not None and typing.get_origin(field.annotation) is Literal:
            tags.update(dict.fromkeys(typing.get_args(field.annotation), member))
    return tags
