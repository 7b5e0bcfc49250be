"""Runs carry their own data splits: later stages read the run folder, never the changed source data."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import write_jsonl, write_recipe
from tuneforge.cli import main
from tuneforge.files import sha256_file
from tuneforge.runs import MANIFEST

pytestmark = pytest.mark.integration


def alpaca_records(start: int, count: int) -> list[dict]:
    return [
        {"instruction": f"What is the capital of region {i}?", "output": f"The capital of region {i} is Town {i}."}
        for i in range(start, start + count)
    ]


@pytest.fixture(scope="module")
def domain_run(tiny_llama_dir, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("splits")
    data = write_jsonl(tmp / "qa.jsonl", alpaca_records(0, 40))
    recipe = write_recipe(
        tmp / "qa.yaml",
        {
            "name": "qa",
            "model": {"base": str(tiny_llama_dir), "max_seq_length": 128},
            "lora": {"r": 4, "alpha": 8},
            "data": {"format": "alpaca", "train": data.name, "split": {"val": 0.1, "test": 0.2}},
            "train": {"max_steps": 2, "batch_size": 4, "grad_accum": 1, "eval_steps": None, "save_steps": 2},
            "eval": {"domain": {"max_new_tokens": 6, "batch_size": 8}},
        },
    )
    trained = CliRunner().invoke(main, ["train", str(recipe), "--runs-dir", str(tmp / "runs")])
    assert trained.exit_code == 0, trained.output
    return Path(trained.output.strip().splitlines()[-1])


def evaluate(run: Path) -> dict:
    result = CliRunner().invoke(main, ["eval", str(run)])
    assert result.exit_code == 0, result.output
    return json.loads((run / "eval" / "results.json").read_text())["domain"]


def test_the_run_holds_its_splits_with_their_sha256(domain_run):
    manifest = json.loads((domain_run / MANIFEST).read_text())
    entries = manifest["data_splits"]
    assert {name: entry["samples"] for name, entry in entries.items()} == {"train": 28, "val": 4, "test": 8}
    for entry in entries.values():
        assert sha256_file(domain_run / entry["file"]) == entry["sha256"]
    first = json.loads((domain_run / "data" / "test.jsonl").read_text().splitlines()[0])
    assert set(first) == {"messages", "source", "group", "meta"} and first["source"].split(":")[0].endswith("qa.jsonl")
    sources = {
        json.loads(line)["source"]
        for name in ("train", "test")
        for line in (domain_run / "data" / f"{name}.jsonl").read_text().splitlines()
    }
    assert len(sources) == 36  # train and test are disjoint


def test_appending_to_the_data_file_after_training_changes_no_evaluation(domain_run):
    before = evaluate(domain_run)
    data = Path(json.loads((domain_run / MANIFEST).read_text())["data"]["files"].popitem()[0])
    original = data.read_text()
    try:
        with data.open("a", encoding="utf-8") as handle:  # new items that a re-split would scatter into test
            handle.write("".join(json.dumps(r) + "\n" for r in alpaca_records(1000, 30)))
        after = evaluate(domain_run)
    finally:
        data.write_text(original)
    assert after == before
    assert before["test_items"] == 8


def test_a_run_without_split_files_is_refused_with_the_fix(domain_run, tmp_path):
    """A run from before runs carried their splits is not evaluated from the source data (which may have changed
    since): it is to be trained again."""
    old = tmp_path / "old-run"
    shutil.copytree(domain_run, old)
    shutil.rmtree(old / "data")
    manifest = json.loads((old / MANIFEST).read_text())
    del manifest["data_splits"]
    (old / MANIFEST).write_text(json.dumps(manifest))
    refused = CliRunner().invoke(main, ["eval", str(old)])
    assert refused.exit_code == 2
    assert (
        "has no split files" in refused.output
        and "train it again with this version: tuneforge train qa" in refused.output
    )


def test_an_edited_split_file_is_refused(domain_run, tmp_path):
    copy = tmp_path / "edited"
    shutil.copytree(domain_run, copy)
    with (copy / "data" / "test.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"messages": [], "source": "x:1", "group": None, "meta": {}}) + "\n")
    result = CliRunner().invoke(main, ["eval", str(copy)])
    assert result.exit_code == 2 and "test.jsonl: missing or changed since training" in result.output


@pytest.fixture(scope="module")
def sentiment_run(tiny_llama_dir, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("sentiment-splits")
    records = [{"text": f"review number {i} {'good' if i % 2 else 'bad'}", "label": i % 2} for i in range(40)]
    data = write_jsonl(tmp / "reviews.jsonl", records)
    recipe = write_recipe(
        tmp / "tinysent.yaml",
        {
            "name": "tinysent",
            "model": {"base": str(tiny_llama_dir), "max_seq_length": 128},
            "lora": {"r": 4, "alpha": 8},
            "data": {
                "format": "classification",
                "train": data.name,
                "classification": {"labels": ["negative", "positive"]},
                "split": {"val": 0.1, "test": 0.2},
            },
            "train": {"max_steps": 2, "batch_size": 8, "grad_accum": 1, "eval_steps": None, "save_steps": 2},
        },
    )
    trained = CliRunner().invoke(main, ["train", str(recipe), "--runs-dir", str(tmp / "runs")])
    assert trained.exit_code == 0, trained.output
    return Path(trained.output.strip().splitlines()[-1])


def demo_lines(output: str) -> list[str]:
    """The demo's result lines, without the progress bars that share the captured output."""
    return re.findall(r"(?:negative|positive) \(\d+\.\d%\)  \(labelled .*", output)


