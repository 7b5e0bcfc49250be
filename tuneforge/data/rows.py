"""Records shared by the tasks that read prompts and replies, and the row shapes TRL's trainers take.

The preference task (pairs, marked replies) and the prompts task read records whose fields are a string
or a message list (`as_messages`, `load_records`, `with_system`). The training methods turn a split's
samples into TRL's conversational rows: {prompt, chosen, rejected} (DPO, ORPO), {prompt, completion,
label} (KTO) and {prompt, **fields} (GRPO), where any task's sample is a prompt: the turns before its
last reply, with that reply as the `reference` field.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tuneforge.data.formats import ROLES, RecordError, Sample
from tuneforge.data.sources import Source, read_records
from tuneforge.errors import ProblemCollector

REFERENCE = "reference"  # the field that holds a task sample's own reply


# ---------------------------------------------------------------- records


def load_records(
    path: Source,
    system_prompt: str | None,
    problems: ProblemCollector,
    make_sample: Callable[[dict, str, str | None], Sample],
    fmt: str,
    columns: dict[str, str] | None = None,
) -> list[Sample]:
    """Every record (renamed by data.columns) as a sample; each malformed one is a file:line problem (all
    reported together)."""
    samples = []
    for source, record in read_records(path, problems, columns):
        try:
            samples.append(make_sample(record, source, system_prompt))
        except RecordError as exc:
            problems.add(f"{source}: {exc} (format: {fmt})")
    return samples


def as_messages(value, role: str, key: str) -> list[dict[str, str]]:
    """A string is one message of `role`; a list must hold {role, content} messages."""
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    if not isinstance(value, list):
        raise RecordError(f"field {key!r} must be a string or a list of messages, got {type(value).__name__}")
    messages = []
    for index, message in enumerate(value):
        if not (isinstance(message, dict) and message.get("role") in ROLES and isinstance(message.get("content"), str)):
            raise RecordError(f'{key}[{index}] must be {{"role": one of {", ".join(ROLES)}, "content": a string}}')
        messages.append({"role": message["role"], "content": message["content"]})
    return messages


def with_system(prompt: list[dict], system_prompt: str | None) -> list[dict]:
    if system_prompt and (not prompt or prompt[0]["role"] != "system"):
        return [{"role": "system", "content": system_prompt}, *prompt]
    return prompt


# ---------------------------------------------------------------- TRL's rows


def preference_rows(samples: list[Sample]) -> list[dict]:
    """TRL's conversational preference rows: {prompt, chosen, rejected}, each a message list."""
    return trl_rows(samples, reply="chosen", other="rejected")


def marked_rows(samples: list[Sample]) -> list[dict]:
    """TRL's conversational KTO rows: {prompt, completion, label}."""
    return trl_rows(samples, reply="completion", other="label")


def trl_rows(samples: list[Sample], reply: str, other: str) -> list[dict]:
    """The prompt turns, the reply after them, and the meta field TRL reads beside them."""
    rows = []
    for sample in samples:
        cut = sample.meta["prompt_turns"]
        rows.append({"prompt": sample.messages[:cut], reply: sample.messages[cut:], other: sample.meta[other]})
    return rows


def prompt_rows(samples: list[Sample]) -> list[dict]:
    """TRL's conversational prompt rows: {"prompt": messages, **fields}; every row has every field
    (None where a record lacks it), as a dataset's columns must."""
    rows = [prompt_row(sample) for sample in samples]
    columns = {key for row in rows for key in row}
    return [{key: row.get(key) for key in sorted(columns)} for row in rows]


def prompt_row(sample: Sample) -> dict:
    if "fields" in sample.meta:  # format: prompts
        return {"prompt": sample.messages, **sample.meta["fields"]}
    last = max(index for index, message in enumerate(sample.messages) if message["role"] == "assistant")
    scalars = {key: value for key, value in sample.meta.items() if isinstance(value, (str, int, float, bool))}
    return {"prompt": sample.messages[:last], REFERENCE: sample.messages[last]["content"], **scalars}


def missing_fields(rows: list[dict], wanted: dict[str, str]) -> list[str]:
    """For each (reward, field) whose field some row lacks: what is missing and where it comes from."""
    problems = []
    for reward, key in wanted.items():
        lacking = sum(row.get(key) is None for row in rows)
        if lacking:
            example = json.dumps(sorted(key for key in rows[0] if key != "prompt")) if rows else "[]"
            problems.append(
                f"train.grpo.rewards.{reward}: {lacking} of {len(rows)} prompts have no field {key!r} (they have {example})"
            )
    return problems
