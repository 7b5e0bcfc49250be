"""The Recipes screens: every recipe the studio offers (GET /recipes), and one recipe's editor
(GET /recipes/<name>?profile=...): a form generated from the schema beside its YAML, kept in step both ways,
validated as the user types with the CLI's own messages, and saved as a new recipe in the user's folder.

The editor's endpoints take JSON: /api/recipes/validate, /api/recipes/form (the form of a YAML text),
/api/recipes/edit (the YAML with one field of the form changed) and /api/recipes/save.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ValidationError

from tuneforge.errors import UserError
from tuneforge.recipe.loading import (
    PROFILES,
    load_recipe,
    raw_recipe,
    read_yaml,
    recipe_from_text,
    recipe_profiles,
    recipe_to_yaml,
)
from tuneforge.registry import formats_of, registered_tasks, registry_version
from tuneforge.studio.context import Studio, studio_of
from tuneforge.studio.pages import TEMPLATES, page
from tuneforge.studio.recipe_form import recipe_form
from tuneforge.studio.recipe_save import save_recipe
from tuneforge.studio.recipe_text import dumped, form_value, header_comment, recipe_mapping, with_field

router = APIRouter()
MAX_BODY = 1 << 20  # a recipe is a few kilobytes; a megabyte of YAML is a mistake or an attack


class EditorText(BaseModel):
    yaml: str
    source_name: str


class FieldEdit(EditorText):
    key: str
    kind: str
    value: str | None = None
    checked: bool | None = None


class SaveRequest(BaseModel):
    name: str
    yaml: str
    source_name: str | None = None


class BodyTooLarge(Exception):
    """A request body over MAX_BODY (answered 413 before it is read whole)."""


# ---------------------------------------------------------------- pages


@router.get("/recipes")
def recipes_page(request: Request) -> HTMLResponse:
    studio = studio_of(request)
    rows = [recipe_row(studio, name, path) for name, path in studio.recipes().items()]
    rows.sort(key=lambda row: not row["shipped"])  # the shipped ones first, each group in its own order
    return page(request, "recipes.html", nav="recipes", recipes=rows, user_folder=studio.user_recipes)


@router.get("/recipes/{name}")
def recipe_page(request: Request, name: str, profile: str | None = None) -> HTMLResponse:
    studio = studio_of(request)
    source = studio.recipe_path(name)
    profiles = recipe_profiles(source)
    text = _editor_text(source, profile or None)
    return page(
        request,
        "recipe.html",
        nav="recipes",
        name=name,
        shipped=studio.is_shipped(source),
        source=source,
        profiles=profiles.values(),
        profile=profile or "",
        text=text,
        items=_form_items(text, source),
    )


def recipe_row(studio: Studio, name: str, path: Path) -> dict:
    """What the list shows of one recipe; a recipe that does not validate is listed with its problem."""
    stat = path.stat()
    summary = _recipe_summary(path, stat.st_mtime_ns, stat.st_size, registry_version())
    return {"name": name, "shipped": studio.is_shipped(path), "path": path, **summary}


@functools.lru_cache(maxsize=512)
def _recipe_summary(path: Path, mtime_ns: int, size: int, registry: int) -> dict:
    """Read once per version of the file: PyYAML in pure Python takes ~25 ms a parse, and a summary parses
    the file three times (its profiles' comments too). A data file deleted since shows on the recipe's page."""
    try:
        profiles = list(recipe_profiles(path).values())
        recipe = load_recipe(path)[0]
    except UserError as error:
        raw = _mapping_or_none(path)
        return {"problem": error.title, "profiles": [], "description": (raw or {}).get("description", "")}
    return {
        "problem": None,
        "profiles": profiles,
        "description": recipe.description,
        "tasks": recipe_tasks(recipe),
        "method": recipe.train.method,
        "base": recipe.model.base,
    }


def _mapping_or_none(path: Path) -> dict | None:
    try:
        raw = read_yaml(path)
    except UserError:
        return None
    return raw if isinstance(raw, dict) else None


def recipe_tasks(recipe) -> list[str]:
    """The task that reads the recipe's data format, then every task it evaluates."""
    reads = [task.name for task in registered_tasks() if recipe.data.format in formats_of(task)]
    evaluates = [task.name for task in registered_tasks() if task.evaluates(recipe)]
    return list(dict.fromkeys(reads + evaluates))


def _editor_text(source: Path, profile: str | None) -> str:
    """The file as written, or, with a profile, the recipe with the profile's keys written in (its
    profiles kept, so a saved copy still has them)."""
    text = source.read_text(encoding="utf-8")
    if profile is None:
        return text
    raw = raw_recipe(text, source, profile=profile)
    profiles = recipe_mapping(text, source).get(PROFILES)
    return dumped(raw | ({PROFILES: profiles} if profiles else {}), header_comment(text))


def _form_items(text: str, source: Path) -> list:
    """The form for the text; a text that is no mapping gives the empty recipe's form (the problems list
    says why)."""
    try:
        return recipe_form(recipe_mapping(text, source))
    except UserError:
        return recipe_form({})


# ---------------------------------------------------------------- the editor's endpoints


def json_body(model: type[BaseModel]):
    """Routes a POST's JSON body, read up to MAX_BODY, into `handler(request, body)`; 413 past it."""

    def decorate(handler):
        async def route(request: Request):
            try:
                body = await _read_body(request, model)
            except BodyTooLarge:
                limit = f"{MAX_BODY >> 20} MiB"
                return JSONResponse(
                    {"error": f"the request is larger than {limit}", "problems": [], "fix": "a recipe is far smaller"},
                    status_code=413,
                )
            return handler(request, body)

        route.__name__ = handler.__name__
        return route

    return decorate


async def _read_body(request: Request, model: type[BaseModel]) -> BaseModel:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise BodyTooLarge
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise BodyTooLarge
    try:
        return model.model_validate(json.loads(data))
    except (ValueError, ValidationError):
        fields = ", ".join(model.model_fields)
        raise UserError(f"the request must be a JSON object with {fields}") from None


@router.post("/api/recipes/validate")
@json_body(EditorText)
def validate_text(request: Request, body: EditorText) -> JSONResponse:
    """The problems `tuneforge train RECIPE --dry-run` prints for the text (as the file of source_name),
    each with its key path, or the resolved recipe."""
    source = studio_of(request).recipe_path(body.source_name)
    try:
        recipe = recipe_from_text(body.yaml, source)
    except UserError as error:
        problems = error.problems or [error.title]
        return JSONResponse(
            {"ok": False, "title": error.title, "fix": error.fix, "problems": [_keyed(line) for line in problems]}
        )
    return JSONResponse({"ok": True, "problems": [], "resolved": recipe_to_yaml(recipe)})


@router.post("/api/recipes/form")
@json_body(EditorText)
def form_of_text(request: Request, body: EditorText) -> JSONResponse:
    """The form's HTML for the text (sent back when the YAML was edited, or a switch changed the fields)."""
    source = studio_of(request).recipe_path(body.source_name)
    items = recipe_form(recipe_mapping(body.yaml, source))
    return JSONResponse({"html": TEMPLATES.get_template("recipe_form.html").render(items=items)})


@router.post("/api/recipes/edit")
@json_body(FieldEdit)
def edit_field(request: Request, body: FieldEdit) -> JSONResponse:
    """The text with one field of the form set (or, emptied, left out)."""
    source = studio_of(request).recipe_path(body.source_name)
    value = form_value(body.kind, body.value, body.checked)
    return JSONResponse({"yaml": with_field(body.yaml, source, body.key, value)})


@router.post("/api/recipes/save")
@json_body(SaveRequest)
def save_text(request: Request, body: SaveRequest) -> JSONResponse:
    studio = studio_of(request)
    source = studio.recipe_path(body.source_name) if body.source_name else None
    path = save_recipe(studio, body.name, body.yaml, source)
    return JSONResponse({"name": body.name, "path": str(path), "url": f"/recipes/{body.name}"})


def _keyed(problem: str) -> dict:
    """A problem line with the key path it names (`train.lr: ...`), or key None for a whole-file problem."""
    key, colon, _ = problem.partition(": ")
    is_key = colon and key and all(part.isidentifier() or part.isdigit() for part in key.split("."))
    return {"key": key if is_key else None, "message": problem}
