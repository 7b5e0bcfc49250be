"""The evaluation stage without a model: the held-out measure of the run's method, the eval folder's
atomic replacement (artifact results kept), and the short summary `tuneforge eval` prints from the
results. The task evaluations themselves: tests/integration/*_run.py."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from helpers import sharegpt_records, write_jsonl, write_recipe
from tuneforge.evaluate.run import evaluate_run, held_out_section, summary_rows
from tuneforge.recipe.loading import load_recipe, recipe_to_yaml
from tuneforge.runs import MANIFEST, RESOLVED_RECIPE


def test_the_held_out_measure_is_the_one_the_run_s_method_took():
    results: dict = {}
    section = held_out_section(results, "sft", {"held_out_loss_before": 2.0, "held_out_loss_after": 1.5})
    assert results == {"held_out_loss": {"before": 2.0, "after": 1.5}}
    assert section.startswith("## Held-out loss") and "| 2.0000 | 1.5000 | -0.5000 (-25.0%) |" in section

    results = {}
    section = held_out_section(results, "grpo", {"held_out_reward_before": 0.25, "held_out_reward_after": 0.5})
    assert results == {
        "held_out_loss": {"before": None, "after": None},  # the key every results.json has
        "held_out_reward": {"before": 0.25, "after": 0.5},
    }
    assert section.startswith("## Held-out reward") and "+0.2500" in section

    results = {}
    assert "Not measured (no validation split)" in held_out_section(results, "sft", {})


def finished_run(tmp_path: Path) -> Path:
    """A run folder as training leaves it, without the model files (nothing here loads one)."""
    data = write_jsonl(tmp_path / "data.jsonl", sharegpt_records(8))
    body = {"name": "tiny", "model": {"base": "embedded:smollm2-135m-instruct"}, "data": {"format": "sharegpt"}}
    recipe, _ = load_recipe(
        write_recipe(tmp_path / "tiny.yaml", {**body, "data": {**body["data"], "train": str(data)}})
    )
    run = tmp_path / "runs" / "tiny" / "run-1"
    run.mkdir(parents=True)
    (run / RESOLVED_RECIPE).write_text(recipe_to_yaml(recipe))
    metrics = {"held_out_loss_before": 2.0, "held_out_loss_after": 1.5}
    (run / MANIFEST).write_text(json.dumps({"status": "complete", "metrics": metrics}))
    return run


def test_a_new_evaluation_replaces_the_folder_but_keeps_the_artifact_results(tmp_path, caplog):
    run = finished_run(tmp_path)
    (run / "eval" / "artifacts").mkdir(parents=True)
    (run / "eval" / "artifacts" / "gguf-q8_0.json").write_text("{}")
    (run / "eval" / "stale.png").write_text("from an older evaluation")
    with caplog.at_level(logging.INFO, logger="tuneforge.evaluate.run"):
        folder = evaluate_run(run)
    assert folder == run / "eval"
    assert sorted(p.name for p in folder.iterdir()) == ["artifacts", "report.md", "results.json"]
    assert (folder / "artifacts" / "gguf-q8_0.json").read_text() == "{}"
    results = json.loads((folder / "results.json").read_text())
    assert results["held_out_loss"] == {"before": 2.0, "after": 1.5} and results["recipe"] == "tiny"
    assert "## Held-out loss" in (folder / "report.md").read_text()
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no staging folder left behind
    assert "held_out_loss" not in caplog.text and str(folder) in caplog.text  # the folder, not the JSON


def test_a_failed_evaluation_leaves_the_previous_one_in_place(tmp_path, monkeypatch):
    run = finished_run(tmp_path)
    (run / "eval").mkdir()
    (run / "eval" / "results.json").write_text('{"previous": true}')
    monkeypatch.setattr("tuneforge.evaluate.run.write_text_atomic", lambda *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        evaluate_run(run)
    assert json.loads((run / "eval" / "results.json").read_text()) == {"previous": True}
    assert not [p for p in run.iterdir() if p.name.startswith(".")]


PAIRS = {"base": {"accuracy": 0.5, "mean_margin": -0.1, "median_margin": 0.0}}
TASK_RESULTS = {
    "persona": {
        "with_system_prompt": {"base": {"persona_share": 0.1}, "tuned": {"persona_share": 0.8}, "samples": []},
        "without_system_prompt": {"base": {"persona_share": 0.0}, "tuned": {"persona_share": 0.5}, "samples": []},
    },
    "classification": {
        "metrics": {"accuracy": 0.9, "f1": 0.88},
        "base_accuracy": 0.6,
        "base_f1": 0.55,
        "robustness_score": 0.97,
    },
    "domain": {
        "reference_metrics": {
            "base": {"rouge_l": 0.2, "bleu": {"score": 5.0}},
            "tuned": {"rouge_l": 0.4, "bleu": {"score": 12.0}},
        },
        "judge": {"tuned": {"means": {"overall": 3.5}}, "model": "judge"},
    },
    "style": {
        "perplexity": {"base": {"perplexity": 30.0}, "tuned": {"perplexity": 20.0}},
        "distance": {"base": {"overall": 0.4}, "tuned": {"overall": 0.2}, "reference": {"overall": 0.1}},
    },
    "translation": {"mean": {"base": {"bleu": 10.0, "chrf": 30.0}, "tuned": {"bleu": 20.0, "chrf": 45.0}}},
    "preference": {"pairs": 10, **PAIRS, "tuned": {"accuracy": 0.8, "mean_margin": 1.2, "median_margin": 1.0}},
}


def test_the_summary_has_the_held_out_measure_and_each_task_s_headline():
    results = {"run": "r", "recipe": "x", "held_out_loss": {"before": 2.0, "after": 1.5}, **TASK_RESULTS}
    rows = summary_rows(results)
    assert rows[0] == ("held_out_loss", 2.0, 1.5)
    assert ("persona share, with system prompt", 0.1, 0.8) in rows
    assert ("accuracy", 0.6, 0.9) in rows and ("F1", 0.55, 0.88) in rows
    assert ("ROUGE-L F1", 0.2, 0.4) in rows and ("judge overall (1-5)", None, 3.5) in rows
    assert ("style distance (0 = the author)", 0.4, 0.2) in rows
    assert ("BLEU (mean of directions)", 10.0, 20.0) in rows
    assert ("chosen ranked first", 0.5, 0.8) in rows
    assert all(len(row) == 3 and isinstance(row[0], str) for row in rows)


def test_the_summary_shows_the_measure_that_was_taken():
    grpo = {"held_out_loss": {"before": None, "after": None}, "held_out_reward": {"before": 0.2, "after": 0.4}}
    assert summary_rows(grpo) == [("held_out_reward", 0.2, 0.4)]
    unmeasured = {"held_out_loss": {"before": None, "after": None}}
    assert summary_rows(unmeasured) == [("held_out_loss", None, None)]
    marked = {**unmeasured, "preference": {"replies": 4, "accuracy": 0.75, "mean_reward_good": 0.3}}
    marked["preference"]["mean_reward_bad"] = -0.2
    assert ("reward sign agrees with the mark", None, 0.75) in summary_rows(marked)
