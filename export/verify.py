"""Fidelity of an exported artifact against the merged 16-bit model, on held-out tokens.

Both models score the same token sequences (the run's validation conversations). We report
top-1 next-token agreement with the reference and each model's perplexity on the assistant
tokens. Judging an export by one generated reply is not enough for small models (ENVIRONMENT.md).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from tuneforge.data.tokenize import IGNORE_INDEX
from tuneforge.errors import UserError
from tuneforge.serve.llamacpp import load_llama


def hf_logits(model_dir, sequences: list[list[int]]):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32, use_safetensors=True).eval()
    with torch.inference_mode():
        return [model(torch.tensor([ids])).logits[0].numpy() for ids in sequences]


def gguf_logits(gguf_path, sequences: list[list[int]]):
    longest = max(map(len, sequences))
    llm = load_llama(gguf_path, n_ctx=longest + 8, logits_all=True, verbose=False, n_threads=None)
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


def gguf_token_ids(gguf_path: Path, texts: list[str]) -> list[list[int]]:
    """llama.cpp's own tokenization of each text (special tokens parsed), in a child process:
    a GGUF with a broken vocabulary aborts llama.cpp (std::out_of_range), which must become a
    clear export error rather than a dead exporter."""
    done = subprocess.run(
        [sys.executable, "-m", "tuneforge.export.verify", str(gguf_path)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise UserError(
            f"llama.cpp cannot tokenize text with {gguf_path.name} (exit code {done.returncode}): "
            "its vocabulary was converted wrongly",
            [done.stderr.strip().splitlines()[-1]] if done.stderr.strip() else [],
            fix="check the model's tokenizer.json (llama.cpp's converter picks the vocabulary type from it)",
        )
    return json.loads(done.stdout)


def check_gguf_tokenizer(gguf_path: Path, tokenizer, texts: list[str]) -> None:
    """The GGUF carries the HF chat template, EOS and tokenization: a mismatch is how exported
    models end up answering differently from the trained one."""
    from gguf import GGUFReader

    fields = GGUFReader(str(gguf_path)).fields
    problems = []
    template = fields.get("tokenizer.chat_template")
    if tokenizer.chat_template and (template is None or template.contents() != tokenizer.chat_template):
        problems.append("tokenizer.chat_template differs from the HF chat template")
    eos = fields.get("tokenizer.ggml.eos_token_id")
    if eos is not None and tokenizer.eos_token_id is not None and eos.contents() != tokenizer.eos_token_id:
        problems.append(f"EOS id {eos.contents()} differs from the HF tokenizer's {tokenizer.eos_token_id}")
    for text, ids in zip(texts, gguf_token_ids(gguf_path, texts)):
        expected = tokenizer(text, add_special_tokens=False)["input_ids"]
        if ids != expected:
            problems.append(f"llama.cpp tokenizes {text[:40]!r}... into {len(ids)} tokens, HF into {len(expected)}")
            break
    if problems:
        raise UserError(
            f"{gguf_path.name} does not match the HF tokenizer:",
            problems,
            fix="report this with export/export.json; the GGUF would answer differently",
        )


def _tokenize_main(gguf_path: str) -> None:
    llm = load_llama(gguf_path, vocab_only=True, verbose=False)
    texts = json.loads(sys.stdin.read())
    json.dump([llm.tokenize(text.encode("utf-8"), add_bos=False, special=True) for text in texts], sys.stdout)


if __name__ == "__main__":
    _tokenize_main(sys.argv[1])
