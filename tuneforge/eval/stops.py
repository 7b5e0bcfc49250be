"""Does it stop? The share of held-out prompts whose reply ends on its own (the model's end-of-turn
token; over the API `finish_reason: "stop"`) before the token budget runs out, and the mean reply length.

A model that trained well can still lose its end of turn on the way to deployment: a merged export whose
generation_config names another EOS id, a GGUF whose tokenizer metadata lost the end-of-turn token, a
template that renders the turn's end differently. Its task metric may barely move (the first tokens are
right) while every reply runs on to the limit. Every artifact that `export --eval` and `eval --artifact`
measure is asked the same prompts with the same budget, and its share is compared with the adapter's:
an artifact whose share falls more than export.max_stop_drop below the adapter's fails the export.

The prompts are the run's own held-out samples cut before their last reply (test split, else validation,
else training). The budget is twice the longest reference reply among them in tokens (kept within
[MIN_BUDGET, MAX_BUDGET]): a reply in the trained style ends well within it, one that never ends does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from tuneforge.data.rows import REFERENCE, prompt_row

STOP_PROMPTS = 16  # enough to see a systematic loss of the end of turn; each costs a reply per artifact
MIN_BUDGET, MAX_BUDGET = 32, 256  # tokens
NO_REFERENCE_BUDGET = 128  # prompts-only data (GRPO) has no reply to size the budget by


@dataclass(frozen=True)
class EndedReply:
    """One greedy reply: its text, its length in tokens (its end-of-turn token included), and whether it
    ended on its own."""

    text: str
    tokens: int
    ended: bool


@dataclass(frozen=True)
class StopPrompts:
    """The held-out prompts every artifact is asked, and the token budget each reply gets."""

    split: str
    conversations: list[list[dict]]
    max_tokens: int


def held_out_prompts(run, tokenizer, count: int = STOP_PROMPTS) -> StopPrompts:
    """The first `count` samples of the run's most held-out split (RunFolder.held_out_split), cut before
    their reply."""
    split, samples = run.held_out_split()
    rows = [prompt_row(sample) for sample in samples[:count]]
    return StopPrompts(split, [row["prompt"] for row in rows], reply_budget(tokenizer, rows))


def reply_budget(tokenizer, rows: list[dict]) -> int:
    """Twice the longest reference reply in tokens, within [MIN_BUDGET, MAX_BUDGET]."""
    references = [row[REFERENCE] for row in rows if isinstance(row.get(REFERENCE), str)]
    if not references:
        return NO_REFERENCE_BUDGET
    longest = max(len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in references)
    return min(MAX_BUDGET, max(MIN_BUDGET, 2 * longest))


def measure_stops(prompts: StopPrompts, answerer) -> dict:
    """The artifact's replies to the held-out prompts: the share that ended on their own, the mean length,
    and the first few replies that did not end (what a user would see)."""
    if not prompts.conversations:
        return {"prompts": 0, "split": prompts.split, "max_tokens": prompts.max_tokens, "share": None}
    replies: list[EndedReply] = answerer.ended_replies(prompts.conversations, prompts.max_tokens)
    return {
        "prompts": len(replies),
        "split": prompts.split,
        "max_tokens": prompts.max_tokens,
        "share": sum(reply.ended for reply in replies) / len(replies),
        "mean_tokens": round(sum(reply.tokens for reply in replies) / len(replies), 1),
        "unended_examples": [reply.text[-200:] for reply in replies if not reply.ended][:3],
    }


def stop_drop(reference: dict | None, measured: dict) -> float | None:
    """How far the artifact's share of replies that end fell below the reference's (positive: worse)."""
    if reference is None or reference.get("share") is None or measured.get("share") is None:
        return None
    return reference["share"] - measured["share"]


def stop_cell(measured: dict | None) -> str:
    """ "87.5% ended, 23.1 tokens" for a report; "" where it was not measured."""
    if not measured or measured.get("share") is None:
        return ""
    drop = measured.get("drop")
    change = f" ({0.0 - drop:+.1%})" if drop else ""
    return f"{measured['share']:.1%}{change} ended, {measured['mean_tokens']} tokens"
