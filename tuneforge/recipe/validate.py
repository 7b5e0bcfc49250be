"""A recipe's raw mapping validated: every problem, of each section and across sections, reported together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tuneforge.errors import ProblemCollector, UserError
from tuneforge.recipe.assemble import recipe_model
from tuneforge.recipe.checks import recipe_problems
from tuneforge.recipe.messages import format_error
from tuneforge.recipe.schema import Recipe


def validate_recipe(raw: Any, source: Path, record: bool = False) -> Recipe:
    """The validated recipe, or one UserError that lists every problem with its key path. Relative paths
    inside it are resolved against the folder of `source`.

    `record`: the recipe of a finished run (its recipe.resolved.yaml, or an export's copy). Its paths (data,
    model.adapter, probe prompts, reward files) are resolved but need not exist any more: later stages read
    the run's own copies (tuneforge/run_folder.py). Everything else is checked as usual."""
    if not isinstance(raw, dict):
        raise UserError(f"{source}: a recipe must be a YAML mapping of sections, got {type(raw).__name__}")
    problems = ProblemCollector(f"invalid recipe {source}")
    try:
        recipe = recipe_model().model_validate(raw, context={"base_dir": source.parent, "record": record})
    except ValidationError as exc:
        for error in exc.errors():
            problems.add(format_error(error))
    else:
        for problem in recipe_problems(recipe):
            problems.add(problem)
    problems.raise_if_any(fix="edit the recipe or the -o override named above")
    return recipe
