"""The Recipe model of what is registered: the core sections (schema.py), each task's `data` formats and
`eval.<task>` section, and each training method's `train.<method>` section.

The model is rebuilt whenever a task or a method is registered (tuneforge.registry.registry_version), so a
new task or method needs no edit here.
"""

from __future__ import annotations

import functools
from typing import Annotated, Literal, Union

from pydantic import Field, create_model

from tuneforge.recipe.schema import DataSection, EvalSection, ExportSection, RecipeBase, ServeSection, TrainSection
from tuneforge.registry import (
    Method,
    Task,
    formats_of,
    registered_methods,
    registered_tasks,
    registry_version,
)

NOTHING_REGISTERED = (
    "no {kind} is registered, so no recipe can be read; call tuneforge.builtins.register_builtins() first "
    "(the front ends and tests/conftest.py do)"
)


def recipe_model() -> type[RecipeBase]:
    """The Recipe schema of the tasks and methods registered now (rebuilt when one is added)."""
    for kind, registered in (("task", registered_tasks()), ("training method", registered_methods())):
        if not registered:
            raise RuntimeError(NOTHING_REGISTERED.format(kind=kind))
    return _recipe_model_for(registry_version())


def data_formats() -> dict[str, type[DataSection]]:
    """Every `data.format` value and the section class that reads it, in the order the tasks registered."""
    return {
        fmt: section for task in registered_tasks() for section in task.data_sections() for fmt in section.formats()
    }


@functools.cache
def _recipe_model_for(version: int) -> type[RecipeBase]:
    tasks = registered_tasks()
    _refuse_shared_formats(tasks)
    eval_model = _eval_model(tasks)
    train_model = _train_model(registered_methods())
    # Added here in the order a recipe is read (and written to recipe.resolved.yaml).
    return create_model(
        "Recipe",
        __base__=RecipeBase,
        data=(_data_type(tasks), Field(description="The training data; `format` picks its layout.")),
        train=(train_model, Field(default_factory=train_model, description="The schedule.")),
        eval=(eval_model, Field(default_factory=eval_model, description=EvalSection.__doc__)),
        export=(ExportSection, Field(default_factory=ExportSection, description="Exported artifacts.")),
        serve=(ServeSection, Field(default_factory=ServeSection, description="Serving defaults.")),
    )


def _refuse_shared_formats(tasks: list[Task]) -> None:
    owners: dict[str, str] = {}
    for task in tasks:
        for fmt in formats_of(task):
            if fmt in owners:
                raise ValueError(f"format {fmt!r} is claimed by tasks {owners[fmt]!r} and {task.name!r}")
            owners[fmt] = task.name


def _data_type(tasks: list[Task]):
    """The `data` section: one class per format, picked by its `format` value."""
    sections = tuple(section for task in tasks for section in task.data_sections())
    return Annotated[Union[sections], Field(discriminator="format")]  # noqa: UP007 (a runtime tuple)


def _eval_model(tasks: list[Task]) -> type[EvalSection]:
    evals = {
        task.name: (task.eval_section() | None, Field(None, description=task.eval_section().__doc__))
        for task in tasks
        if task.eval_section() is not None
    }
    return create_model("EvalSection", __base__=EvalSection, **evals)


def _train_model(methods: list[Method]) -> type[TrainSection]:
    """TrainSection whose `method` is one of the registered methods' names, plus train.<method> for each
    method with settings (None where the recipe leaves it out: the method then uses its defaults)."""
    names = tuple(method.name for method in methods)
    doc = TrainSection.model_fields["method"].description
    sections = {
        method.name: (method.settings | None, Field(None, description=method.settings.__doc__))
        for method in methods
        if method.settings is not None
    }
    return create_model(
        "TrainSection",
        __base__=TrainSection,
        method=(Literal[names], Field("sft", description=f"{doc} {_methods_help(methods)}")),
        **sections,
    )


def _methods_help(methods: list[Method]) -> str:
    """What each registered method trains on: 'sft: the tasks' formats; dpo: format preference; ...'."""

    def trains_on(method: Method) -> str:
        data = [f"format {fmt}" for fmt in method.formats]
        return " or ".join(data + (["the tasks' formats"] if method.trains_on_task_data else []))

    return "The methods and their data: " + "; ".join(f"{m.name}: {trains_on(m)}" for m in methods) + "."
