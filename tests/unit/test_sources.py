"""Data the way users have it: every source kind (JSON lines, JSON, Parquet, CSV, TSV, save_to_disk
folders, DatasetDict splits, hub datasets) for several formats, data.columns, and explicit val/test
files. The files are written by the real libraries (csv, pyarrow, datasets); only the Hugging Face
cache location is pointed at a temporary folder (the machine has no hub)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from helpers import write_jsonl
from tuneforge.data.prepare import DataReport, cache_key, carve_splits, read_conversations
from tuneforge.data.sources import read_records, source_sha256
from tuneforge.data.splits import all_sources, changed_sources
from tuneforge.errors import ProblemCollector, UserError
from tuneforge.recipe.assemble import data_formats
from tuneforge.recipe.loading import load_recipe

REVIEWS = [{"review": f"review number {i}", "sentiment": i % 2} for i in range(6)]
PAIRS = [{"question": f"Question {i}?", "good": f"A kind answer {i}.", "bad": f"Go away {i}."} for i in range(5)]
CHATS = [
    {"messages": [{"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": f"hello {i}"}]}
    for i in range(4)
]
KINDS = ["jsonl", "json", "parquet", "csv", "tsv", "folder", "dict-split"]


def write_source(kind: str, folder: Path, records: list[dict], name: str = "data") -> str:
    """The records written as a user's tool would write them; returns the recipe entry that names them."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "jsonl":
        return str(write_jsonl(folder / f"{name}.jsonl", records))
    if kind == "json":
        (folder / f"{name}.json").write_text(json.dumps(records), encoding="utf-8")
        return str(folder / f"{name}.json")
    if kind in ("csv", "tsv"):
        path = folder / f"{name}.{kind}"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(records[0]), delimiter="," if kind == "csv" else "\t")
            writer.writeheader()
            writer.writerows(records)
        return str(path)
    from datasets import Dataset, DatasetDict

    dataset = Dataset.from_list(records)
    if kind == "parquet":
        dataset.to_parquet(str(folder / f"{name}.parquet"))
        return str(folder / f"{name}.parquet")
    if kind == "folder":
        dataset.save_to_disk(str(folder / name))
        return str(folder / name)
    DatasetDict({"train": dataset, "test": dataset.select([0])}).save_to_disk(str(folder / name))
    return f"{folder / name}:train"


def validated_data(raw: dict):
    """A `data` section alone, validated by its format's class as a recipe validates it."""
    return data_formats()[raw["format"]].model_validate(raw, context={"base_dir": Path(".")})


def classification(train, **extra):
    return validated_data(
        {
            "format": "classification",
            "train": train,
            "classification": {"labels": ["negative", "positive"]},
            "columns": {"text": "review", "label": "sentiment"},
            **extra,
        }
    )


def read(data) -> list:
    return read_conversations(data, DataReport())


@pytest.mark.parametrize("kind", KINDS)
def test_classification_reads_every_source_kind_through_its_columns(kind, tmp_path):
    samples = read(classification(write_source(kind, tmp_path, REVIEWS)))
    assert [(s.meta["text"], s.meta["label"]) for s in samples] == [
        (f"review number {i}", ["negative", "positive"][i % 2]) for i in range(6)
    ]
    first, second = {"jsonl": (":1", ":2"), "json": (":item 0", ":item 1")}.get(kind, (":row 1", ":row 2"))
    assert samples[0].source.endswith(first) and samples[1].source.endswith(second)


@pytest.mark.parametrize("kind", KINDS)
def test_preference_reads_every_source_kind_through_its_columns(kind, tmp_path):
    data = validated_data(
        {
            "format": "preference",
            "train": write_source(kind, tmp_path, PAIRS),
            "columns": {"prompt": "question", "chosen": "good", "rejected": "bad"},
        }
    )
    samples = read(data)
    assert len(samples) == 5
    assert samples[3].messages == [
        {"role": "user", "content": "Question 3?"},
        {"role": "assistant", "content": "A kind answer 3."},
    ]
    assert samples[3].meta["rejected"] == [{"role": "assistant", "content": "Go away 3."}]


