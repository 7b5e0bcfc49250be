"""`tuneforge data convert`: the dialogue text format, its errors, and the shipped roleplay data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tuneforge.cli import main
from tuneforge.data.convert import parse_dialogues
from tuneforge.errors import UserError

ROLEPLAY = Path(__file__).resolve().parents[2] / "recipes" / "roleplay" / "data"
SCRIPT = """# a comment
system: Be Lyra.
Master: Good morning!
Lyra: Good morning, master!
  The kettle is on.

---
master: Thanks.
LYRA:   You're welcome, master.
"""


def test_turns_labels_continuations_and_separators(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text(SCRIPT, encoding="utf-8")
    first, second = parse_dialogues(path, "Master", "Lyra")
    assert first == [
        {"role": "system", "content": "Be Lyra."},
        {"role": "user", "content": "Good morning!"},
        {"role": "assistant", "content": "Good morning, master!\n  The kettle is on."},
    ]
    assert second == [
        {"role": "user", "content": "Thanks."},
        {"role": "assistant", "content": "You're welcome, master."},
    ]


def test_every_problem_is_reported_with_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(
        "stray text\nuser: one\nuser: two\n---\nuser: ok\nassistant:\n---\nassistant: alone\n", encoding="utf-8"
    )
    with pytest.raises(UserError) as error:
        parse_dialogues(path)
    problems = error.value.problems
    assert problems[0] == f"{path}:1: text outside a turn; start turns with 'user:', 'assistant:' or 'system:'"
    assert problems[1].startswith(f"{path}:2: turn 2 is 'user'")
    assert problems[2] == f"{path}:6: empty assistant turn"
    assert problems[3].startswith(f"{path}:8: turn 1 is 'assistant'")


def test_cli_writes_sharegpt_and_exits_2_on_bad_input(tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.bin"
    good.write_text(SCRIPT, encoding="utf-8")
    bad.write_bytes(b"user: caf\xe9\n")
    out = tmp_path / "out" / "c.jsonl"
    result = CliRunner().invoke(
        main, ["data", "convert", str(good), "-o", str(out), "--user-label", "Master", "--assistant-label", "Lyra"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == ["good-0001", "good-0002"]
    assert rows[1]["conversations"][0] == {"from": "user", "value": "Thanks."}
    failed = CliRunner().invoke(main, ["data", "convert", str(bad), "-o", str(tmp_path / "x.jsonl")])
    assert failed.exit_code == 2 and "not UTF-8" in failed.output and not (tmp_path / "x.jsonl").exists()


def test_shipped_roleplay_script_converts_to_the_shipped_jsonl(tmp_path):
    out = tmp_path / "conversations.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "data",
            "convert",
            str(ROLEPLAY / "dialogues.txt"),
            "-o",
            str(out),
            "--user-label",
            "Master",
            "--assistant-label",
            "Lyra",
            "--id-prefix",
            "lyra",
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == (ROLEPLAY / "conversations.jsonl").read_text(encoding="utf-8")
    replies = [
        m["value"]
        for line in out.read_text().splitlines()
        for m in json.loads(line)["conversations"]
        if m["from"] == "assistant"
    ]
    assert len(replies) > 600 and all("master" in r and "Lyra" in r for r in replies)
