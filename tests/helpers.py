"""Builders shared by the tests: tiny random-weight models and small data files."""

from __future__ import annotations

import json
from pathlib import Path

TINY_SHAPES = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=2, head_dim=16, max_position_embeddings=512, tie_word_embeddings=True)


def build_tiny_model(arch: str, tokenizer, folder: Path) -> Path:
    """A 2-layer model of the given architecture with random weights and the embedded tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen3Config

    config_class = {"llama": LlamaConfig, "qwen3": Qwen3Config}[arch]
    config = config_class(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                          eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **TINY_SHAPES)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def write_jsonl(path: Path, records: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records),
                    encoding="utf-8")
    return path


def sharegpt_records(count: int) -> list[dict]:
    """Small, distinct two-turn conversations that a tiny model can overfit in a few steps."""
    return [{"id": f"c{i}", "conversations": [
        {"from": "system", "value": "You are Captain Test."},
        {"from": "human", "value": f"What is {i} plus {i}?"},
        {"from": "gpt", "value": f"Ahoy! {i} plus {i} is {2 * i}."},
        {"from": "human", "value": "Thanks!"},
        {"from": "gpt", "value": "Fair winds!"}]} for i in range(count)]


def write_recipe(path: Path, body: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def tiny_recipe(tmp_path: Path, model_dir: Path, **train) -> Path:
    """A recipe that trains a tiny model on 24 short conversations in seconds.

    4-bit loading and Unsloth's gradient checkpointing are forced on, so the GPU code path is
    what runs here on the CPU ("auto" would turn both off without a GPU)."""
    data = write_jsonl(tmp_path / "data.jsonl", sharegpt_records(24))
    settings = {"max_steps": 6, "batch_size": 4, "grad_accum": 1, "lr": 5e-3, "logging_steps": 1,
                "eval_steps": 3, "save_steps": 3, "save_total_limit": 2, "warmup_ratio": 0.0,
                "gradient_checkpointing": "unsloth", **train}
    return write_recipe(tmp_path / "tiny.yaml", {
        "name": "tiny", "model": {"base": str(model_dir), "max_seq_length": 128, "load_in_4bit": True},
        "lora": {"r": 8, "alpha": 16}, "data": {"format": "sharegpt", "train": data.name, "split": {"val": 0.2}},
        "train": settings})
