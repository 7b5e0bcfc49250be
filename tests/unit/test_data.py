"""Data formats normalize to chat messages; malformed input gets file:line; drops are counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import sharegpt_records, write_jsonl
from tuneforge.data.formats import load_samples
from tuneforge.data.prepare import DataReport, filter_samples, read_conversations, split_samples
from tuneforge.errors import ProblemCollector, UserError
from tuneforge.recipe.assemble import data_formats


def load(path, fmt, system=None):
    problems = ProblemCollector("bad data")
    samples = load_samples([path], fmt, system, problems)
    return samples, problems.problems


def validated_data(raw: dict):
    """A `data` section alone, validated by its format's class as a recipe validates it."""
    return data_formats()[raw["format"]].model_validate(raw, context={"base_dir": Path(".")})


def section(path, fmt="sharegpt", **extra):
    return validated_data({"format": fmt, "train": [str(path)], **extra})


def test_chat_format(tmp_path):
    path = write_jsonl(
        tmp_path / "c.jsonl",
        [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}],
    )
    samples, problems = load(path, "chat", system="Be nice.")
    assert not problems
    assert samples[0].messages == [
        {"role": "system", "content": "Be nice."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]
    assert samples[0].source == f"{path}:1"


def test_sharegpt_role_aliases(tmp_path):
    record = {
        "conversations": [
            {"from": "System", "value": "s"},
            {"from": "human", "value": "q"},
            {"from": "gpt", "value": "a"},
            {"from": "user", "value": "q2"},
            {"from": "bot", "value": "a2"},
        ]
    }
    samples, problems = load(write_jsonl(tmp_path / "s.jsonl", [record]), "sharegpt")
    assert not problems
    assert [m["role"] for m in samples[0].messages] == ["system", "user", "assistant", "user", "assistant"]


def test_alpaca_with_input_and_system(tmp_path):
    records = [
        {"instruction": "Translate", "input": "bonjour", "output": "hello"},
        {"instruction": "Add 1+1", "output": "2", "system": "Own system"},
    ]
    samples, problems = load(write_jsonl(tmp_path / "a.jsonl", records), "alpaca", system="Recipe system")
    assert not problems
    assert samples[0].messages == [
        {"role": "system", "content": "Recipe system"},
        {"role": "user", "content": "Translate\n\nbonjour"},
        {"role": "assistant", "content": "hello"},
    ]
    assert samples[1].messages[0] == {"role": "system", "content": "Own system"}


def test_json_array_files(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[{"instruction": "q", "output": "a"}]')
    samples, problems = load(path, "alpaca")
    assert not problems and samples[0].source.endswith("a.json:item 0")


def test_malformed_lines_are_all_reported_with_file_and_line(tmp_path):
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        [
            sharegpt_records(1)[0],
            "{not json",
            {"conversations": [{"from": "alien", "value": "x"}]},
            {"conversations": [{"from": "gpt", "value": "a"}, {"from": "human", "value": "q"}]},
            {"no_conversations": 1},
            "[1, 2]",
            {"conversations": [{"from": "human", "value": "q"}]},
        ],
    )
    samples, problems = load(path, "sharegpt")
    assert len(samples) == 1
    lines = [p.split(":")[1] for p in problems]
    assert lines == ["2", "3", "4", "5", "6", "7"]
    assert "invalid JSON" in problems[0] and "'alien'" in problems[1] and "'user' was expected" in problems[2]
    assert "missing list field 'conversations'" in problems[3] and "end with an assistant turn" in problems[5]


def test_missing_alpaca_field_and_wrong_type(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "q"}, {"instruction": 3, "output": "a"}])
    _, problems = load(path, "alpaca")
    assert "a.jsonl:1: missing field 'output'" in problems[0]
    assert "a.jsonl:2: field 'instruction' must be a string" in problems[1]


def test_empty_and_non_utf8_files(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"instruction": "ok", "output": "fine"}\n{"instruction": "caf\xe9", "output": "x"}\n')
    assert "the file is empty" in load(empty, "alpaca")[1][0]
    assert "latin.jsonl:2: not valid UTF-8" in load(latin, "alpaca")[1][0]


def test_read_conversations_raises_one_error_listing_all(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", ["{", "{"])
    with pytest.raises(UserError) as caught:
        read_conversations(section(path), DataReport())
    assert len(caught.value.problems) == 2 and "bad.jsonl:1" in caught.value.problems[0]


def test_filters_are_counted_not_silent(tmp_path):
    records = sharegpt_records(3)
    records.append(records[0])  # duplicate
    records.append({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "   "}]})
    records.append({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "x" * 50}]})
    data = section(
        write_jsonl(tmp_path / "d.jsonl", records), filter={"min_response_chars": 3, "max_response_chars": 40}
    )
    report = DataReport()
    kept = filter_samples(read_conversations(data, report), data, report)
    assert len(kept) == 3
    assert dict(report.filtered) == {"duplicate": 1, "empty_response": 1, "response_longer_than_max_chars": 1}
    assert report.to_json()["kept"] == 3


def test_split_is_seeded_disjoint_and_sized(tmp_path):
    data = section(write_jsonl(tmp_path / "d.jsonl", sharegpt_records(100)), split={"val": 0.1, "test": 0.1})
    samples = read_conversations(data, DataReport())
    first, second = split_samples(samples, data), split_samples(samples, data)
    assert {k: len(v) for k, v in first.items()} == {"test": 10, "val": 10, "train": 80}
    assert [s.source for s in first["val"]] == [s.source for s in second["val"]]
    sources = [s.source for split in first.values() for s in split]
    assert len(set(sources)) == 100
    other_seed = section(data.train[0], split={"val": 0.1, "test": 0.1, "seed": 7})
    assert [s.source for s in split_samples(samples, other_seed)["val"]] != [s.source for s in first["val"]]


def test_subset_thins_only_the_train_split(tmp_path):
    data = section(write_jsonl(tmp_path / "d.jsonl", sharegpt_records(100)), split={"val": 0.1}, subset=0.25)
    splits = split_samples(read_conversations(data, DataReport()), data)
    assert len(splits["val"]) == 10 and len(splits["train"]) == 22