def test_classify_demo_reads_the_run_s_test_split_not_the_changed_data(sentiment_run):
    before = CliRunner().invoke(main, ["classify", str(sentiment_run), "--demo"])
    assert before.exit_code == 0, before.output
    data = Path(json.loads((sentiment_run / MANIFEST).read_text())["data"]["files"].popitem()[0])
    original = data.read_text()
    try:
        data.write_text("".join(json.dumps({"text": f"new text {i}", "label": 1}) + "\n" for i in range(50)) + original)
        after = CliRunner().invoke(main, ["classify", str(sentiment_run), "--demo"])
    finally:
        data.write_text(original)
    shown, shown_after = (demo_lines(result.output) for result in (before, after))
    assert shown_after == shown and len(shown) == 6
    test_split = (sentiment_run / "data" / "test.jsonl").read_text().splitlines()
    assert [line.split("  ")[-1] for line in shown] == [json.loads(line)["meta"]["text"] for line in test_split[:6]]


def test_predict_on_a_classification_run_refuses_the_options_it_would_ignore(sentiment_run, tmp_path):
    texts = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "good"}])
    command = ["predict", str(sentiment_run), "--input", str(texts), "--output", str(tmp_path / "out.jsonl")]
    refused = CliRunner().invoke(main, [*command, "--temperature", "0.2", "--system", "Be brief."])
    assert refused.exit_code == 2
    assert "--system, --temperature: not used by a classification run" in refused.output
    assert not (tmp_path / "out.jsonl").exists()
    answered = CliRunner().invoke(main, command)
    assert answered.exit_code == 0, answered.output
    assert json.loads((tmp_path / "out.jsonl").read_text())["label"] in ("negative", "positive")


def test_a_test_file_is_the_run_s_test_split_without_the_records_training_repeats(tiny_llama_dir, tmp_path):
    """data.test as a CSV (renamed by data.columns, like the training JSONL): the run's test split is exactly its
    records minus the two that the training data repeats (in a seeded shuffle), and the data report counts those two."""
    import csv

    train = [{"review": f"review number {i} {'good' if i % 2 else 'bad'}", "sentiment": i % 2} for i in range(30)]
    held_out = [{"review": f"unseen review {i} {'good' if i % 2 else 'bad'}", "sentiment": i % 2} for i in range(6)]
    write_jsonl(tmp_path / "train.jsonl", train)
    with (tmp_path / "test.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["review", "sentiment"])
        writer.writeheader()
        writer.writerows([*held_out[:3], train[4], *held_out[3:], train[7]])
    recipe = write_recipe(
        tmp_path / "testfile.yaml",
        {
            "name": "testfile",
            "model": {"base": str(tiny_llama_dir), "max_seq_length": 128},
            "lora": {"r": 4, "alpha": 8},
            "data": {
                "format": "classification",
                "train": "train.jsonl",
                "test": "test.csv",
                "columns": {"text": "review", "label": "sentiment"},
                "classification": {"labels": ["negative", "positive"]},
                "split": {"val": 0.1},
            },
            "train": {"max_steps": 1, "batch_size": 8, "grad_accum": 1, "eval_steps": None, "save_steps": 1},
        },
    )
    trained = CliRunner().invoke(main, ["train", str(recipe), "--runs-dir", str(tmp_path / "runs")])
    assert trained.exit_code == 0, trained.output
    run = Path(trained.output.strip().splitlines()[-1])
    test_split = [json.loads(line) for line in (run / "data" / "test.jsonl").read_text().splitlines()]
    assert sorted(sample["meta"]["text"] for sample in test_split) == sorted(record["review"] for record in held_out)
    assert {sample["source"] for sample in test_split} == {
        f"{tmp_path / 'test.csv'}:row {n}" for n in (1, 2, 3, 5, 6, 7)
    }
    manifest = json.loads((run / MANIFEST).read_text())
    assert manifest["data"]["filtered"] == {"duplicate_of_train": 2}
    assert set(manifest["data"]["files"]) == {str(tmp_path / "train.jsonl"), str(tmp_path / "test.csv")}
    assert {name: entry["samples"] for name, entry in manifest["data_splits"].items()} == {
        "train": 27,
        "val": 3,
        "test": 6,
    }
