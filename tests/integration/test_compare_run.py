"""`tuneforge compare` through the real CLI on two real evaluated runs: tiny classification runs that differ
in their learning rate, trained and evaluated here. Its parts on hand-made files: tests/unit/test_compare.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import classification_recipe
from tuneforge.cli import main
from tuneforge.recipe.loading import load_recipe

pytestmark = pytest.mark.integration

REVIEWS = Path(__file__).resolve().parents[2] / "recipes" / "sentiment" / "data" / "reviews.jsonl"


@pytest.fixture(scope="module")
def evaluated_runs(tiny_llama_dir, tmp_path_factory) -> tuple[Path, Path]:
    from tuneforge.train.finetune import train_recipe

    tmp = tmp_path_factory.mktemp("compare")
    records = [json.loads(line) for line in REVIEWS.read_text(encoding="utf-8").splitlines()[:60]]
    runs = []
    for lr in ("3e-2", "5e-4"):  # a high rate moves a tiny model's labels; a low one barely
        recipe, source = load_recipe(classification_recipe(tmp, str(tiny_llama_dir), records), [f"train.lr={lr}"])
        run = train_recipe(recipe, source, tmp / "runs", resume="none", run_id=f"lr-{lr}")
        evaluated = CliRunner().invoke(main, ["eval", str(run)])
        assert evaluated.exit_code == 0, evaluated.output
        runs.append(run)
    return runs[0], runs[1]


def test_two_evaluated_runs_compare_item_by_item(evaluated_runs):
    a, b = evaluated_runs
    result = CliRunner().invoke(main, ["compare", str(a), str(b)])
    assert result.exit_code == 0, result.output
    comparison = json.loads((b / "compare" / f"tinysent--{a.name}" / "compare.json").read_text())
    assert set(comparison) == {"schema", "artifact", "a", "b", "settings", "bootstrap", "metrics", "tasks"}
    assert comparison["settings"]["differences"] == [{"key": "train.lr", "a": 3e-2, "b": 5e-4}]
    assert all(found["same"] for found in comparison["settings"]["data_sha256"].values())  # one seed, one split
    rows = {(row["task"], row["metric"]): row for row in comparison["metrics"]}
    tuned = {
        name: json.loads((run / "eval" / "results.json").read_text())["classification"]["metrics"]["accuracy"]
        for name, run in (("a", a), ("b", b))
    }
    accuracy = rows["classification", "accuracy"]
    assert (accuracy["a"], accuracy["b"]) == (tuned["a"], tuned["b"])
    interval = accuracy["interval"]
    assert interval["low"] <= accuracy["difference"] <= interval["high"] and interval["resamples"] == 2000
    section = comparison["tasks"]["classification"]
    assert section["paired"] and section["items"] == {"a": 12, "b": 12}
    moved = section["improved_count"] - section["worsened_count"]
    assert moved == pytest.approx(accuracy["difference"] * 12, abs=1e-9)  # each flip is one item of 12
    assert section["improved_count"] + section["worsened_count"] + section["unchanged_count"] == 12
    for item in section["improved"]:
        assert item["b"]["output"] == item["reference"] != item["a"]["output"]
    for item in section["worsened"]:
        assert item["a"]["output"] == item["reference"] != item["b"]["output"]
    assert "classification:" in result.output and "paired on 12 items" in result.output
    assert (b / "compare" / f"tinysent--{a.name}" / "compare.md").read_text().startswith("# Run comparison")


def test_runs_of_different_tasks_exit_2(evaluated_runs, tiny_trained_run):
    result = CliRunner().invoke(main, ["compare", str(evaluated_runs[0]), str(tiny_trained_run)])
    assert result.exit_code == 2 and "the runs are of different tasks" in result.output
    assert "Traceback" not in result.output


def test_a_run_compares_with_itself_on_its_evaluation_and_on_its_adapter(evaluated_runs):
    from helpers import assert_compares_with_itself

    a, _ = evaluated_runs
    assert_compares_with_itself(a)
    section = assert_compares_with_itself(a, "adapter")["tasks"]["classification"]
    assert section["items"] == {"a": 12, "b": 12} and section["unchanged_count"] == 12
