"""Prompt records → samples.

A prompts record's sample is its prompt turns alone, with the record's other fields in meta. GRPO turns
them (and any other task's samples) into its rows with tuneforge.data.rows.prompt_rows.
"""

from __future__ import annotations

from tuneforge.data.formats import RecordError, Sample, check_turn_order
from tuneforge.data.rows import as_messages, load_records, with_system
from tuneforge.data.sources import Source
from tuneforge.errors import ProblemCollector


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
