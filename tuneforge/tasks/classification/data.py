"""`format: classification`: {"text", "label"} JSONL (the ChnSentiCorp layout) → chat samples.

Each record becomes: [system prompt], user = the instruction and the text, assistant = the
label's name. Training is plain label generation; prediction (predict.py) reads the
probability of each label's tokens after the same prompt, so every answer has a confidence.

A text too long for model.max_seq_length (data.filter.overlength: truncate_input, the default of
this format) is cut in its middle or at its end, never the instruction, the system prompt or the
label. The cut depends on the text alone (the longest label is budgeted), so training and
prediction cut every text the same way.
"""

from __future__ import annotations

import dataclasses

from tuneforge.data.formats import Sample
from tuneforge.data.sources import Source, read_records
from tuneforge.data.tokenize import render
from tuneforge.errors import ProblemCollector, UserError
from tuneforge.eval.kit import held_out


def classification_prompt(config, text: str) -> str:
    return f"{config.instruction.format(labels=', '.join(config.labels))}\n\n{text}"


def prompt_messages(data, text: str) -> list[dict]:
    """The conversation up to the answer: what training saw, and what prediction scores labels after."""
    system = [{"role": "system", "content": data.system_prompt}] if data.system_prompt else []
    return [*system, {"role": "user", "content": classification_prompt(data.classification, text)}]


CUT_MARK = "…"  # stands where text was cut out, so the model sees that the text is not whole


def cut_text(tokenizer, text: str, keep: int, side: str) -> str:
    """The text shortened to about `keep` of its tokens: its start (side "end") or its start and its
    end (side "middle"), with CUT_MARK where the rest was."""
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    if keep >= len(offsets):
        return text
    if keep <= 0:
        return CUT_MARK
    head = keep if side == "end" else (keep + 1) // 2
    head_end = offsets[head - 1][1]
    tail_start = offsets[len(offsets) - (keep - head)][0] if keep > head else len(text)
    return text[:head_end] + CUT_MARK + text[max(tail_start, head_end) :]


def longest_sample_tokens(data, tokenizer, text: str) -> int:
    """Tokens of the longest training sample the text makes: the label that tokenizes longest."""
    prompt = prompt_messages(data, text)
    samples = [
        render(tokenizer, [*prompt, {"role": "assistant", "content": label}]) for label in data.classification.labels
    ]
    return max(len(ids) for ids in tokenizer(samples, add_special_tokens=False)["input_ids"])


def fitted_text(data, tokenizer, text: str, max_len: int) -> str | None:
    """The text whole where a sample of it fits max_len tokens with any label, else cut
    (data.filter.truncate_side) until it does; None where not even an empty text fits."""
    excess = longest_sample_tokens(data, tokenizer, text) - max_len
    if excess <= 0:
        return text
    keep = len(tokenizer(text, add_special_tokens=False)["input_ids"]) - excess
    while True:  # a cut can land inside a character of several tokens: measure again, cut further
        cut = cut_text(tokenizer, text, keep, data.filter.truncate_side)
        excess = longest_sample_tokens(data, tokenizer, cut) - max_len
        if excess <= 0:
            return cut
        if keep <= 0:
            return None
        keep = max(0, keep - excess)


def fit_sample(data, sample: Sample, tokenizer, max_len: int) -> Sample | None:
    """The sample with its text cut to fit max_len tokens (itself where it fits); None where it cannot fit.
    The sample's meta keeps the whole text: the run's split files hold what the data said."""
    text, _ = text_and_label(data, sample)
    cut = fitted_text(data, tokenizer, text, max_len)
    if cut is None or cut == text:
        return None if cut is None else sample
    return dataclasses.replace(sample, messages=[*prompt_messages(data, cut), sample.messages[-1]])


def scored_text(data, tokenizer, text: str, max_len: int) -> str:
    """The text as prediction scores it: cut exactly as training cut it (overlength: truncate_input)."""
    if data.filter.overlength != "truncate_input":
        return text
    cut = fitted_text(data, tokenizer, text, max_len)
    if cut is None:
        raise UserError(
            f"the classification prompt alone (system prompt and instruction) is longer than "
            f"model.max_seq_length ({max_len} tokens)",
            fix="raise model.max_seq_length or shorten data.system_prompt / data.classification.instruction",
        )
    return cut


def label_name(config, value) -> str | None:
    """A record's label as a name: an index into `labels` or one of the names; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():  # a CSV column with an empty cell is read as floats
        value = int(value)
    if isinstance(value, int):
        return config.labels[value] if 0 <= value < len(config.labels) else None
    if isinstance(value, str):
        if value in config.labels:
            return value
        if value.strip().isdigit():  # "0"/"1" as written by some CSV-to-JSON exports
            return label_name(config, int(value))
    return None


def read_classification(path: Source, data, problems: ProblemCollector) -> list[Sample]:
    config, samples = data.classification, []
    text_column, label_column = (column_name(data, field) for field in ("text", "label"))
    for where, record in read_records(path, problems, data.columns):
        text, label = record.get("text"), label_name(config, record.get("label"))
        if not isinstance(text, str) or not text.strip():
            problems.add(f"{where}: missing or empty {text_column}; the text must be a non-empty string")
        elif label is None:
            problems.add(
                f"{where}: {label_column} is {record.get('label')!r}; expected an index "
                f"0-{len(config.labels) - 1} or one of {config.labels}"
            )
        else:
            messages = [*prompt_messages(data, text.strip()), {"role": "assistant", "content": label}]
            samples.append(Sample(messages, where, meta={"text": text.strip(), "label": label}))
    return samples


def column_name(data, field: str) -> str:
    """How a problem names a field: 'text', or 'review' (data.columns.text) where data.columns renames it."""
    column = data.columns.get(field)
    return f"{column!r} (data.columns.{field})" if column else repr(field)


def text_and_label(data, sample: Sample) -> tuple[str, str]:
    """The record's text and label, as read_classification kept them for the metrics."""
    return sample.meta["text"], sample.meta["label"]


def test_items(run, limit: int | None) -> list[tuple[str, str]]:
    """(text, label) of the run's own test split (its validation split when it has no test split):
    what the evaluation scores and `tuneforge classify --demo` shows."""
    samples = held_out(run, "eval.classification", fallback="val")
    return [text_and_label(run.recipe.data, sample) for sample in samples[:limit]]
