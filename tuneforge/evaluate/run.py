"""`tuneforge eval RUN`: the run's held-out measure and the recipe's own task metrics, written to RUN/eval/
as JSON, Markdown and PNG.

    tuneforge eval runs/quickstart/<run-id>

The held-out measure is the one the run's training method took before and after training (its
`held_out`: the loss for most methods, a reward for GRPO). Every registered task that the recipe
evaluates adds its section (tuneforge/tasks/<task>/evaluate.py). The folder is written under a
temporary name and renamed into place; the results of `eval --artifact` (RUN/eval/artifacts/) are kept.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tuneforge.files import atomic_folder, write_json_atomic, write_text_atomic
from tuneforge.recipe.loading import apply_overrides
from tuneforge.recipe.validate import validate_recipe
from tuneforge.registry import HELD_OUT_LOSS, get_method, registered_methods, registered_tasks
from tuneforge.run_folder import RunFolder, load_run
from tuneforge.runs import RESOLVED_RECIPE

log = logging.getLogger(__name__)
KEPT = ("artifacts",)  # `eval --artifact` results survive a new evaluation


def evaluate_run(run_dir: Path, overrides: list[str] | None = None) -> Path:
    """Runs every evaluation the recipe asks for; returns the eval folder. `overrides` (dotted
    KEY=VALUE, as for train) change the run's recipe for this evaluation only, e.g. the judge."""
    recipe, manifest = load_run(run_dir)
    if overrides:
        recipe = override_run_recipe(recipe, overrides, run_dir)
    run = RunFolder(run_dir, recipe, manifest)
    results: dict = {"run": str(run_dir), "recipe": recipe.name}
    section = held_out_section(results, recipe.train.method, manifest.get("metrics", {}))
    sections = [section]
    final = run_dir / "eval"
    with atomic_folder(final, keep=KEPT) as staging:
        for task in registered_tasks():
            if task.evaluates(recipe):
                results[task.name], markdown = task.evaluate(run, staging)
                sections.append(markdown)
        write_json_atomic(staging / "results.json", results)
        write_text_atomic(staging / "report.md", f"# Evaluation of {run_dir}\n\n" + "\n\n".join(sections) + "\n")
    log.info("evaluation written to %s", final)
    return final


def override_run_recipe(recipe, overrides: list[str], run_dir: Path):
    """The run's recipe with eval-time overrides applied and validated again, as the run's record (paths in it
    are absolute and need not exist: the run holds its own copies)."""
    log.info("eval-time overrides: %s", ", ".join(overrides))
    raw = apply_overrides(recipe.model_dump(mode="json"), overrides)
    return validate_recipe(raw, run_dir / RESOLVED_RECIPE, record=True)


def held_out_section(results: dict, method_name: str, metrics: dict) -> str:
    """Adds the held-out measure of the run's method to `results` (the loss always, under held_out_loss,
    and the method's own measure under its key) and returns its Markdown section."""
    method = get_method(method_name)
    for key in dict.fromkeys([HELD_OUT_LOSS[0], method.held_out[0]]):
        results[key] = {"before": metrics.get(f"{key}_before"), "after": metrics.get(f"{key}_after")}
    return held_out_markdown(method.held_out_title, results[method.held_out[0]])


def held_out_markdown(title: str, measured: dict) -> str:
    before, after = measured["before"], measured["after"]
    if before is None or after is None:
        return f"## {title}\n\nNot measured (no validation split)."
    relative = f" ({(after - before) / abs(before) * 100:+.1f}%)" if before else ""
    return (
        f"## {title}\n\n| before | after | change |\n|---|---|---|\n"
        f"| {before:.4f} | {after:.4f} | {after - before:+.4f}{relative} |"
    )


def summary_rows(results: dict) -> list[tuple[str, Any, Any]]:
    """The few numbers worth printing after an evaluation, as (metric, base, tuned) rows: the held-out
    measure (before and after training), then each evaluated task's headline."""
    rows = held_out_rows(results)
    for task in registered_tasks():
        if task.name in results:
            rows += task.headline(results[task.name])
    return rows


def held_out_rows(results: dict) -> list[tuple[str, Any, Any]]:
    """The held-out measures in the results that were taken (GRPO's run has a reward, not a loss); the
    loss row alone, unmeasured, where none was."""
    keys = dict.fromkeys([HELD_OUT_LOSS[0], *(method.held_out[0] for method in registered_methods())])
    rows = [(key, results[key]["before"], results[key]["after"]) for key in keys if key in results]
    measured = [row for row in rows if row[1] is not None or row[2] is not None]
    return measured or rows[:1]
