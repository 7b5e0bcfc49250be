"""`format: classification`: {"text", "label"} JSONL (the ChnSentiCorp layout) → chat samples.

Each record becomes: [system prompt], user = the instruction and the text, assistant = the
label's name. Training is plain label generation; prediction (predict.py) reads the
probability of each label's tokens after the same prompt, so every answer has a confidence.
"""

from __future__ import annotations

from pathlib import Path

from tuneforge.data.formats import Sample, read_records
from tuneforge.errors import ProblemCollector


def classification_prompt(config, text: str) -> str:
    return f"{config.instruction.format(labels=', '.join(config.labels))}\n\n{text}"


def prompt_messages(data, text: str) -> list[dict]:
    """The conversation up to the answer: what training saw, and what prediction scores labels after."""
    system = [{"role": "system", "content": data.system_prompt}] if data.system_prompt else []
    return [*system, {"role": "user", "content": classification_prompt(data.classification, text)}]


def label_name(config, value) -> str | None:
    """A record's label as a name: an index into `labels` or one of the names; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return config.labels[value] if 0 <= value < len(config.labels) else None
    if isinstance(value, str):
        if value in config.labels:
            return value
        if value.strip().isdigit():  # "0"/"1" as written by some CSV-to-JSON exports
            return label_name(config, int(value))
    return None


def read_classification(path: Path, data, problems: ProblemCollector) -> list[Sample]:
    config, samples = data.classification, []
    for where, record in read_records(path, problems):
        text, label = record.get(config.text_key), label_name(config, record.get(config.label_key))
        if not isinstance(text, str) or not text.strip():
            problems.add(f"{where}: missing or empty {config.text_key!r} (a string)")
        elif label is None:
            problems.add(
                f"{where}: {config.label_key!r} is {record.get(config.label_key)!r}; expected an index "
                f"0-{len(config.labels) - 1} or one of {config.labels}"
            )
        else:
            messages = [*prompt_messages(data, text.strip()), {"role": "assistant", "content": label}]
            samples.append(Sample(messages, where, meta={"text": text.strip(), "label": label}))
    return samples


def text_and_label(data, sample: Sample) -> tuple[str, str]:
    """The record's text and label, as read_classification kept them for the metrics."""
    return sample.meta["text"], sample.meta["label"]


def test_items(run, limit: int | None) -> list[tuple[str, str]]:
    """(text, label) of the run's own test split (its validation split when it has no test split):
    what the evaluation scores and `tuneforge classify --demo` shows."""
    from tuneforge.eval.kit import held_out

    samples = held_out(run, "eval.classification", fallback="val")
    return [text_and_label(run.recipe.data, sample) for sample in samples[:limit]]
