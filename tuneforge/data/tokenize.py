"""Chat template + loss mask: which tokens of a conversation the model is trained on.

The conversation is rendered once with the tokenizer's own chat template. Each assistant
reply's character span is found by rendering the conversation up to that reply, and the
tokens whose characters fall inside a span get mask 1 (train on them); all others get 0.
This works for any template whose rendering of a shorter conversation is a prefix of the
longer one (ChatML, Llama 3, Qwen2.5 ...), and is checked for every sample.
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
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = render(tokenizer, messages[:index], generation_prompt=True)
        through = render(tokenizer, messages[: index + 1]).rstrip("\n")
        if not (text.startswith(before) and text.startswith(through)):
            raise UserError("the chat template does not render conversations prefix-stably, so assistant "
                            "tokens cannot be located", fix="set data.assistant_only_loss: false for this model")
        spans.append((len(before), len(through)))
    return text, spans


def encode_conversation(tokenizer, messages: list[dict], assistant_only: bool) -> tuple[list[int], list[int]]:
    """input_ids and a 0/1 mask of the tokens that carry loss."""
    text, spans = assistant_spans(tokenizer, messages)
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    if not assistant_only:
        return encoding["input_ids"], [1] * len(encoding["input_ids"])
    mask = [int(any(start <= char_start < end for start, end in spans))
            for char_start, _ in encoding["offset_mapping"]]
    return encoding["input_ids"], mask


def masked_labels(ids: list[int], mask: list[int]) -> list[int]:
    """Labels for the loss: the token where mask is 1, IGNORE_INDEX (no loss) elsewhere."""
    return [token if keep else IGNORE_INDEX for token, keep in zip(ids, mask)]


def encode_samples(samples: list[Sample], tokenizer, data, max_seq_length: int, report, split: str):
    """Tokenize one split into a datasets.Dataset, dropping or truncating long samples (counted)."""
    from datasets import Dataset

    rows = {"input_ids": [], "labels": [], "source": []}
    for sample in samples:
        ids, mask = encode_conversation(tokenizer, sample.messages, data.assistant_only_loss)
        if len(ids) > max_seq_length:
            if data.filter.overlength == "drop":
                report.filtered[f"longer_than_max_seq_length ({split})"] += 1
                continue
            report.truncated[split] += 1
            ids, mask = ids[:max_seq_length], mask[:max_seq_length]
        if not any(mask):
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

    return Features({"input_ids": Sequence(Value("int32")), "labels": Sequence(Value("int32")),
                     "source": Value("string")})
