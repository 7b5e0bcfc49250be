"""A tiny classification run: the label-probability Predictor, its evaluation files, `predict` and
`classify`. The classification format itself: tests/unit/test_classification.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import CLASSIFICATION_LABELS as LABELS
from helpers import classification_recipe, write_jsonl
from tuneforge.cli import main
from tuneforge.recipe.loading import load_recipe

pytestmark = pytest.mark.integration

REVIEWS = Path(__file__).resolve().parents[2] / "recipes" / "sentiment" / "data" / "reviews.jsonl"


@pytest.fixture(scope="module")
def classification_run(tiny_llama_dir, tmp_path_factory):
    from tuneforge.train.finetune import train_recipe

    tmp = tmp_path_factory.mktemp("sentiment")
    records = [json.loads(line) for line in REVIEWS.read_text(encoding="utf-8").splitlines()[:60]]
    recipe, source = load_recipe(classification_recipe(tmp, str(tiny_llama_dir), records))
    return train_recipe(recipe, source, tmp / "runs", resume="none")


def test_predictor_probabilities_are_real_and_switchable(classification_run):
    from tuneforge.tasks.classification.predict import Predictor

    predictor = Predictor(classification_run, batch_size=3)
    texts = ["房间干净整洁，服务热情。", "质量很差，用两天就坏了。", "还可以", "价格实惠"]
    batch = predictor.predict_batch(texts)
    for result in batch:
        assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert result["confidence"] == max(result["probabilities"].values()) and result["label"] in LABELS
    single = predictor.predict(texts[1])
    assert single["probabilities"]["positive"] == pytest.approx(batch[1]["probabilities"]["positive"], abs=1e-4)
    predictor.use_adapter = False
    base = predictor.predict(texts[1])
    assert base["probabilities"]["positive"] != pytest.approx(single["probabilities"]["positive"], abs=1e-4)


def test_evaluation_writes_every_report(classification_run):
    result = CliRunner().invoke(main, ["eval", str(classification_run)])
    assert result.exit_code == 0, result.output
    out = classification_run / "eval"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["samples"] == 12 and 0 <= metrics["accuracy"] <= 1 and len(metrics["confusion_matrix"]) == 2
    assert sum(map(sum, metrics["confusion_matrix"])) == 12
    confidence = json.loads((out / "confidence_analysis.json").read_text())
    assert sum(b["count"] for b in confidence["histogram"]) == 12 and 0.5 <= confidence["mean_confidence"] <= 1
    robustness = json.loads((out / "robustness_result.json").read_text())
    assert set(robustness["accuracy"]) == {"synonym_swap", "typo_insertion", "punctuation_change"}
    baseline = json.loads((out / "baseline_comparison.json").read_text())
    assert baseline["accuracy"]["absolute_gain"] == pytest.approx(
        baseline["accuracy"]["tuned"] - baseline["accuracy"]["base"]
    )
    tfidf = baseline["tfidf_baseline"]
    assert tfidf["train_texts"] == 42 and tfidf["metrics"]["samples"] == 12  # trained on the run's own train split
    assert tfidf["tuned_minus_tfidf"]["accuracy"] == pytest.approx(metrics["accuracy"] - tfidf["metrics"]["accuracy"])
    for png in ("confusion_matrix.png", "confidence_histogram.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    report = (out / "report.md").read_text()
    assert "## Classification" in report and "| TF-IDF baseline (42 train texts) |" in report
    gap = round((tfidf["metrics"]["accuracy"] - metrics["accuracy"]) * 100, 1)
    expected = f"TF-IDF baseline is {gap:.1f} points above the tuned model" if gap > 0 else "points above the TF-IDF"
    assert expected in report
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and all({"tuned", "base", "tfidf"} <= row.keys() for row in rows)


def test_predict_labels_a_file_and_resumes(classification_run, tmp_path):
    texts = write_jsonl(tmp_path / "in.jsonl", [{"id": f"t{i}", "text": t} for i, t in enumerate(["好", "差", "一般"])])
    output = tmp_path / "out.jsonl"
    command = ["predict", str(classification_run), "--input", str(texts), "--output", str(output)]
    first = CliRunner().invoke(main, command)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout.strip().splitlines()[-1]) == {"requests": 3, "skipped": 0, "answered": 3}
    write_jsonl(texts, [{"id": f"t{i}", "text": t} for i, t in enumerate(["好", "差", "一般", "很棒"])])
    second = CliRunner().invoke(main, command)
    assert json.loads(second.stdout.strip().splitlines()[-1]) == {"requests": 4, "skipped": 3, "answered": 1}
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["t0", "t1", "t2", "t3"] and all(r["label"] in LABELS for r in rows)


def test_classify_one_text_interactive_and_demo(classification_run):
    one = CliRunner().invoke(main, ["classify", str(classification_run), "房间很干净"])
    assert one.exit_code == 0, one.output
    assert re.fullmatch(r"(negative|positive) \(\d+\.\d%\)", one.stdout.strip())
    typed = CliRunner().invoke(main, ["classify", str(classification_run)], input="好\n差\nquit\n不会读到\n")
    assert typed.exit_code == 0 and typed.stdout.count("%)") == 2  # two answers, then quit ends the loop
    demo = CliRunner().invoke(main, ["classify", str(classification_run), "--demo"])
    assert demo.exit_code == 0 and "(labelled " in demo.stdout


def test_classify_refuses_a_run_that_is_not_classification(tiny_trained_run):
    result = CliRunner().invoke(main, ["classify", str(tiny_trained_run), "text"])
    assert result.exit_code == 2 and "not a run of a classification recipe" in result.output
