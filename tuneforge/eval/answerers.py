"""Answerers: one interface to a model, in process or behind an OpenAI-compatible API.

A task's `artifact_metric(run, answerer)` measures its metric through these three calls only, so
that the adapter in process and every served export (GGUF on llama.cpp, vLLM) are measured by the
same code:
  - `replies(conversations, max_tokens, **decoding)`: greedy chat replies;
  - `label_probabilities(conversations, labels)`: per conversation, the probability of each label
    as the reply's first token (a softmax over the labels' first tokens), or None where the
    backend gives no logprobs (the task then falls back to matching the reply's text);
  - `ended_replies(conversations, max_tokens)`: greedy replies, each with its length in tokens and
    whether it ended on its own before max_tokens (tuneforge.eval.stops);
  - `reply_logprobs(conversations)`: per conversation whose last turn is the assistant's, the
    summed log-probability and the token count of that turn given the rest (teacher forcing), or
    None where the backend cannot score a prompt (llama.cpp's servers).
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tuneforge.eval.generate import AdapterGenerator, longest_first_batches, render_with_reply
from tuneforge.eval.stops import EndedReply
from tuneforge.serve.client import strip_think

log = logging.getLogger(__name__)
TOP_LOGPROBS = 20  # the OpenAI API's maximum; enough for the handful of labels a classifier has


def first_token_ids(tokenizer, labels: list[str]) -> list[int] | None:
    """Each label's first token id; None when two labels share their first token (then the first
    token cannot tell them apart, and the reply's text decides)."""
    ids = [tokenizer(label, add_special_tokens=False)["input_ids"][0] for label in labels]
    return ids if len(set(ids)) == len(ids) else None


def softmax_over(labels: list[str], logprobs: list[float]) -> dict[str, float]:
    top = max(logprobs)
    weights = [math.exp(value - top) for value in logprobs]
    return {label: weight / sum(weights) for label, weight in zip(labels, weights)}


# ---------------------------------------------------------------- in process (adapter, merged weights)


class InProcessAnswerer:
    """The run's adapter on the full-precision base (AdapterGenerator, as `tuneforge eval` uses it),
    or the exported merged 16-bit weights loaded by transformers."""

    def __init__(self, generator: AdapterGenerator, name: str = "adapter"):
        self.name, self.server = name, "in process (transformers)"
        self.generator, self.tokenizer = generator, generator.tokenizer

    @classmethod
    def of_run(cls, run, name: str = "adapter", merged_dir: Path | None = None) -> InProcessAnswerer:
        """The run's adapter on its base model, or (merged_dir) the exported merged weights."""
        trust = run.recipe.model.trust_remote_code
        if merged_dir:
            return cls(AdapterGenerator.from_folder(merged_dir, trust), name)
        return cls(AdapterGenerator(run.path, run.manifest, trust), name)

    def replies(self, conversations: list[list[dict]], max_tokens: int, batch_size: int = 16, **decoding) -> list[str]:
        texts = self.generator.generate(conversations, max_tokens, batch_size=batch_size, **decoding)
        return [strip_think(text).strip() for text in texts]

    def ended_replies(self, conversations: list[list[dict]], max_tokens: int) -> list[EndedReply]:
        return self.generator.ended_replies(conversations, max_tokens)

    def label_probabilities(self, conversations: list[list[dict]], labels: list[str]) -> list[dict | None]:
        ids = first_token_ids(self.tokenizer, labels)
        if ids is None:
            return [None] * len(conversations)
        prompts = [self.generator.prompt_ids(c) for c in conversations]
        results: list[dict | None] = [None] * len(conversations)
        for batch in longest_first_batches(list(map(len, prompts)), 16):
            last = self.generator.last_logprobs([prompts[i] for i in batch])
            for index, row in zip(batch, last.tolist()):
                results[index] = softmax_over(labels, [row[i] for i in ids])
        return results

    def reply_logprobs(self, conversations: list[list[dict]]) -> list[tuple[float, int]]:
        return [self.generator.reply_logprob(conversation) for conversation in conversations]


# ---------------------------------------------------------------- over the API (a served export)


