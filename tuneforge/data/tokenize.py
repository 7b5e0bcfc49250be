"""Chat template + loss mask: which tokens of a conversation the model is trained on.

The conversation is rendered once with the tokenizer's own chat template. Each assistant
reply's character span is found by rendering the conversation up to that reply, and the
tokens whose characters fall inside a span get mask 1 (train on them); all others get 0.
This works for any template whose rendering of a shorter conversation is a prefix of the
longer one (ChatML, Llama 3, Qwen2.5 ...), which is checked for every reply; where it does
not hold (Qwen3's <think> handling), the reply is found by searching for its text.
"""

from __future__ import annotations

import hashlib
import json

from tuneforge.data.formats import Sample
from tuneforge.errors import UserError

IGNORE_INDEX = -100  # the label value PyTorch's cross-entropy skips


def tokenizer_fingerprint(tokenizer) -> str:
    state = tokenizer.backend_tokenizer.to_str() if hasattr(tokenizer, "backend_tokenizer") else repr(tokenizer)
    payload = json.dumps({"vocab": state, "template": tokenizer.chat_template or ""}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def render(tokenizer, messages: list[dict], generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def assistant_spans(tokenizer, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered text and the (start, end) character span of every assistant reply.

    A span covers the reply and its end-of-turn token, so the model learns to stop.
    """
    text = render(tokenizer, messages)
    spans, cursor = [], 0
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = render(tokenizer, messages[:index], generation_prompt=True)
        through = render(tokenizer, messages[: index + 1]).rstrip("\n")
        if text.startswith(before) and text.startswith(through):
            span = (len(before), len(through))
        else:
            span = search_span(text, message["content"], cursor, tokenizer.eos_token)
        spans.append(span)
        cursor = span[1]
    return text, spans


def search_span(text: str, content: str, cursor: int, end_token: str | None) -> tuple[int, int]:
    """Locate a reply in templates that render a turn differently once later turns exist.

    Qwen3's template, for one, writes an empty <think></think> block before the last reply only.
    Search for the reply's text after the previous reply, and extend the span over the
    end-of-turn token that follows it.
    """
    start = text.find(content, cursor) if content else -1
    if start < 0:
        raise UserError(
            "an assistant reply cannot be found in the rendered chat template",
            fix="set data.assistant_only_loss: false for this model, or fix its chat template",
        )
    end = start + len(content)
    if end_token and text.startswith(end_token, end):
        end += len(end_token)
    return start, end


def encode_conversation(tokenizer, messages: list[dict], assistant_only: bool) -> tuple[list[int], list[int]]:
    """input_ids and a 0/1 mask of the tokens that carry loss."""
    text, spans = assistant_spans(tokenizer, messages)
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    if not assistant_only:
        return encoding["input_ids"], [1] * len(encoding["input_ids"])
    mask = [int(any(start <= char_start < end for start, end in spans)) for char_start, _ in encoding["offset_mapping"]]
    return encoding["input_ids"], mask


def masked_labels(ids: list[int], mask: list[int]) -> list[int]:
    """Labels for the loss: the token where mask is 1, IGNORE_INDEX (no loss) elsewhere."""
    return [token if keep else IGNORE_INDEX for token, keep in zip(ids, mask)]


def fit_input(sample: Sample, tokenizer, data, max_seq_length: int, report, split: str) -> Sample | None:
    """overlength truncate_input: the format cuts the sample's input text to fit (counted as truncated);
    None, counted as dropped, where even the sample without its text is too long."""
    fitted = data.fit(sample, tokenizer, max_seq_length)
    if fitted is None:
        report.filtered[f"prompt_alone_longer_than_max_seq_length ({split})"] += 1
    elif fitted is not sample:
        report.truncated[split] += 1
    return fitted


def encode_samples(samples: list[Sample], tokenizer, data, max_seq_length: int, report, split: str):
    """Tokenize one split into a datasets.Dataset, dropping or truncating long samples (counted)."""
    from datasets import Dataset

    rows = {"input_ids": [], "labels": [], "source": []}
    for sample in samples:
        if data.filter.overlength == "truncate_input":
            sample = fit_input(sample, tokenizer, data, max_seq_length, report, split)
            if sample is None:
                continue
        ids, mask = encode_conversation(tokenizer, sample.messages, data.assistant_only_loss)
        if len(ids) > max_seq_length:
            if data.filter.overlength != "truncate":  # truncate_input has fitted it already: never cut the answer
                report.filtered[f"longer_than_max_seq_length ({split})"] += 1
                continue
            report.truncated[split] += 1
            ids, mask = ids[:max_seq_length], mask[:max_seq_length]
        if not any(mask) and sample.messages[-1]["role"] == "assistant":  # a prompt (GRPO) has no reply yet
            report.filtered[f"no_trainable_tokens ({split})"] += 1
            continue
        rows["input_ids"].append(ids)
        rows["labels"].append(masked_labels(ids, mask))
        rows["source"].append(sample.source)
    report.splits[split] = len(rows["input_ids"])
    report.tokens[f"{split}_tokens"] = sum(map(len, rows["input_ids"]))
    report.tokens[f"{split}_trained_tokens"] = sum(sum(t != IGNORE_INDEX for t in row) for row in rows["labels"])
    return Dataset.from_dict(rows, features=dataset_features())


def dataset_features():
    from datasets import Features, Sequence, Value

    return Features(
        {"input_ids": Sequence(Value("int32")), "labels": Sequence(Value("int32")), "source": Value("string")}
    )
