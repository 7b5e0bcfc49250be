"""`tuneforge compare` without a model: the paired bootstrap, the settings diff, the pairing of items and the
choice of changed items, on hand-made run folders and result files. Two real evaluated runs:
tests/integration/test_compare_run.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import CLASSIFICATION_LABELS, classification_recipe, sharegpt_records, write_jsonl, write_recipe
from tuneforge.cli import main
from tuneforge.eval.items import ComparedItem, ItemMetric, ItemResults, mean_on
from tuneforge.evaluate.bootstrap import paired_interval
from tuneforge.evaluate.compare import (
    DIFFERENT_ITEMS,
    SCHEMA,
    compare_runs,
    compare_task,
    flatten,
    settings_differences,
    write_comparison,
)
from tuneforge.recipe.loading import load_recipe, recipe_to_yaml
from tuneforge.runs import MANIFEST, RESOLVED_RECIPE

TEXTS = [f"review number {i}" for i in range(8)]
TRUTH = ["negative", "positive"] * 4


# ---------------------------------------------------------------- the bootstrap


def test_the_paired_interval_of_a_clear_margin_is_where_the_normal_approximation_puts_it():
    # 200 items: A right on 60, B right on 160 (and on all of A's): B - A = 0.5 in accuracy. The paired
    # differences are 1 on 100 items and 0 on 100, so the standard error is 0.5 / sqrt(200).
    count = 200
    a = mean_on([float(i < 60) for i in range(count)])
    b = mean_on([float(i < 160) for i in range(count)])
    positions = list(range(count))
    interval = paired_interval(a, b, positions, positions)
    margin = 1.96 * 0.5 / count**0.5
    assert interval.low == pytest.approx(0.5 - margin, abs=0.012)
    assert interval.high == pytest.approx(0.5 + margin, abs=0.012)
    assert interval.excludes_zero and interval.resamples == 2000 and interval.level == 0.95
    assert paired_interval(a, b, positions, positions) == interval  # a fixed seed: the same interval every time


def test_identical_results_have_a_zero_interval_and_unpaired_order_is_followed():
    values = [0.1, 0.9, 0.4, 0.7]
    same = paired_interval(mean_on(values), mean_on(values[::-1]), [0, 1, 2, 3], [3, 2, 1, 0])
    assert same.low == same.high == 0.0 and not same.excludes_zero


def test_corpus_bleu_and_chrf_from_counts_equal_sacrebleu_on_any_subset():
    from tuneforge.eval.metrics import (
        bleu_of_statistics,
        bleu_statistics,
        chrf_of_statistics,
        chrf_statistics,
        corpus_bleu,
        corpus_chrf,
        sentence_chrf,
    )

    hyps = ["the cat sat on the mat", "a dog barked loudly", "we went to the park today", "hello"]
    refs = ["the cat sat on a mat", "the dog barked", "today we went to the park", "hello there"]
    bleu, chrf = bleu_statistics(hyps, refs, "13a"), chrf_statistics(hyps, refs)
    assert bleu_of_statistics(bleu, "13a") == pytest.approx(corpus_bleu(hyps, refs, "13a")["score"], abs=1e-9)
    subset = [0, 2, 2]  # a resample repeats sentences
    picked = ([hyps[i] for i in subset], [refs[i] for i in subset])
    assert bleu_of_statistics(bleu[subset], "13a") == pytest.approx(corpus_bleu(*picked, "13a")["score"], abs=1e-9)
    assert chrf_of_statistics(chrf[subset]) == pytest.approx(corpus_chrf(*picked), abs=1e-9)
    assert chrf_of_statistics(chrf[[1]]) == pytest.approx(sentence_chrf(hyps[1], refs[1]), abs=1e-9)


@pytest.mark.filterwarnings("ignore::UserWarning")  # scikit-learn on these tiny label sets: ROC-AUC undefined
def test_precision_recall_and_f1_from_counts_equal_the_evaluation_s():
    from tuneforge.tasks.classification.compare import label_counts
    from tuneforge.tasks.classification.evaluate import label_metrics

    for labels, truth, predicted in (
        (
            ["negative", "positive"],
            ["negative", "positive", "positive", "negative", "positive"],
            ["positive", "positive", "negative", "negative", "positive"],
        ),
        (
            ["a", "b", "c"],
            ["a", "b", "c", "a", "b", "a"],
            ["a", "c", "c", "b", "(none)", "a"],
        ),  # (none): no label named
        (["a", "b", "c"], ["a", "a", "b"], ["a", "a", "a"]),  # a label neither true nor predicted counts as 0
    ):
        items = [ComparedItem(str(i), "", p, None, t) for i, (t, p) in enumerate(zip(truth, predicted))]
        even = [{"label": p, "probabilities": {label: 1 / len(labels) for label in labels}} for p in predicted]
        expected = label_metrics(labels, truth, even)
        found = label_counts(labels, items)(list(range(len(items))))
        assert found == pytest.approx({key: expected[key] for key in ("precision", "recall", "f1")}, abs=1e-12)


# ---------------------------------------------------------------- settings


def test_settings_differences_name_dotted_keys_and_keys_one_recipe_lacks():
    a = {"train": {"lr": 1e-4, "epochs": 1, "targets": ["q", "v"]}, "eval": {"persona": None}, "serve": {}}
    b = {"train": {"lr": 5e-4, "epochs": 1, "targets": ["q", "v", "k"]}, "eval": {"persona": {"max": 8}}}
    assert flatten(a) == {
        "train.lr": 1e-4,
        "train.epochs": 1,
        "train.targets": ["q", "v"],
        "eval.persona": None,
        "serve": {},
    }
    assert settings_differences(a, b) == [
        {"key": "train.lr", "a": 1e-4, "b": 5e-4},
        {"key": "train.targets", "a": ["q", "v"], "b": ["q", "v", "k"]},
        {"key": "eval.persona", "a": None},
        {"key": "serve", "a": {}},
        {"key": "eval.persona.max", "b": 8},
    ]
    assert settings_differences(a, a) == []


# ---------------------------------------------------------------- items


def scored(scores: list[float], keys: str = "abcdef", higher: bool = True) -> ItemResults:
    items = [ComparedItem(key, f"prompt {key}", f"out {s}", s, "ref") for key, s in zip(keys, scores)]
    return ItemResults(
        [ItemMetric("mean", sum(scores) / len(scores), higher, mean_on(scores))], items, "score", False, higher
    )


def test_the_items_that_moved_most_come_first_in_each_direction():
    a = scored([0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    b = scored([0.9, 0.1, 0.6, 0.5, 0.2, 0.8], keys="fedcba")  # B answered the same items in another order
    rows, section = compare_task(a, b, changed=2)
    assert section["paired"] and section["note"] is None
    assert (section["improved_count"], section["worsened_count"], section["unchanged_count"]) == (3, 2, 1)
    assert [(i["key"], round(i["change"], 2)) for i in section["improved"]] == [("f", 0.4), ("a", 0.3)]
    assert [(i["key"], round(i["change"], 2)) for i in section["worsened"]] == [("e", -0.4), ("b", -0.3)]
    assert (
        section["improved"][0]["a"] == {"output": "out 0.5", "score": 0.5}
        and section["improved"][0]["reference"] == "ref"
    )
    (row,) = rows
    assert row["difference"] == pytest.approx(3.1 / 6 - 0.5)
    assert row["interval"]["low"] <= row["difference"] <= row["interval"]["high"]


def test_a_lower_is_better_score_turns_the_directions_around():
    rows, section = compare_task(scored([1.0, 1.0], "ab", higher=False), scored([0.2, 1.5], "ab", higher=False), 5)
    assert [i["key"] for i in section["improved"]] == ["a"] and [i["key"] for i in section["worsened"]] == ["b"]


def test_runs_evaluated_on_different_items_are_not_paired():
    rows, section = compare_task(scored([0.1, 0.2, 0.3], "abc"), scored([0.1, 0.2, 0.3], "abd"), 5)
    assert not section["paired"] and section["note"] == DIFFERENT_ITEMS and section["improved"] == []
    (row,) = rows
    assert row["interval"] is None and row["note"] == DIFFERENT_ITEMS and row["difference"] == pytest.approx(0)


# ---------------------------------------------------------------- whole runs from hand-made files


def evaluated_classification_run(tmp_path: Path, name: str, lr: float, predicted: list[str]) -> Path:
    """A classification run folder as training and `tuneforge eval` leave it, without model files."""
    records = [{"text": text, "label": label} for text, label in zip(TEXTS, TRUTH)]
    source = classification_recipe(tmp_path / name, "embedded:smollm2-135m-instruct", records * 3)
    recipe, _ = load_recipe(source, [f"train.lr={lr}"])
    run = tmp_path / "runs" / "tinysent" / name
    (run / "eval").mkdir(parents=True)
    (run / RESOLVED_RECIPE).write_text(recipe_to_yaml(recipe))
    manifest = {
        "status": "complete",
        "base_model": {"ref": "embedded:smollm2-135m-instruct", "identity": {}},
        "data_splits": {split: {"sha256": f"{split}-sha"} for split in ("train", "val", "test")},
        "metrics": {"held_out_loss_after": 1.0 + lr * 100},
    }
    (run / MANIFEST).write_text(json.dumps(manifest))
    rows = [
        {"text": t, "label": y, "tuned": {"label": p, "probabilities": {}, "confidence": 0.9}}
        for t, y, p in zip(TEXTS, TRUTH, predicted)
    ]
    write_jsonl(run / "eval" / "predictions.jsonl", rows)
    right = sum(p == y for p, y in zip(predicted, TRUTH)) / len(TRUTH)
    metrics = {"accuracy": right, "precision": 0.5, "recall": 0.5, "f1": 0.5, "roc_auc": 0.6}
    results = {
        "held_out_loss": {"before": 2.0, "after": 1.0},
        "classification": {"metrics": {**metrics, "labels": CLASSIFICATION_LABELS}},
    }
    (run / "eval" / "results.json").write_text(json.dumps(results))
    return run


def test_two_classification_runs_compare_item_by_item(tmp_path):
    # A is right on items 0-3, B on items 2-7: 4 wrong -> right (4-7), 2 right -> wrong (0, 1).
    a = evaluated_classification_run(tmp_path, "a", 1e-3, [*TRUTH[:4], *(flip(y) for y in TRUTH[4:])])
    b = evaluated_classification_run(tmp_path, "b", 5e-3, [*(flip(y) for y in TRUTH[:2]), *TRUTH[2:]])
    comparison = compare_runs(a, b)
    assert comparison["schema"] == SCHEMA and comparison["artifact"] is None
    assert comparison["a"]["run_id"] == "a" and comparison["b"]["method"] == "sft"
    assert {"key": "train.lr", "a": 1e-3, "b": 5e-3} in comparison["settings"]["differences"]
    assert comparison["settings"]["data_sha256"]["test"] == {"a": "test-sha", "b": "test-sha", "same": True}
    rows = {(row["task"], row["metric"]): row for row in comparison["metrics"]}
    held_out = rows["held-out", "held_out_loss"]
    assert held_out["difference"] == pytest.approx(0.4) and held_out["interval"] is None and held_out["note"]
    accuracy = rows["classification", "accuracy"]
    assert (accuracy["a"], accuracy["b"]) == (0.5, 0.75) and accuracy["higher_is_better"] is True
    assert accuracy["interval"]["low"] <= 0.25 <= accuracy["interval"]["high"]
    assert (
        rows["classification", "ROC-AUC"]["interval"] is None
        and "no interval" in rows["classification", "ROC-AUC"]["note"]
    )
    section = comparison["tasks"]["classification"]
    assert section["right_or_wrong"] and (section["improved_count"], section["worsened_count"]) == (4, 2)
    assert [item["prompt"] for item in section["worsened"]] == TEXTS[:2]
    assert section["improved"][0] == {
        "key": section["improved"][0]["key"],
        "group": None,
        "prompt": TEXTS[4],
        "reference": TRUTH[4],
        "a": {"output": flip(TRUTH[4]), "score": 0.0},
        "b": {"output": TRUTH[4], "score": 1.0},
        "change": 1.0,
    }
    json_path, markdown_path = write_comparison(comparison)
    assert json_path == b / "compare" / "tinysent--a" / "compare.json"
    assert json.loads(json_path.read_text()) == json.loads(json.dumps(comparison))
    report = markdown_path.read_text()
    assert "## classification: items whose result changed" in report and "4 wrong → right, 2 right → wrong" in report
    assert "| `train.lr` | 0.001 | 0.005 |" in report


def flip(label: str) -> str:
    return "positive" if label == "negative" else "negative"


def test_the_command_writes_where_told_and_prints_a_summary(tmp_path):
    a = evaluated_classification_run(tmp_path, "a", 1e-3, TRUTH)
    b = evaluated_classification_run(tmp_path, "b", 1e-3, [flip(y) for y in TRUTH])
    out = tmp_path / "out"
    command = ["compare", str(a), str(b), "--json", str(out / "c.json"), "--markdown", str(out / "c.md")]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    assert "0 wrong → right, 8 right → wrong, 0 unchanged (paired on 8 items)" in result.output
    assert json.loads((out / "c.json").read_text())["tasks"]["classification"]["worsened_count"] == 8
    assert (out / "c.md").read_text().startswith("# Run comparison: tinysent/b (B) against tinysent/a (A)")
    assert not (b / "compare").exists()


def test_an_unevaluated_run_is_refused_with_the_command_that_evaluates_it(tmp_path):
    a = evaluated_classification_run(tmp_path, "a", 1e-3, TRUTH)
    b = evaluated_classification_run(tmp_path, "b", 1e-3, TRUTH)
    (b / "eval" / "results.json").unlink()
    result = CliRunner().invoke(main, ["compare", str(a), str(b)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "has not been evaluated" in result.output and f"tuneforge eval {b}" in result.output
    result = CliRunner().invoke(main, ["compare", str(a), str(a), "--artifact", "gguf:q8_0"])
    assert result.exit_code == 2 and f"tuneforge eval {a} --artifact gguf:q8_0" in result.output


def test_runs_of_different_tasks_are_refused(tmp_path):
    a = evaluated_classification_run(tmp_path, "a", 1e-3, TRUTH)
    data = write_jsonl(tmp_path / "chat.jsonl", sharegpt_records(8))
    body = {
        "name": "chat",
        "model": {"base": "embedded:smollm2-135m-instruct"},
        "data": {"format": "sharegpt", "train": str(data)},
    }
    recipe, _ = load_recipe(write_recipe(tmp_path / "chat.yaml", body))
    other = tmp_path / "runs" / "chat" / "c"
    other.mkdir(parents=True)
    (other / RESOLVED_RECIPE).write_text(recipe_to_yaml(recipe))
    (other / MANIFEST).write_text(json.dumps({"status": "complete"}))
    result = CliRunner().invoke(main, ["compare", str(a), str(other)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "the runs are of different tasks" in result.output and f"{other}: no task evaluation" in result.output
