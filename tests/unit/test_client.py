"""Client pieces that need no server: think-block stripping on streams, predict's input and resume file."""

from __future__ import annotations

import json

import pytest

from helpers import write_jsonl
from tuneforge.errors import UserError
from tuneforge.serve.client import ThinkFilter, strip_think
from tuneforge.serve.predict import answered_ids, read_requests

REPLY = "<think>\nThe user greets me. Keep it short.\n</think>\n\nAhoy there!</think> stays? no: <think>x</think>Done."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13, len(REPLY)])
def test_think_blocks_vanish_however_the_stream_is_cut(size):
    think = ThinkFilter()
    shown = "".join(think.feed(REPLY[i : i + size]) for i in range(0, len(REPLY), size)) + think.flush()
    assert shown == "\n\nAhoy there!</think> stays? no: Done."


def test_text_without_think_blocks_passes_unchanged_and_nothing_is_held_back_at_the_end():
    think = ThinkFilter()
    assert think.feed("a < b and <thi") == "a < b and "  # "<thi" could begin a tag
    assert think.feed("s is fine") == "<this is fine"
    assert think.flush() == ""
    assert strip_think("<think>unfinished thought") == ""  # an open block hides its rest
    assert strip_think("<think>plan</think>\n\nAnswer") == "Answer"


def test_requests_read_prompts_and_messages_and_add_the_system_prompt(tmp_path):
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "prompt": "Hi"},
            {"messages": [{"role": "system", "content": "Own"}, {"role": "user", "content": "Yo"}]},
            "",
        ],
    )
    first, second = read_requests(path, "Recipe system")
    assert first.id == "a" and first.messages == [
        {"role": "system", "content": "Recipe system"},
        {"role": "user", "content": "Hi"},
    ]
    assert second.id == "2" and second.messages[0]["content"] == "Own"  # id defaults to the line number


def test_bad_request_lines_are_all_reported_with_file_and_line(tmp_path):
    path = write_jsonl(
        tmp_path / "in.jsonl",
        ["[1]", '{"id": "x", "messages": [{"role": "robot", "content": "?"}]}', '{"id": "x", "messages": []}'],
    )
    with pytest.raises(UserError) as error:
        read_requests(path, None)
    assert [p.split(": ")[0] for p in error.value.problems] == [f"{path}:1", f"{path}:2", f"{path}:3"]
    with pytest.raises(UserError, match="no such file"):
        read_requests(tmp_path / "missing.jsonl", None)


def test_answered_ids_drops_a_half_written_last_line(tmp_path):
    output = tmp_path / "out.jsonl"
    output.write_text(json.dumps({"id": "a", "output": "x"}) + "\n" + '{"id": "b", "out')
    assert answered_ids(output) == {"a"}
    assert output.read_text() == json.dumps({"id": "a", "output": "x"}) + "\n"
    assert answered_ids(tmp_path / "none.jsonl") == set()
