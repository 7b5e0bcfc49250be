"""Prompt records → samples, and any split's samples → GRPO's rows.

A prompts record's sample is its prompt turns alone, with the record's other fields in meta. A
sample of any other format (a translation pair, a labelled review, a chat) is a prompt too: the
turns before its last reply, with that reply as the `reference` field and the task's scalar meta
(a classification label) as fields of their own.
"""

from __future__ import annotations

import json

from tuneforge.data.formats import RecordError, Sample, check_turn_order
from tuneforge.data.sources import Source
from tuneforge.errors import ProblemCollector
from tuneforge.tasks.preference.data import as_messages, load_records, with_system

REFERENCE = "reference"  # the field that holds a task sample's own reply


def load_prompts(
    path: Source, system_prompt: str | None, problems: ProblemCollector, columns: dict[str, str] | None = None
) -> list[Sample]:
    return load_records(path, system_prompt, problems, prompt_sample, "prompts", columns)


def prompt_sample(record: dict, source: str, system_prompt: str | None) -> Sample:
    if "prompt" not in record:
        raise RecordError("missing field 'prompt'")
    prompt = with_system(as_messages(record["prompt"], "user", "prompt"), system_prompt)
    if prompt[-1]["role"] != "user":
        raise RecordError("the prompt must end with a user turn (the model replies to it)")
    check_turn_order(prompt + [{"role": "assistant", "content": "."}])
    fields = {key: value for key, value in record.items() if key != "prompt"}
    return Sample(prompt, source, meta={"fields": fields})


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
