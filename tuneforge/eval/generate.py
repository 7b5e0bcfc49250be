"""Batched chat generation with a run's adapter, switchable off to get the base model's reply.

Evaluation loads the full-precision base (not the 4-bit one used for training) plus the
adapter, which is what the merged 16-bit export will serve.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from pathlib import Path

from tuneforge.eval.stops import EndedReply
from tuneforge.models import load_with_adapter

log = logging.getLogger(__name__)


class AdapterGenerator:
    def __init__(self, run_dir: Path, manifest: dict, trust_remote_code: bool = False):
        import torch

        dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
        self._ready(*load_with_adapter(run_dir, manifest, dtype, trust_remote_code))

    @classmethod
    def from_folder(cls, model_dir: Path, trust_remote_code: bool = False) -> AdapterGenerator:
        """A generator over a plain model folder (the exported merged weights): the same batching
        and decoding, without an adapter to switch off. Loaded in float32 on a CPU, so the 16-bit
        rounding of the export is what differs from the adapter."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=dtype, trust_remote_code=trust_remote_code)
        return cls.from_model(model, AutoTokenizer.from_pretrained(str(model_dir), trust_remote_code=trust_remote_code))

    @classmethod
    def from_model(cls, model, tokenizer) -> AdapterGenerator:
        """A generator over a model already in memory (a PEFT model, or a plain one that is never switched off)."""
        generator = cls.__new__(cls)
        generator._ready(model, tokenizer)
        return generator

    def _ready(self, model, tokenizer) -> None:
        import torch

        self.model, self.tokenizer = model, tokenizer
        self.model.eval()
        self.tokenizer.padding_side = "left"  # decoder-only batches are padded on the left
        if torch.cuda.is_available():
            self.model.to("cuda")

    def generate(
        self,
        conversations: list[list[dict]],
        max_new_tokens: int,
        use_adapter: bool = True,
        batch_size: int = 16,
        **decoding,
    ) -> list[str]:
        """Greedy replies, so that base and tuned are compared without sampling noise. `decoding`
        adds or changes generate() settings (e.g. repetition_penalty, or do_sample with temperature)."""
        replies = []
        for start in range(0, len(conversations), batch_size):
            replies += self._generate_batch(
                conversations[start : start + batch_size], max_new_tokens, use_adapter, decoding
            )
        return replies

    def _generate_batch(
        self, conversations: list[list[dict]], max_new_tokens: int, use_adapter: bool, decoding: dict | None = None
    ) -> list[str]:
        new_tokens = self._new_tokens(conversations, max_new_tokens, use_adapter, decoding)
        return [text.strip() for text in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]

    def _new_tokens(
        self,
        conversations: list[list[dict]],
        max_new_tokens: int,
        use_adapter: bool = True,
        decoding: dict | None = None,
    ):
        """The generated token ids of one batch, one row per conversation (finished rows padded)."""
        import torch

        prompts = [
            self.tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations
        ]
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        batch = batch.to(self.model.device)
        with torch.inference_mode(), self._adapter(use_adapter):
            output = self.model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                **{"do_sample": False, **(decoding or {})},
            )
        return output[:, batch["input_ids"].shape[1] :]

    def ended_replies(self, conversations: list[list[dict]], max_new_tokens: int, batch_size: int = 16) -> list:
        """Greedy replies with where they ended: a reply ends on its own at the first of the ids that
        generate() stops at (the model's generation_config.eos_token_id, as a deployment reads it)."""
        stops = end_of_turn_ids(self.model.generation_config)
        replies = []
        for start in range(0, len(conversations), batch_size):
            for row in self._new_tokens(conversations[start : start + batch_size], max_new_tokens).tolist():
                end = next((index for index, token in enumerate(row) if token in stops), None)
                text = self.tokenizer.decode(row[:end], skip_special_tokens=True).strip()
                # The end-of-turn token counts, as a server's completion_tokens counts it.
                replies.append(EndedReply(text, len(row) if end is None else end + 1, end is not None))
        return replies

    def _adapter(self, use_adapter: bool):
        return adapter_switch(self.model, use_adapter)

    def prompt_ids(self, conversation: list[dict]) -> list[int]:
        rendered = self.tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        return self.tokenizer(rendered, add_special_tokens=False)["input_ids"]

    def last_logprobs(self, prompts: list[list[int]], use_adapter: bool = True):
        """Log-probabilities of the token after each prompt (token ids, as `prompt_ids` gives them), one row
        each. Padded on the left with position ids that skip the padding, so each row matches an unpadded
        pass; only the last position's logits are computed."""
        import torch

        input_ids, mask, positions = left_padded(prompts, self.tokenizer.pad_token_id or 0)
        device = self.model.device
        with torch.inference_mode(), self._adapter(use_adapter):
            logits = self.model(
                input_ids=input_ids.to(device),
                attention_mask=mask.to(device),
                position_ids=positions.to(device),
                logits_to_keep=1,
            ).logits
        return torch.log_softmax(logits[:, -1].float(), dim=-1).cpu()

    def reply_logprob(self, conversation: list[dict], use_adapter: bool = True) -> tuple[float, int]:
        """(summed log-probability, token count) of the last (assistant) turn given the turns before,
        the text cut where the served side cuts it (render_with_reply)."""
        import torch

        text, reply_start = render_with_reply(self.tokenizer, conversation)
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
        with torch.inference_mode(), self._adapter(use_adapter):
            logits = self.model(input_ids=torch.tensor([ids], device=self.model.device)).logits[0].float()
        log_probs = torch.log_softmax(logits[:-1], dim=-1)
        scored = [i for i in range(1, len(ids)) if offsets[i][0] >= reply_start]
        return sum(log_probs[i - 1, ids[i]].item() for i in scored), len(scored)


