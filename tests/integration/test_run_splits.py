"""Runs carry their own data splits: later stages read the run folder, never the changed source data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import write_jsonl, write_recipe

from tuneforge.cli import main
from tuneforge.runs import MANIFEST

pytestmark = pytest.mark.integration


def alpaca_records(start: int, count: int) -> list[dict]:
    return [{"instruction": f"What is the capital of region {i}?", "output": f"The capital of region {i} is Town {i}."}
            for i in range(start, start + count)]


@pytest.fixture(scope="module")
def domain_run(tiny_llama_dir, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("splits")
    data = write_jsonl(tmp / "qa.jsonl", alpaca_records(0, 40))
    recipe = write_recipe(tmp / "qa.yaml", {
        "name": "qa", "model": {"base": str(tiny_llama_dir), "max_seq_length": 128}, "lora": {"r": 4, "alpha": 8},
        "data": {"format": "alpaca", "train": data.name, "split": {"val": 0.1, "test": 0.2}},
        "train": {"max_steps": 2, "batch_size": 4, "grad_accum": 1, "eval_steps": None, "save_steps": 2},
        "eval": {"domain": {"max_new_tokens": 6, "batch_size": 8}}})
    trained = CliRunner().invoke(main, ["train", str(recipe), "--runs-dir", str(tmp / "runs")])
    assert trained.exit_code == 0, trained.output
    return Path(trained.output.strip().splitlines()[-1])


def evaluate(run: Path) -> dict:
    result = CliRunner().invoke(main, ["eval", str(run)])
    assert result.exit_code == 0, result.output
    return json.loads((run / "eval" / "results.json").read_text())["domain"]


def test_the_run_holds_its_splits_with_their_sha256(domain_run):
    from tuneforge.models import sha256_file

    manifest = json.loads((domain_run / MANIFEST).read_text())
    entries = manifest["data_splits"]
    assert {name: entry["samples"] for name, entry in entries.items()} == {"train": 28, "val": 4, "test": 8}
    for entry in entries.values():
        assert sha256_file(domain_run / entry["file"]) == entry["sha256"]
    first = json.loads((domain_run / "data" / "test.jsonl").read_text().splitlines()[0])
    assert set(first) == {"messages", "source", "group", "meta"} and first["source"].split(":")[0].endswith("qa.jsonl")
    sources = {json.loads(line)["source"] for name in ("train", "test")
               for line in (domain_run / "data" / f"{name}.jsonl").read_text().splitlines()}
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


def test_an_older_run_without_split_files_recomputes_only_from_unchanged_data(domain_run, tmp_path):
    old = tmp_path / "old-run"
    shutil.copytree(domain_run, old)
    shutil.rmtree(old / "data")
    manifest = json.loads((old / MANIFEST).read_text())
    del manifest["data_splits"]
    (old / MANIFEST).write_text(json.dumps(manifest))
    assert evaluate(old) == evaluate(domain_run)  # the source is unchanged: the same split, recomputed

    data = Path(next(iter(manifest["data"]["files"])))
    original = data.read_text()
    try:
        data.write_text(original + json.dumps(alpaca_records(2000, 1)[0]) + "\n")
        refused = CliRunner().invoke(main, ["eval", str(old)])
    finally:
        data.write_text(original)
    assert refused.exit_code == 2
    assert "has no split files" in refused.output and "changed since training (sha256 differs)" in refused.output


def test_an_edited_split_file_is_refused(domain_run, tmp_path):
    copy = tmp_path / "edited"
    shutil.copytree(domain_run, copy)
    with (copy / "data" / "test.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"messages": [], "source": "x:1", "group": None, "meta": {}}) + "\n")
    result = CliRunner().invoke(main, ["eval", str(copy)])
    assert result.exit_code == 2 and "test.jsonl: missing or changed since training" in result.output
