"""`tuneforge eval RUN`: the recipe's own task metrics, written to RUN/eval/ as JSON, Markdown and PNG."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from tuneforge.runs import load_run, write_json_atomic

log = logging.getLogger(__name__)


def evaluate_run(run_dir: Path) -> Path:
    """Runs every evaluation the recipe asks for; returns the eval folder."""
    recipe, manifest = load_run(run_dir)
    staging = run_dir / ".eval.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    metrics = manifest.get("metrics", {})
    results: dict = {"run": str(run_dir), "recipe": recipe.name,
                     "held_out_loss": {"before": metrics.get("held_out_loss_before"),
                                       "after": metrics.get("held_out_loss_after")}}
    sections = [held_out_loss_markdown(results["held_out_loss"])]
    if recipe.eval.persona:
        from tuneforge.eval.persona import evaluate_persona

        results["persona"], markdown = evaluate_persona(run_dir, recipe, manifest, staging)
        sections.append(markdown)
    write_json_atomic(staging / "results.json", results)
    (staging / "report.md").write_text(f"# Evaluation of {run_dir}\n\n" + "\n\n".join(sections) + "\n")
    final = run_dir / "eval"
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    log.info("evaluation written to %s\n%s", final, json.dumps(results, indent=2)[:2000])
    return final


def held_out_loss_markdown(loss: dict) -> str:
    if loss["before"] is None or loss["after"] is None:
        return "## Held-out loss\n\nNot measured (no validation split)."
    change = (loss["after"] - loss["before"]) / loss["before"] * 100
    return ("## Held-out loss (assistant tokens, validation split)\n\n| before | after | change |\n|---|---|---|\n"
            f"| {loss['before']:.4f} | {loss['after']:.4f} | {change:+.1f}% |")