def end_of_turn_ids(generation_config) -> set[int]:
    """The token ids generate() stops at: generation_config.eos_token_id, one id or a list (None: none)."""
    ids = generation_config.eos_token_id
    return set() if ids is None else {ids} if isinstance(ids, int) else set(ids)


def render_with_reply(tokenizer, conversation: list[dict]) -> tuple[str, int]:
    """(the conversation as the chat template renders it, where its last assistant turn starts): the
    in-process and the served scoring of a reply (ApiAnswerer.reply_logprobs) cut the text alike."""
    head = tokenizer.apply_chat_template(conversation[:-1], tokenize=False, add_generation_prompt=True)
    whole = tokenizer.apply_chat_template(conversation, tokenize=False)
    if not whole.startswith(head):  # templates that rewrite earlier turns (Qwen3's thinking)
        whole = head + conversation[-1]["content"]
    return whole, len(head)


def adapter_switch(model, use_adapter: bool):
    """A context with the PEFT model's adapter on (nothing to do) or off (the base model alone)."""
    return contextlib.nullcontext() if use_adapter else model.disable_adapter()


def left_padded(prompts: list[list[int]], pad: int):
    """input_ids, attention mask and position ids of prompts padded on the left, so that every prompt
    ends at the last position (where the next token's logits are read) and positions start at 0."""
    import torch

    width = max(map(len, prompts))
    input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    positions = (mask.cumsum(dim=-1) - 1).clamp(min=0)
    return input_ids, mask, positions


def longest_first_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices in batches of similar length, longest first: little padding per batch, and a batch too
    big for memory fails at once rather than at the end."""
    order = sorted(range(len(lengths)), key=lambda index: -lengths[index])
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


MIN_SHARED_PREFIX = 16  # tokens; a shorter shared start is not worth a cache copy per batch


def common_prefix_length(prompts: list[list[int]]) -> int:
    """How many leading tokens all prompts share, leaving each at least its last token to run (the
    next token's logits are read at its position)."""
    if not prompts:
        return 0
    first, length = prompts[0], min(map(len, prompts)) - 1
    for position in range(length):
        if any(prompt[position] != first[position] for prompt in prompts):
            return position
    return max(length, 0)


class SharedPrefix:
    """The leading tokens of every prompt and their KV cache for one text (batch of one)."""

    def __init__(self, length: int, cache):
        self.length, self.cache = length, cache

    def cache_for(self, rows: int):
        """A copy of the cache with `rows` rows: the model appends each batch's tokens to the copy."""
        return repeated_cache(copy.deepcopy(self.cache), rows)


def repeated_cache(cache, times: int):
    """The KV cache with each row repeated `times` times in place (e.g. one row per label to score)."""
    if hasattr(cache, "batch_repeat_interleave"):
        cache.batch_repeat_interleave(times)
        return cache
    return tuple(tuple(tensor.repeat_interleave(times, dim=0) for tensor in layer) for layer in cache)  # legacy tuples
