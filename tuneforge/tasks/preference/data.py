"""Preference records → samples. A pair is the prompt plus the chosen reply, with the rejected reply in
meta; a marked reply (format kto) is the prompt plus the reply, with its good/bad label in meta. The
trainers' rows are made from them by tuneforge.data.rows (preference_rows, marked_rows)."""

from __future__ import annotations

from tuneforge.data.formats import RecordError, Sample, check_turn_order
from tuneforge.data.rows import as_messages, load_records, with_system
from tuneforge.data.sources import Source
from tuneforge.errors import ProblemCollector


def load_pairs(
    path: Source, system_prompt: str | None, problems: ProblemCollector, columns: dict[str, str] | None = None
) -> list[Sample]:
    return load_records(path, system_prompt, problems, pair_sample, "preference", columns)


def load_marked(
    path: Source, system_prompt: str | None, problems: ProblemCollector, columns: dict[str, str] | None = None
) -> list[Sample]:
    return load_records(path, system_prompt, problems, marked_sample, "kto", columns)


def marked_sample(record: dict, source: str, system_prompt: str | None) -> Sample:
    for key in ("prompt", "completion", "label"):
        if key not in record:
            raise RecordError(f"missing field {key!r}")
    if not isinstance(record["label"], bool):
        raise RecordError(f"field 'label' must be true (a good reply) or false (a bad one), got {record['label']!r}")
    prompt = with_system(as_messages(record["prompt"], "user", "prompt"), system_prompt)
    completion = as_messages(record["completion"], "assistant", "completion")
    check_turn_order(prompt + completion)
    return Sample(prompt + completion, source, meta={"prompt_turns": len(prompt), "label": record["label"]})


def pair_sample(record: dict, source: str, system_prompt: str | None) -> Sample:
    for key in ("chosen", "rejected"):
        if key not in record:
            raise RecordError(f"missing field {key!r}")
    chosen = as_messages(record["chosen"], "assistant", "chosen")
    rejected = as_messages(record["rejected"], "assistant", "rejected")
    prompt = as_messages(record["prompt"], "user", "prompt") if record.get("prompt") is not None else []
    shared = shared_turns(chosen, rejected)
    if shared:  # whole conversations: the turns both sides share are the prompt
        prompt = shared if shared[: len(prompt)] == prompt else prompt + shared
        chosen, rejected = chosen[len(shared) :], rejected[len(shared) :]
    prompt = with_system(prompt, system_prompt)
    if chosen != rejected:  # an identical pair is dropped and counted, not refused
        for side in (chosen, rejected):
            check_turn_order(prompt + side)
    return Sample(prompt + chosen, source, meta={"prompt_turns": len(prompt), "rejected": rejected})


def shared_turns(chosen: list[dict], rejected: list[dict]) -> list[dict]:
    """The leading turns both sides have in common, up to (not including) the replies that differ."""
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    if shared == len(chosen) == len(rejected):  # identical sides: keep them whole, to be dropped
        return []
    while shared and chosen[shared - 1]["role"] == "assistant":
        shared -= 1  # the differing part starts at an assistant reply
    return chosen[:shared]


def pair_rejection(sample: Sample) -> str | None:
    if "rejected" not in sample.meta:
        return None  # a marked reply (kto): the shared empty-reply check covers it
    chosen = sample.messages[sample.meta["prompt_turns"] :]
    rejected = sample.meta["rejected"]
    if chosen == rejected:
        return "identical_pair"
    if not all(message["content"].strip() for message in rejected):
        return "empty_rejected"
    return None
