"""A finished run as later stages read it: its own recipe and split files, never the user's files again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import sharegpt_records, write_jsonl, write_recipe
from tuneforge.data.formats import Sample
from tuneforge.data.splits import copy_split_files, write_split_files
from tuneforge.errors import UserError
from tuneforge.files import write_json_atomic, write_text_atomic
from tuneforge.recipe.loading import load_recipe, recipe_to_yaml
from tuneforge.run_folder import RunFolder, load_run
from tuneforge.runs import MANIFEST, RESOLVED_RECIPE

SPLIT_SAMPLES = {
    "train": [Sample([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "d.jsonl:1")],
    "val": [],
    "test": [
        Sample([{"role": "user", "content": "t"}, {"role": "assistant", "content": "u"}], "d.jsonl:2", None, {"x": 1})
    ],
}


def make_run(tmp_path: Path, status: str = "complete", splits: bool = True) -> Path:
    """A run folder as training leaves it: resolved recipe, manifest, and the split files it trained on."""
    data = write_jsonl(tmp_path / "data" / "d.jsonl", sharegpt_records(4))
    recipe, _ = load_recipe(
        write_recipe(tmp_path / "data" / "r.yaml", {"name": "mine", "data": {"format": "sharegpt", "train": data.name}})
    )
    run = tmp_path / "runs" / "mine" / "20250101-000000"
    write_text_atomic(run / RESOLVED_RECIPE, recipe_to_yaml(recipe))
    manifest = {"status": status, "recipe": "mine", "recipe_source": str(tmp_path / "data" / "r.yaml")}
    if splits:
        write_split_files(tmp_path / "cache" / "splits", SPLIT_SAMPLES)
        manifest["data_splits"] = copy_split_files(tmp_path / "cache" / "splits", run)
    write_json_atomic(run / MANIFEST, manifest)
    return run


def test_a_run_reads_its_recipe_and_its_own_splits(tmp_path):
    run = RunFolder(make_run(tmp_path))
    assert run.recipe.name == "mine" and run.manifest["status"] == "complete"
    assert run.split("test") == SPLIT_SAMPLES["test"] and run.split("val") == []
    (tmp_path / "data" / "d.jsonl").unlink()  # the user's data is gone: the run still has its samples
    assert RunFolder(run.path, run.recipe, run.manifest).split("train") == SPLIT_SAMPLES["train"]


def test_the_held_out_split_is_the_most_held_out_one_with_samples(tmp_path):
    run = RunFolder(make_run(tmp_path))
    assert run.held_out_split() == ("test", SPLIT_SAMPLES["test"])
    run.manifest["data_splits"].pop("test")  # val is empty: train is what is left
    assert run.held_out_split() == ("train", SPLIT_SAMPLES["train"])


def test_an_unfinished_run_is_refused_with_the_command_that_finishes_it(tmp_path):
    run_dir = make_run(tmp_path, status="interrupted")
    with pytest.raises(UserError) as caught:
        load_run(run_dir)
    assert f"tuneforge train mine --resume {run_dir}" in caught.value.render()
    manifest = json.loads((run_dir / MANIFEST).read_text())
    del manifest["recipe"]  # the name comes from the run's resolved recipe then
    write_json_atomic(run_dir / MANIFEST, manifest)
    with pytest.raises(UserError, match=f"tuneforge train mine --resume {run_dir}"):
        load_run(run_dir)


def test_a_run_without_split_files_is_to_be_trained_again(tmp_path):
    run = RunFolder(make_run(tmp_path, splits=False))
    with pytest.raises(UserError) as caught:
        run.split("test")
    assert "has no split files (data/*.jsonl)" in caught.value.render()
    assert "train it again with this version: tuneforge train mine" in caught.value.render()


def test_an_edited_split_file_is_refused(tmp_path):
    run = RunFolder(make_run(tmp_path))
    with (run.path / "data" / "test.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"messages": [], "source": "x:1", "group": None, "meta": {}}) + "\n")
    with pytest.raises(UserError, match="test.jsonl: missing or changed since training"):
        run.split("test")
    assert run.split("train") == SPLIT_SAMPLES["train"]  # the other splits are intact


def test_a_folder_that_is_no_run_says_so(tmp_path):
    with pytest.raises(UserError, match="is not a tuneforge run"):
        RunFolder(tmp_path)
