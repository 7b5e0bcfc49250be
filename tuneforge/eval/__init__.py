"""`tuneforge eval RUN`: the recipe's own task metrics, written to RUN/eval/ as JSON, Markdown and PNG.

The evaluations themselves belong to the tasks (tuneforge/tasks/<task>/evaluate.py); this package
holds what they share: the base-vs-tuned loop and the held-out split (kit.py), the reference
metrics (metrics.py), batched generation with the run's adapter (generate.py), and the task metric
of exported artifacts, in process or served (artifact.py, answerers.py).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from tuneforge.runs import RunFolder, load_run, write_json_atomic

log = logging.getLogger(__name__)


def evaluate_run(run_dir: Path, overrides: list[str] | None = None) -> Path:
    """Runs every evaluation the recipe asks for; returns the eval folder. `overrides` (dotted
    KEY=VALUE, as for train) change the run's recipe for this evaluation only, e.g. the judge."""
    from tuneforge.tasks import registered

    recipe, manifest = load_run(run_dir)
    if overrides:
        recipe = override_run_recipe(recipe, overrides, run_dir)
    run = RunFolder(run_dir, recipe, manifest)
    staging = run_dir / ".eval.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    metrics = manifest.get("metrics", {})
    results: dict = {
        "run": str(run_dir),
        "recipe": recipe.name,
        "held_out_loss": {"before": metrics.get("held_out_loss_before"), "after": metrics.get("held_out_loss_after")},
    }
    sections = [held_out_loss_markdown(results["held_out_loss"])]
    if "held_out_reward_before" in metrics:  # GRPO measures its held-out prompts by reward, not loss
        results["held_out_reward"] = {
            "before": metrics.get("held_out_reward_before"),
            "after": metrics.get("held_out_reward_after"),
        }
        sections = [held_out_reward_markdown(results["held_out_reward"])]
    for task in registered():
        if task.evaluates(recipe):
            results[task.name], markdown = task.evaluate(run, staging)
            sections.append(markdown)
    write_json_atomic(staging / "results.json", results)
    (staging / "report.md").write_text(f"# Evaluation of {run_dir}\n\n" + "\n\n".join(sections) + "\n")
    final = run_dir / "eval"
    if (final / "artifacts").is_dir():  # `eval --artifact` results are kept across evaluations
        (final / "artifacts").rename(staging / "artifacts")
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    log.info("evaluation written to %s\n%s", final, json.dumps(results, indent=2)[:2000])
    return final


def override_run_recipe(recipe, overrides: list[str], run_dir: Path):
    """The run's recipe with eval-time overrides applied and validated again (paths in it are absolute)."""
    from tuneforge.recipe import apply_overrides, validate_recipe
    from tuneforge.runs import RESOLVED_RECIPE

    log.info("eval-time overrides: %s", ", ".join(overrides))
    return validate_recipe(apply_overrides(recipe.model_dump(mode="json"), overrides), run_dir / RESOLVED_RECIPE)


def held_out_loss_markdown(loss: dict) -> str:
    if loss["before"] is None or loss["after"] is None:
        return "## Held-out loss\n\nNot measured (no validation split)."
    change = (loss["after"] - loss["before"]) / loss["before"] * 100
    return (
        "## Held-out loss (assistant tokens, validation split)\n\n| before | after | change |\n|---|---|---|\n"
        f"| {loss['before']:.4f} | {loss['after']:.4f} | {change:+.1f}% |"
    )


def held_out_reward_markdown(reward: dict) -> str:
    if reward["before"] is None or reward["after"] is None:
        return "## Held-out reward\n\nNot measured (no validation split)."
    return (
        "## Held-out reward (GRPO: mean weighted reward of sampled replies to validation prompts)\n\n"
        f"| before | after | change |\n|---|---|---|\n| {reward['before']:.4f} | {reward['after']:.4f} | "
        f"{reward['after'] - reward['before']:+.4f} |"
    )
