"""The embedded SmolLM2: converted from its PyPI GGUF, rebuilt when damaged, and it answers."""

from __future__ import annotations

import pytest

from serving import QUESTION
from tuneforge.files import sha256_file
from tuneforge.models import resolve_model

pytestmark = pytest.mark.integration


def test_damaged_cache_is_rebuilt(tmp_path, monkeypatch, embedded_dir):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path))
    first = resolve_model("embedded:smollm2-135m-instruct")
    assert first.path.is_relative_to(tmp_path)
    weights = first.path / "model.safetensors"
    original = sha256_file(weights)
    assert original == sha256_file(embedded_dir / "model.safetensors")  # conversion is deterministic
    with open(weights, "r+b") as handle:  # flip bytes in the middle of the weights
        handle.seek(weights.stat().st_size // 2)
        handle.write(b"\x00\x01\x02\x03")
    rebuilt = resolve_model("embedded:smollm2-135m-instruct")
    assert sha256_file(rebuilt.path / "model.safetensors") == original


def test_embedded_model_answers_a_question(embedded_dir, tokenizer):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(embedded_dir), dtype=torch.float32, use_safetensors=True)
    prompt = tokenizer.apply_chat_template(
        QUESTION,
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    output = model.generate(**prompt, max_new_tokens=32, do_sample=False)
    reply = tokenizer.decode(output[0, prompt["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in reply
    # generation_config's EOS is the end-of-turn token, so the short answer ends there
    assert output[0, -1].item() == tokenizer.convert_tokens_to_ids("<|im_end|>")