@pytest.mark.parametrize("kind", ["jsonl", "json", "parquet", "folder", "dict-split"])
def test_chat_reads_nested_messages_from_every_source_that_holds_them(kind, tmp_path):
    samples = read(validated_data({"format": "chat", "train": write_source(kind, tmp_path, CHATS)}))
    assert [s.messages for s in samples] == [record["messages"] for record in CHATS]


def test_a_bad_csv_row_is_named_by_its_row_number(tmp_path):
    records = [*REVIEWS[:2], {"review": "", "sentiment": 1}, {"review": "fine", "sentiment": 7}]
    data = classification(write_source("csv", tmp_path, records, "reviews"))
    with pytest.raises(UserError) as caught:
        read(data)
    assert caught.value.problems == [
        f"{tmp_path / 'reviews.csv'}:row 3: missing or empty 'review' (data.columns.text); the text must be a non-empty string",
        f"{tmp_path / 'reviews.csv'}:row 4: 'sentiment' (data.columns.label) is 7; expected an index 0-1 or one of "
        "['negative', 'positive']",
    ]
    assert "data.columns renames text <- review, label <- sentiment" in caught.value.fix


def test_a_missing_label_cell_leaves_the_other_integer_labels_readable(tmp_path):
    """pandas reads an integer column with an empty cell as floats (1.0): still the label index 1."""
    path = tmp_path / "r.csv"
    path.write_text("review,sentiment\ngood one,1\nno label,\nbad one,0\n", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        read(classification(str(path)))
    assert [p.split(": ")[0].rsplit(":", 1)[1] for p in caught.value.problems] == ["row 2"]
    assert "is None" in caught.value.problems[0]


def test_a_mapped_column_absent_from_a_record_names_the_record_and_the_column(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [REVIEWS[0], {"text": "no review here", "sentiment": 0}])
    with pytest.raises(UserError) as caught:
        read(classification(str(path)))
    assert caught.value.problems == [
        f"{path}:2: no column 'review' (data.columns.text); the record has 'text', 'sentiment'"
    ]


def test_a_table_without_the_column_lists_ten_rows_and_counts_the_rest(tmp_path):
    source = write_source("parquet", tmp_path, [{"text": f"t{i}", "sentiment": 0} for i in range(25)])
    with pytest.raises(UserError) as caught:
        read(classification(source))
    assert len(caught.value.problems) == 11 and caught.value.problems[0].startswith(f"{source}:row 1: no column")
    assert caught.value.problems[-1] == f"{source}: 15 more records lack a column that data.columns names"


def test_a_dataset_dict_folder_needs_its_split_named(tmp_path):
    entry = write_source("dict-split", tmp_path, REVIEWS, "dd")
    folder = entry.rsplit(":", 1)[0]
    with pytest.raises(ValueError) as caught:  # pydantic's ValidationError (load_recipe makes it a UserError)
        classification(folder)
    assert f"{folder} holds a DatasetDict with the splits train, test" in str(caught.value)
    assert f"e.g. {folder}:train" in str(caught.value)
    with pytest.raises(ValueError, match="has no split 'validation'; its splits: train, test"):
        classification(f"{folder}:validation")
    assert classification(entry).train == [Path(folder) / "train"]  # the split's own save_to_disk folder


def test_unknown_file_types_folders_and_fields_are_refused_at_load(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValueError, match=r"unsupported file type '\.txt'"):
        classification(str(tmp_path / "notes.txt"))
    with pytest.raises(ValueError, match="not one written by datasets' save_to_disk"):
        classification(str(tmp_path / "plain"))
    source = write_source("jsonl", tmp_path, REVIEWS)
    with pytest.raises(ValueError, match="txt: not a field of format classification; its fields are text, label"):
        classification(source, columns={"txt": "review"})
    with pytest.raises(ValueError, match="review is named twice"):
        classification(source, columns={"text": "review", "label": "review"})
    with pytest.raises(ValueError, match="not a hub dataset id"):
        classification("hub:not a valid id")


def test_a_key_of_no_format_is_refused_and_data_columns_renames_the_fields(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "name: r\ndata:\n  format: classification\n  train: d.jsonl\n"
        "  classification: {labels: [negative, positive], text_key: review}\n"
    )
    write_jsonl(tmp_path / "d.jsonl", REVIEWS)
    with pytest.raises(UserError) as caught:
        load_recipe(recipe)
    assert "data.classification.text_key: unknown key" in str(caught.value)
    recipe.write_text(
        recipe.read_text().replace(", text_key: review", "") + "  columns: {text: review, label: sentiment}\n"
    )
    loaded, _ = load_recipe(recipe)
    assert [sample.meta["text"] for sample in read(loaded.data)] == [record["review"] for record in REVIEWS]


# ---------------------------------------------------------------- hub datasets


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face cache, offline: the hub is the one thing this machine cannot reach."""
    import huggingface_hub.constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))  # read by snapshot_download per call
    return cache


def cache_dataset_repo(cache: Path, repo_id: str, splits: dict[str, list[dict]]) -> None:
    """A dataset repository as huggingface_hub leaves it in its cache: refs/main -> snapshots/<commit>/ with
    one Parquet file per split under data/ (the layout `hf download --repo-type dataset` writes)."""
    from datasets import Dataset

    repo = cache / f"datasets--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    data = repo / "snapshots" / commit / "data"
    data.mkdir(parents=True)
    for split, records in splits.items():
        Dataset.from_list(records).to_parquet(str(data / f"{split}-00000-of-00001.parquet"))


def test_a_hub_dataset_not_cached_and_offline_is_a_clear_error(hub_cache):
    data = classification("hub:tuneforge-tests/absent-reviews")
    with pytest.raises(UserError) as caught:
        read(data)
    assert "dataset 'tuneforge-tests/absent-reviews' is not in the local Hugging Face cache and HF_HUB_OFFLINE=1" in (
        str(caught.value)
    )
    assert "hf download --repo-type dataset tuneforge-tests/absent-reviews" in caught.value.fix


def test_a_cached_hub_dataset_is_read_offline_by_split(hub_cache):
    cache_dataset_repo(hub_cache, "owner/reviews", {"train": REVIEWS, "test": REVIEWS[:2]})
    with pytest.raises(UserError) as caught:
        read(classification("hub:owner/reviews"))
    assert "has several splits; its splits: train, test" in str(caught.value)
    assert "e.g. hub:owner/reviews:train" in str(caught.value)
    samples = read(classification("hub:owner/reviews:test"))
    assert [s.meta["text"] for s in samples] == ["review number 0", "review number 1"]
    assert samples[1].source == "hub:owner/reviews:test:row 2"
    assert len(source_sha256("hub:owner/reviews:test")) == 64


# ---------------------------------------------------------------- explicit val and test files


def test_val_and_test_files_replace_the_random_split_without_training_duplicates(tmp_path, caplog):
    train = write_source("jsonl", tmp_path, REVIEWS + [{"review": f"more {i}", "sentiment": 1} for i in range(14)])
    test_records = [{"review": "held out a", "sentiment": 0}, REVIEWS[2], {"review": "held out b", "sentiment": 1}]
    test = write_source("csv", tmp_path, [*test_records, REVIEWS[4], test_records[0]], "test")
    val = write_source("parquet", tmp_path, [{"review": "val only", "sentiment": 1}, REVIEWS[0]], "val")
    data = classification(train, val=val, test=[test])
    assert (data.split.val, data.split.test) == (0.0, 0.0)  # the files replace the fractions
    report = DataReport()
    splits = carve_splits(data, report)
    assert sorted(s.meta["text"] for s in splits["test"]) == ["held out a", "held out b"]
    assert [s.meta["text"] for s in splits["val"]] == ["val only"]
    assert len(splits["train"]) == 20
    assert report.filtered == {"duplicate_of_train": 3, "duplicate": 1}  # REVIEWS[2], [4], [0]; "held out a" twice
    assert report.loaded == 27 and report.to_json()["kept"] == 23
    assert "data.test: dropped 2 of its 4 records, identical to training records" in caplog.text


def test_a_sorted_test_file_is_shuffled_so_max_samples_takes_both_labels(tmp_path):
    """An evaluation's max_samples takes a split's first N: from a file sorted by label that would be one
    label only. The file's records come in a seeded shuffle, the same at every reading."""
    train = write_source("jsonl", tmp_path, REVIEWS)
    sorted_by_label = [{"review": f"held out {i}", "sentiment": int(i >= 20)} for i in range(40)]
    data = classification(train, test=write_source("jsonl", tmp_path, sorted_by_label, "test"))
    first = carve_splits(data, DataReport())["test"]
    assert sorted(s.meta["text"] for s in first) == sorted(r["review"] for r in sorted_by_label)
    assert {s.meta["label"] for s in first[:8]} == {"negative", "positive"}
    assert [s.meta["text"] for s in carve_splits(data, DataReport())["test"]] == [s.meta["text"] for s in first]


def test_a_fraction_beside_a_file_for_the_same_part_is_refused(tmp_path):
    train, test = (write_source("jsonl", tmp_path, REVIEWS, name) for name in ("train", "test"))
    with pytest.raises(ValueError, match=r"split.test is 0.2, but data.test names test files"):
        classification(train, test=test, split={"test": 0.2})
    kept = classification(train, test=test, split={"test": 0, "val": 0.2})
    assert (kept.split.val, kept.split.test) == (0.2, 0.0)
    again = classification(train, test=test, split=kept.split.model_dump())  # a resolved recipe loads again
    assert again.split == kept.split


def test_task_checks_accept_a_test_file_instead_of_a_fraction(tmp_path):
    write_source("jsonl", tmp_path, REVIEWS, "train")
    write_source("csv", tmp_path, [{"review": "new", "sentiment": 1}], "test")
    (tmp_path / "r.yaml").write_text(
        "name: r\ndata:\n  format: classification\n  train: train.jsonl\n  test: test.csv\n"
        "  split: {val: 0}\n  columns: {text: review, label: sentiment}\n"
        "  classification: {labels: [negative, positive]}\n"
        "eval: {held_out_loss: false, classification: {}}\n"
    )
    recipe, _ = load_recipe(tmp_path / "r.yaml")
    assert recipe.data.test == [(tmp_path / "test.csv").resolve()]
    with pytest.raises(UserError, match="needs a test \\(or validation\\) split"):
        load_recipe(tmp_path / "r.yaml", ["data.test=[]"])


def test_every_source_is_hashed_into_the_report_and_the_cache_key(tmp_path, tokenizer):
    train = write_source("jsonl", tmp_path, REVIEWS)
    val = write_source("folder", tmp_path, [{"review": "val", "sentiment": 0}], "val")
    data = classification(train, val=val)

    def key() -> str:
        report = DataReport(files={str(s): source_sha256(s) for s in all_sources(data)})
        assert set(report.files) == {train, val}
        return cache_key(data, tokenizer, 128, report)

    before = key()
    assert key() == before
    write_source("folder", tmp_path, [{"review": "another val", "sentiment": 0}], "val")  # the folder rewritten
    assert key() != before


def test_the_json_lines_reader_streams(tmp_path):
    """Records come out while the file is still being read: a bad line at the end is only found then."""
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"a": 1}\n\n\xef\xbb\xbf{"b": 2}\n{broken\n')
    problems = ProblemCollector("bad")
    records = read_records(path, problems)
    assert next(records) == (f"{path}:1", {"a": 1}) and not problems.problems
    assert list(records) == [] and len(problems.problems) == 2  # a BOM past line 1 is not JSON either
    assert (
        problems.problems[1]
        == f"{path}:4: invalid JSON (Expecting property name enclosed in double quotes at column 2)"
    )


def test_a_changed_test_file_differs_from_the_run_s_data_report(tmp_path):
    """Every source's sha256 is in a run's data report, the test file's too; a stage that reads a source again
    (eval.style's author articles) finds out what changed since training."""
    from types import SimpleNamespace

    train = write_source("jsonl", tmp_path, REVIEWS)
    test = write_source("tsv", tmp_path, [{"review": "held out", "sentiment": 1}], "test")
    recipe = SimpleNamespace(data=classification(train, test=test))
    manifest = {"data": {"files": {str(s): source_sha256(s) for s in all_sources(recipe.data)}}}
    assert changed_sources(recipe, manifest) == []
    write_source("tsv", tmp_path, [{"review": "held out, edited", "sentiment": 1}], "test")
    assert changed_sources(recipe, manifest) == [f"{test}: changed since training (sha256 differs)"]
