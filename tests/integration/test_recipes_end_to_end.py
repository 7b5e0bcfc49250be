"""Every shipped task recipe, as it ships, end to end on a tiny random-weight model: the recipe's
own data is prepared, a few steps are trained, the recipe's own evaluation runs, and a GGUF is
exported and loaded in llama.cpp. Only the model, the schedule, the evaluation size and the
CPU-only settings are overridden (the same kind of overrides the make targets use)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tuneforge.cli import main

pytestmark = pytest.mark.integration

# Settings a GPU recipe needs changed to train on a CPU in seconds (as the style recipe's cpu profile does).
CPU_SHORT = [
    "model.max_seq_length=256",
    "model.load_in_4bit=auto",
    "train.max_steps=2",
    "train.batch_size=4",
    "train.grad_accum=1",
    "train.global_batch_size=null",
    "train.optim=auto",
    "train.precision=auto",
    "train.gradient_checkpointing=auto",
    "train.eval_steps=null",
    "train.save_steps=2",
    "train.warmup_ratio=0.0",
]

# recipe → its evaluation section, the overrides that shorten it, and a file it must leave in <run>/eval/
RECIPES = {
    "translation": (
        "translation",
        ["eval.translation.max_samples=2", "eval.translation.max_new_tokens=6"],
        "translation_metrics.json",
    ),
    "roleplay": ("persona", ["eval.persona.max_new_tokens=6"], "persona.png"),
    "domain": ("domain", ["eval.domain.max_samples=3", "eval.domain.max_new_tokens=6"], "evaluation_results.json"),
    "style": (
        "style",
        [
            "data.markdown.chunk_min_tokens=40",
            "data.markdown.chunk_max_tokens=100",
            "eval.style.max_samples=2",
            "eval.style.max_new_tokens=6",
        ],
        "style_indicators.json",
    ),
    "sentiment": ("classification", ["eval.classification.max_samples=8"], "metrics.json"),
    # The second stages, from a fresh adapter here (their make targets continue the first stage's run).
    "roleplay-dpo": ("preference", ["eval.persona.max_new_tokens=6", "eval.preference.max_pairs=4"], "persona.png"),
    "translation-grpo": (
        "translation",
        [
            "train.grpo.num_generations=2",
            "train.grpo.max_completion_length=6",
            "train.grpo.eval_prompts=4",
            "eval.translation.max_samples=2",
            "eval.translation.max_new_tokens=6",
        ],
        "translation_metrics.json",
    ),
}


@pytest.mark.parametrize("name", list(RECIPES))
def test_a_shipped_recipe_trains_evaluates_and_exports(name, tiny_llama_dir, tokenizer, tmp_path):
    from tuneforge.serve.llamacpp import load_llama

    section, eval_overrides, eval_file = RECIPES[name]
    overrides = [f"model.base={tiny_llama_dir}", *CPU_SHORT, *eval_overrides]
    options = [arg for key in overrides for arg in ("-o", key)]
    runs = tmp_path / "runs"
    runner = CliRunner()

    trained = runner.invoke(main, ["train", name, "--runs-dir", str(runs), "--resume", "none", *options])
    assert trained.exit_code == 0, trained.output
    run = Path(trained.output.strip().splitlines()[-1])
    data_report = json.loads((run / "data_report.json").read_text())
    assert data_report["splits"]["train"] > 0

    evaluated = runner.invoke(main, ["eval", str(run)])
    assert evaluated.exit_code == 0, evaluated.output
    assert (run / "eval" / eval_file).stat().st_size > 0
    results = json.loads((run / "eval" / "results.json").read_text())
    assert results["recipe"] == name and results[section]
    held_out = results.get("held_out_reward") or results["held_out_loss"]  # GRPO measures a reward
    assert held_out["after"] is not None or data_report["splits"].get("val", 0) == 0

    # --no-eval: a random tiny model's label margins are near zero, so the shipped export.max_task_drop gate
    # would measure noise here; tests/integration/test_artifact_eval.py tests the gate itself.
    exported = runner.invoke(main, ["export", str(run), "--format", "gguf", "--quant", "f16", "--no-eval"])
    assert exported.exit_code == 0, exported.output
    gguf = run / "export" / f"{name}.F16.gguf"
    llm = load_llama(gguf, n_ctx=64, verbose=False)
    assert llm.n_vocab() == len(tokenizer)
    text = "Hello, how are you today?"
    assert llm.tokenize(text.encode(), add_bos=False, special=False) == tokenizer.encode(text, add_special_tokens=False)
    assert llm("Hello", max_tokens=3, temperature=0)["usage"]["completion_tokens"] >= 1