class ApiAnswerer:
    """A served export behind the official `openai` client: greedy (temperature 0) chat replies,
    the reply's first-token top logprobs, and prompt logprobs through completions with echo."""

    def __init__(
        self, name: str, base_url: str, api_key: str, model: str, tokenizer, concurrency: int, backend: str, server: str
    ):
        import openai

        self.name, self.model, self.tokenizer, self.backend = name, model, tokenizer, backend
        self.server = server  # what answers: native (llama-server), python (llama-cpp-python) or vllm
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=2, timeout=600)
        self.concurrency = concurrency
        self.notes: list[str] = []

    def _map(self, function, items: list) -> list:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(function, items))

    def _chat(self, messages: list[dict], max_tokens: int, **extra):
        return self.client.chat.completions.create(
            model=self.model, messages=messages, max_tokens=max_tokens, temperature=0, **extra
        )

    def replies(self, conversations: list[list[dict]], max_tokens: int, batch_size: int = 16, **decoding) -> list[str]:
        extra = self.decoding_body(decoding)
        return self._map(
            lambda messages: strip_think(self._chat(messages, max_tokens, **extra).choices[0].message.content or ""),
            conversations,
        )

    def ended_replies(self, conversations: list[list[dict]], max_tokens: int) -> list[EndedReply]:
        """Greedy replies with where they ended: `finish_reason: "stop"` is an end of turn (or a stop
        string) before max_tokens; "length" is the budget running out."""

        def ask(messages: list[dict]) -> EndedReply:
            done = self._chat(messages, max_tokens)
            choice = done.choices[0]
            tokens = (
                done.usage.completion_tokens
                if done.usage
                else len(self.tokenizer(choice.message.content or "")["input_ids"])
            )
            return EndedReply(choice.message.content or "", tokens, choice.finish_reason == "stop")

        return self._map(ask, conversations)

    def decoding_body(self, decoding: dict) -> dict:
        """HF generate() settings as this backend names them (greedy stays greedy: temperature 0)."""
        penalty = decoding.get("repetition_penalty")
        if penalty is None:
            return {}
        name = "repetition_penalty" if self.backend == "vllm" else "repeat_penalty"  # llama.cpp's name
        return {"extra_body": {name: penalty}}

    def label_probabilities(self, conversations: list[list[dict]], labels: list[str]) -> list[dict | None]:
        import openai

        ids = first_token_ids(self.tokenizer, labels)
        if ids is None:
            return [None] * len(conversations)
        pieces = [self.tokenizer.decode([i]) for i in ids]

        def score(messages: list[dict]) -> dict | None:
            reply = self._chat(messages, 1, logprobs=True, top_logprobs=TOP_LOGPROBS)
            return label_scores(reply, labels, pieces)

        try:
            return self._map(score, conversations)
        except (openai.BadRequestError, openai.InternalServerError) as refused:  # a server without logprobs
            self.notes.append(f"logprobs refused ({refused.message[:160]}); labels read from the reply text")
            return [None] * len(conversations)

    def reply_logprobs(self, conversations: list[list[dict]]) -> list[tuple[float, int]] | None:
        """Teacher-forced: the whole conversation as a completions prompt with echo, and the
        logprobs of the tokens from the assistant turn's start on. llama.cpp's servers give no
        prompt logprobs (None); vLLM does."""
        import openai

        if self.backend != "vllm":
            return None

        def score(conversation: list[dict]) -> tuple[float, int]:
            prompt, reply_start = render_with_reply(self.tokenizer, conversation)
            done = self.client.completions.create(
                model=self.model, prompt=prompt, max_tokens=1, temperature=0, echo=True, logprobs=0
            )
            found = done.choices[0].logprobs
            values = [
                value
                for offset, value in zip(found.text_offset, found.token_logprobs)
                if value is not None and reply_start <= offset < len(prompt)
            ]
            return sum(values), len(values)

        try:
            return self._map(score, conversations)
        except openai.BadRequestError as refused:
            self.notes.append(f"prompt logprobs refused ({refused.message[:160]})")
            return None


def label_scores(reply, labels: list[str], pieces: list[str]) -> dict | None:
    """Label probabilities from a reply's first-token top logprobs: each label's first token
    (`pieces`, as decoded by the run's tokenizer) looked up by its text; a label missing from the
    top entries gets no probability. None when the backend sent no logprobs or no label is there."""
    content = reply.choices[0].logprobs.content if reply.choices[0].logprobs else None
    if not content:
        return None
    top = {entry.token: entry.logprob for entry in content[0].top_logprobs}
    found = [(label, top[piece]) for label, piece in zip(labels, pieces) if piece in top]
    if not found:
        return None
    probabilities = softmax_over([label for label, _ in found], [value for _, value in found])
    return {label: probabilities.get(label, 0.0) for label in labels}
