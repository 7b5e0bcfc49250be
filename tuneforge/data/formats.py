"""The sample every reader produces, and the record readers that tasks share.

Every reader returns `Sample(messages, source)` where source is "file:line" (or "file:row N"), and
reports malformed records to a ProblemCollector instead of stopping at the first one. The chat,
ShareGPT and Alpaca layouts are here (the conversation task's formats); reading the records
themselves (JSON lines, JSON, Parquet, CSV, TSV, save_to_disk folders, hub datasets) and renaming
their columns (data.columns) is shared by every record-based format: `read_records`
(tuneforge/data/sources.py). A task's own format is its data section's `read`
(tuneforge/tasks/<task>/schema.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tuneforge.data.sources import Source, read_records
from tuneforge.errors import ProblemCollector

ROLES = ("system", "user", "assistant")
# ShareGPT exports name roles many ways; these are the usual spellings.
SHAREGPT_ROLE_ALIASES = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "chatgpt": "assistant",
}


@dataclass
class Sample:
    messages: list[dict[str, str]]
    source: str  # file:line, for error messages and the data report
    group: str | None = None  # samples of one group (e.g. the tasks cut from one article) share a split
    meta: dict = field(default_factory=dict)  # what the task's metrics need: a label, a reference, a template


class RecordError(ValueError):
    """A record that cannot be turned into a conversation; the message names the field."""


def _text_field(record: dict, key: str, required: bool = True) -> str:
    value = record.get(key)
    if value is None:
        if required:
            raise RecordError(f"missing field {key!r}")
        return ""
    if not isinstance(value, str):
        raise RecordError(f"field {key!r} must be a string, got {type(value).__name__}")
    return value


def read_turns(record: dict, list_key: str, role_key: str, text_key: str, roles: dict[str, str]) -> list[dict]:
    """The shared shape of chat and ShareGPT records: a list of {role, text} objects."""
    turns = record.get(list_key)
    if not isinstance(turns, list):
        raise RecordError(f"missing list field {list_key!r}")
    messages = []
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise RecordError(f"{list_key}[{index}] must be an object")
        speaker = _text_field(turn, role_key)
        role = roles.get(speaker.lower())
        if role is None:
            raise RecordError(
                f"{list_key}[{index}].{role_key} is {speaker!r}; expected one of {', '.join(sorted(roles))}"
            )
        messages.append({"role": role, "content": _text_field(turn, text_key)})
    return messages


def from_chat(record: dict, system_prompt: str | None) -> list[dict[str, str]]:
    """OpenAI style: {"messages": [{"role": ..., "content": ...}, ...]}."""
    return read_turns(record, "messages", "role", "content", {role: role for role in ROLES})


def from_sharegpt(record: dict, system_prompt: str | None) -> list[dict[str, str]]:
    """ShareGPT style: {"conversations": [{"from": "human"|"gpt"|..., "value": ...}, ...]}."""
    return read_turns(record, "conversations", "from", "value", SHAREGPT_ROLE_ALIASES)


def from_alpaca(record: dict, system_prompt: str | None) -> list[dict[str, str]]:
    """Alpaca style: {"instruction", "input", "output"} plus an optional per-record "system"."""
    instruction = _text_field(record, "instruction")
    extra_input = _text_field(record, "input", required=False)
    system = _text_field(record, "system", required=False) or system_prompt
    user = f"{instruction}\n\n{extra_input}" if extra_input.strip() else instruction
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [
        {"role": "user", "content": user},
        {"role": "assistant", "content": _text_field(record, "output")},
    ]


Reader = Callable[[dict, "str | None"], list[dict[str, str]]]
CONVERSATION_READERS: dict[str, Reader] = {"chat": from_chat, "sharegpt": from_sharegpt, "alpaca": from_alpaca}


def check_turn_order(messages: list[dict[str, str]]) -> None:
    """System first (optional), then user/assistant alternating, ending on an assistant turn."""
    body = messages[1:] if messages and messages[0]["role"] == "system" else messages
    if not body:
        raise RecordError("the conversation has no user or assistant turns")
    for index, message in enumerate(body):
        expected = "user" if index % 2 == 0 else "assistant"
        if message["role"] != expected:
            raise RecordError(
                f"turn {index + 1} is {message['role']!r} but {expected!r} was expected "
                f"(system first, then user and assistant alternating)"
            )
    if body[-1]["role"] != "assistant":
        raise RecordError("the conversation must end with an assistant turn")


def load_samples(
    paths: list[Source],
    fmt: str,
    system_prompt: str | None,
    problems: ProblemCollector,
    columns: dict[str, str] | None = None,
) -> list[Sample]:
    reader = CONVERSATION_READERS[fmt]
    samples = []
    for path in paths:
        for source, record in read_records(path, problems, columns):
            try:
                messages = reader(record, system_prompt)
                if system_prompt and messages and messages[0]["role"] != "system":
                    messages.insert(0, {"role": "system", "content": system_prompt})
                check_turn_order(messages)
            except RecordError as exc:
                problems.add(f"{source}: {exc} (format: {fmt})")
                continue
            samples.append(Sample(messages, source))
    return samples
