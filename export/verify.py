"""Fidelity of an exported artifact against the merged 16-bit model, on held-out tokens.

Both models score the same token sequences (the run's validation conversations). We report
top-1 next-token agreement with the reference and each model's perplexity on the assistant
tokens. Judging an export by one generated reply is not enough for small models (ENVIRONMENT.md).
"""

from __future__ import annotations

import math

from tuneforge.data.tokenize import IGNORE_INDEX


def hf_logits(model_dir, sequences: list[list[int]]):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32, use_safetensors=True).eval()
    with torch.inference_mode():
        return [model(torch.tensor([ids])).logits[0].numpy() for ids in sequences]


def gguf_logits(gguf_path, sequences: list[list[int]]):
    from llama_cpp import Llama

    longest = max(map(len, sequences))
    llm = Llama(model_path=str(gguf_path), n_ctx=longest + 8, logits_all=True, verbose=False, n_threads=None)
    results = []
    for ids in sequences:
        llm.reset()
        llm.eval(ids)
        results.append(llm.scores[: len(ids)].copy())
    return results


def perplexity(logits_list, labels_list) -> float:
    import numpy as np

    total, count = 0.0, 0
    for logits, labels in zip(logits_list, labels_list):
        shifted = logits[:-1].astype(np.float64)
        targets = np.array(labels[1:])
        keep = targets != IGNORE_INDEX
        log_probs = shifted - np.logaddexp.reduce(shifted, axis=1, keepdims=True)
        total -= log_probs[np.arange(len(targets))[keep], targets[keep]].sum()
        count += int(keep.sum())
    return math.exp(total / max(count, 1))


def top1_agreement(reference, candidate) -> float:
    agree = sum(int((r.argmax(-1) == c.argmax(-1)).sum()) for r, c in zip(reference, candidate))
    return agree / sum(len(r) for r in reference)
