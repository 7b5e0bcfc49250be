"""Batched chat generation with a run's adapter, switchable off to get the base model's reply.

Evaluation loads the full-precision base (not the 4-bit one used for training) plus the
adapter, which is what the merged 16-bit export will serve.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from tuneforge.models import load_with_adapter

log = logging.getLogger(__name__)


class AdapterGenerator:
    def __init__(self, run_dir: Path, manifest: dict, trust_remote_code: bool = False):
        import torch

        dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
        self.model, self.tokenizer = load_with_adapter(run_dir, manifest, dtype, trust_remote_code)
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
        import torch

        prompts = [
            self.tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations
        ]
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        batch = batch.to(self.model.device)
        switch = contextlib.nullcontext() if use_adapter else self.model.disable_adapter()
        with torch.inference_mode(), switch:
            output = self.model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                **{"do_sample": False, **(decoding or {})},
            )
        new_tokens = output[:, batch["input_ids"].shape[1] :]
        return [text.strip() for text in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
