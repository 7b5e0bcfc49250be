"""The first samples of a split as the model sees them: the chat template rendered by the tokenizer, each
token with its text and its marks (carries loss, special, end of an assistant turn).

What a sample looks like depends on how the method trains: SFT's tokens are the tokenizing step's own
(tuneforge.data.tokenize); DPO and ORPO get {prompt, chosen, rejected} rows, KTO {prompt, completion, label}
and GRPO {prompt, **fields} rows (tuneforge.data.rows), made of the split samples the tokenizing step kept
(tuneforge.train.methods.rows.kept_samples), as their trainers get them.
"""

from __future__ import annotations

from tuneforge.data.formats import Sample
from tuneforge.data.prepare import DataReport
from tuneforge.data.rows import marked_rows, preference_rows, prompt_rows
from tuneforge.data.tokenize import assistant_spans, encode_conversation, fit_input, render
from tuneforge.recipe.schema import Recipe

# The methods whose trainers read rows, by the rows they read; every other method trains on conversations.
ROW_KINDS = {"dpo": "pair", "orpo": "pair", "kto": "marked", "grpo": "prompt"}


def sample_kind(recipe: Recipe) -> str:
    return ROW_KINDS.get(recipe.train.method, "conversation")


def token_marks(
    tokenizer, text: str, ids: list[int], mask: list[int], spans: list[tuple[int, int]], start_char: int = 0
) -> list[dict]:
    """Each token of `ids` (the tokenizing of `text`, perhaps cut short) with its text and marks; `spans` are
    the assistant replies' character spans, whose last token is the end of the turn; tokens that start
    before `start_char` (a prompt shown elsewhere) are left out."""
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"][: len(ids)]
    special = set(tokenizer.all_special_ids)
    ends = turn_ends(offsets, spans)
    tokens, shown = [], 0
    for index, (token_id, loss, (start, end)) in enumerate(zip(ids, mask, offsets)):
        # Byte-level tokens that split one character share its offsets: the first shows it, the rest nothing.
        piece = text[max(start, shown) : end]
        shown = max(shown, end)
        if start < start_char:
            continue
        tokens.append(
            {"id": token_id, "text": piece, "loss": bool(loss), "special": token_id in special, "eot": index in ends}
        )
    return tokens


def turn_ends(offsets: list[tuple[int, int]], spans: list[tuple[int, int]]) -> set[int]:
    """The index of each reply's last token, where that token reaches the reply's end (not cut off)."""
    ends = set()
    for _, span_end in spans:
        inside = [index for index, (start, _) in enumerate(offsets) if start < span_end]
        if inside and offsets[inside[-1]][1] >= span_end:
            ends.add(inside[-1])
    return ends


def counted(tokens: list[dict]) -> dict:
    return {"tokens": tokens, "n_tokens": len(tokens), "n_loss": sum(token["loss"] for token in tokens)}


def conversation_view(sample: Sample, tokenizer, data, max_seq_length: int) -> dict:
    """A sample as the tokenizing step (tuneforge.data.tokenize.encode_samples) turns it into a training row:
    its input fitted (overlength truncate_input), encoded with its loss mask, cut at max_seq_length
    (overlength truncate)."""
    fitted = sample
    if data.filter.overlength == "truncate_input":
        fitted = fit_input(sample, tokenizer, data, max_seq_length, DataReport(), "shown") or sample
    ids, mask = encode_conversation(tokenizer, fitted.messages, data.assistant_only_loss)
    cut = len(ids) > max_seq_length
    if cut:
        ids, mask = ids[:max_seq_length], mask[:max_seq_length]
    text, spans = assistant_spans(tokenizer, fitted.messages)
    tokens = token_marks(tokenizer, text, ids, mask, spans)
    truncated = cut or fitted is not sample
    return {"source": sample.source, "messages": fitted.messages, "truncated": truncated, **counted(tokens)}


def prompt_tokens(tokenizer, prompt: list[dict]) -> tuple[str, dict]:
    """The prompt rendered as a reply is asked of the model (with the generation prompt): no loss."""
    text = render(tokenizer, prompt, generation_prompt=True)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return text, counted(token_marks(tokenizer, text, ids, [0] * len(ids), []))


def reply_tokens(tokenizer, prompt: list[dict], prompt_text: str, reply: list[dict]) -> dict:
    """The reply's tokens as they follow the prompt in the rendered conversation, loss on the reply."""
    messages = prompt + reply
    ids, mask = encode_conversation(tokenizer, messages, assistant_only=True)
    text, spans = assistant_spans(tokenizer, messages)
    start = len(prompt_text) if text.startswith(prompt_text) else 0
    return counted(token_marks(tokenizer, text, ids, mask, spans, start_char=start))


def pair_view(row: dict, source: str, tokenizer) -> dict:
    prompt_text, prompt = prompt_tokens(tokenizer, row["prompt"])
    return {
        "source": source,
        "row": row,
        "prompt": prompt,
        "chosen": reply_tokens(tokenizer, row["prompt"], prompt_text, row["chosen"]),
        "rejected": reply_tokens(tokenizer, row["prompt"], prompt_text, row["rejected"]),
    }


def marked_view(row: dict, source: str, tokenizer) -> dict:
    prompt_text, prompt = prompt_tokens(tokenizer, row["prompt"])
    completion = reply_tokens(tokenizer, row["prompt"], prompt_text, row["completion"])
    return {"source": source, "row": row, "prompt": prompt, "completion": completion, "label": row["label"]}


def reward_view(row: dict, source: str, tokenizer, rewards: list) -> dict:
    """A GRPO prompt and what each reward function receives beside the sampled replies: the prompt's
    messages and the row's fields (TRL passes every column; a reward reads the one its `field` names)."""
    _, prompt = prompt_tokens(tokenizer, row["prompt"])
    fields = {key: value for key, value in row.items() if key != "prompt"}
    inputs = [
        {
            "name": spec.name,
            "weight": spec.weight,
            "field": getattr(spec, "field", None),
            "value": fields.get(getattr(spec, "field", None) or ""),
        }
        for spec in rewards
    ]
    return {"source": source, "prompt": prompt, "messages": row["prompt"], "fields": fields, "rewards": inputs}


def sample_views(kind: str, samples: list[Sample], tokenizer, recipe: Recipe) -> list[dict]:
    """The views of `samples` (kept ones, a few) for the recipe's method."""
    data, sources = recipe.data, [sample.source for sample in samples]
    if kind == "pair":
        return [pair_view(row, source, tokenizer) for row, source in zip(preference_rows(samples), sources)]
    if kind == "marked":
        return [marked_view(row, source, tokenizer) for row, source in zip(marked_rows(samples), sources)]
    if kind == "prompt":
        rewards = recipe.train.grpo.rewards
        return [reward_view(row, source, tokenizer, rewards) for row, source in zip(prompt_rows(samples), sources)]
    return [conversation_view(sample, tokenizer, data, recipe.model.max_seq_length) for sample in samples]
