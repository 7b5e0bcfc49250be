"""`tuneforge data convert`: a plain-text dialogue script → ShareGPT JSONL.

    tuneforge data convert dialogues.txt -o conversations.jsonl --user-label Master --assistant-label Lyra

The text format (docs/data-formats.md, "Dialogue text"):

    # a comment line
    system: You are Lyra, a gentle maid who calls the user "master".
    Master: Good morning!
    Lyra: Good morning, master! Did you sleep well?
      A line that starts no new turn continues the one before it.
    ---
    Master: The next conversation starts after a line of three dashes.

A turn starts with `LABEL:` at the start of a line, where LABEL is `system`, the user label or
the assistant label (case-insensitive; defaults `user` and `assistant`). Each conversation may
open with one system turn, then user and assistant turns alternate, ending with the assistant.
Every problem is reported as file:line, together.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tuneforge.data.formats import RecordError, check_turn_order
from tuneforge.errors import ProblemCollector, UserError
from tuneforge.files import write_text_atomic

SEPARATOR = "---"


@dataclass
class Draft:
    """A conversation being read: its turns and the line each turn started on."""

    start: int
    turns: list[dict] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def label_pattern(labels: dict[str, str]) -> re.Pattern:
    names = "|".join(re.escape(name) for name in sorted(labels, key=len, reverse=True))
    return re.compile(rf"^({names})\s*:\s?(.*)$", re.IGNORECASE)


def parse_dialogues(path: Path, user_label: str = "user", assistant_label: str = "assistant") -> list[list[dict]]:
    """Every conversation in the file as chat messages; raises UserError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 text (byte {error.start})", fix="save the file as UTF-8") from None
    labels = {"system": "system", user_label.lower(): "user", assistant_label.lower(): "assistant"}
    pattern, problems = label_pattern(labels), ProblemCollector(f"cannot convert {path}")
    drafts, draft = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#") or (draft is None and not line.strip()):
            continue
        if line.strip() == SEPARATOR:
            drafts, draft = drafts + ([draft] if draft else []), None
            continue
        match = pattern.match(line)
        if match:
            draft = draft or Draft(number)
            draft.turns.append({"role": labels[match.group(1).lower()], "content": match.group(2)})
            draft.lines.append(number)
        elif draft is None or not draft.turns:
            problems.add(
                f"{path}:{number}: text outside a turn; start turns with "
                f"'{user_label}:', '{assistant_label}:' or 'system:'"
            )
        else:
            draft.turns[-1]["content"] += "\n" + line
    drafts += [draft] if draft else []
    conversations = [checked(path, d, problems) for d in drafts]
    problems.raise_if_any(fix="see the dialogue text format in docs/data-formats.md")
    if not conversations:
        raise UserError(f"{path}: no conversations found")
    return conversations


def checked(path: Path, draft: Draft, problems: ProblemCollector) -> list[dict]:
    for turn, number in zip(draft.turns, draft.lines):
        turn["content"] = turn["content"].strip()
        if not turn["content"]:
            problems.add(f"{path}:{number}: empty {turn['role']} turn")
    try:
        check_turn_order(draft.turns)
    except RecordError as error:
        problems.add(f"{path}:{draft.start}: {error}")
    return draft.turns


def write_sharegpt(conversations: list[list[dict]], output: Path, id_prefix: str) -> None:
    """ShareGPT JSONL (`from`: system/user/assistant, `value`), written aside then renamed."""
    rows = [
        {
            "id": f"{id_prefix}-{index:04d}",
            "conversations": [{"from": m["role"], "value": m["content"]} for m in messages],
        }
        for index, messages in enumerate(conversations, start=1)
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
