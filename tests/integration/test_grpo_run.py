"""train.method: grpo, for real. On the embedded SmolLM2, a trivially learnable reward (the reply
starts with "Ahoy", which the model does about one time in five when told to) rises within ten
steps; each reward's mean and spread are logged per step; the run evaluates and merges like an SFT
run. On a tiny model, any task's data feeds GRPO as prompts (its replies as the references) and an
SFT run's adapter continues. The rewards and recipe errors without training: tests/unit/test_grpo.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from helpers import full_precision_recipe, tiny_recipe, write_jsonl
from tuneforge.errors import UserError
from tuneforge.files import sha256_path
from tuneforge.recipe.loading import load_recipe
from tuneforge.runs import read_manifest

pytestmark = pytest.mark.integration
ASKS = ["Say hello to me.", "Greet the crew.", "Welcome me aboard.", "Say good morning.", "Greet my friend Sam.",
        "Say hi to the captain.", "Give me a greeting.", "Welcome the new sailor."]  # fmt: skip
# A reward of the user's own, logged beside the built-in one (weight 0: it does not steer the training).
WORD_COUNT = "def words(completions, prompts, **fields):\n    return [len(c.split()) for c in completions]\n"


def train(recipe_path: Path, runs: Path, *overrides: str) -> Path:
    from tuneforge.train.finetune import train_recipe

    recipe, source = load_recipe(recipe_path, list(overrides))
    return train_recipe(recipe, source, runs, resume="none")


def ahoy_recipe(tmp_path: Path, model_dir: Path, seed: int = 3407) -> Path:
    """64 greeting prompts; 10 steps of 2 prompts x 4 replies of 4 tokens, the held-out reward on 8 prompts.
    Found by trial on this CPU (BENCHMARKS.md, "GRPO on this CPU"): with seed 1 the held-out reward
    went 0.09 -> 1.00, with this seed (3407) it passed every run, and a first draft of these prompts
    went 0.22 -> 0.97; the test asks for +0.25."""
    prompts = [{"prompt": f"{ASKS[n % len(ASKS)]} ({n})"} for n in range(64)]
    data = write_jsonl(tmp_path / "greetings.jsonl", prompts)
    (tmp_path / "mine.py").write_text(WORD_COUNT)
    data_section = {
        "format": "prompts",
        "train": data.name,
        "system_prompt": "You are a pirate. Always start your reply with Ahoy.",
        "split": {"val": 0.125},
    }
    rewards = [
        {"name": "format", "pattern": r"(?i)^\W*ahoy"},
        {"name": "custom", "function": "mine.py:words", "weight": 0.0},
    ]
    grpo = {"num_generations": 4, "max_completion_length": 4, "eval_prompts": 8, "rewards": rewards}
    schedule = {"method": "grpo", "max_steps": 10, "batch_size": 8, "grad_accum": 1, "lr": 1e-3, "seed": seed}
    return full_precision_recipe(
        tmp_path, "ahoy", model_dir, data_section, {**schedule, "save_steps": 10, "grpo": grpo}
    )


def test_grpo_raises_a_learnable_reward_and_logs_each_reward(embedded_dir, tmp_path):
    base_files = sha256_path(embedded_dir)
    run_dir = train(ahoy_recipe(tmp_path, embedded_dir), tmp_path / "runs")
    manifest = read_manifest(run_dir)
    assert manifest["status"] == "complete" and manifest["effective"]["method"] == "grpo"
    metrics = manifest["metrics"]
    before, after = metrics["held_out_reward_before"], metrics["held_out_reward_after"]
    assert after >= before + 0.25, f"held-out reward {before:.3f} -> {after:.3f}"
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [record for record in records if "loss" in record]
    assert [record["step"] for record in steps] == list(range(1, 11))
    for key in ("rewards/format/mean", "rewards/format/std", "rewards/words/mean", "rewards/words/std"):
        assert all(key in record for record in steps), key
    assert all(0 < record["rewards/words/mean"] <= 4 for record in steps)  # 4 tokens: at most 4 words
    assert (run_dir / "loss.png").stat().st_size > 0
    assert sha256_path(embedded_dir) == base_files, "the base model's files are untouched"

    from click.testing import CliRunner

    from tuneforge.cli import main

    evaluated = CliRunner().invoke(main, ["eval", str(run_dir)])
    assert evaluated.exit_code == 0, evaluated.output
    results = json.loads((run_dir / "eval" / "results.json").read_text())
    assert results["held_out_reward"] == {"before": before, "after": after}
    assert "## Held-out reward" in (run_dir / "eval" / "report.md").read_text()


def test_a_task_recipe_trains_with_grpo_from_its_sft_run(tiny_llama_dir, tmp_path):
    """A chat dataset as GRPO prompts, its replies as chrF references, continuing an SFT run; merging
    the result gives base + the GRPO adapter."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from tuneforge.export.merge import merge_adapter

    sft = train(tiny_recipe(tmp_path / "sft", tiny_llama_dir, max_steps=2, eval_steps=None), tmp_path / "runs")
    grpo = {
        "num_generations": 2,
        "max_completion_length": 6,
        "rewards": [{"name": "chrf"}, {"name": "length", "max_chars": 40}],
    }
    schedule = {"method": "grpo", "max_steps": 2, "batch_size": 4, "grad_accum": 1, "save_steps": 2, "grpo": grpo}
    data = {"format": "sharegpt", "train": str(tmp_path / "sft" / "data.jsonl"), "split": {"val": 0.2}}
    recipe = full_precision_recipe(tmp_path, "chat-grpo", tiny_llama_dir, data, schedule)
    run_dir = train(recipe, tmp_path / "runs", f"model.adapter={sft}")
    manifest = read_manifest(run_dir)
    assert manifest["status"] == "complete" and manifest["parent"]["run"] == str(sft)
    assert manifest["metrics"]["global_step"] == 2 and manifest["metrics"]["held_out_reward_before"] is not None
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert all(0 <= record["rewards/chrf/mean"] <= 1 for record in records if "loss" in record)

    merged_dir = merge_adapter(run_dir, manifest, tmp_path / "merged", dtype="float32")
    tokens = torch.tensor([[1, 420, 1337, 77, 2048, 9]])
    merged = AutoModelForCausalLM.from_pretrained(str(merged_dir), dtype=torch.float32).eval()
    base = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir), dtype=torch.float32)
    tuned = PeftModel.from_pretrained(base, str(run_dir / "adapter")).eval()
    with torch.inference_mode():
        torch.testing.assert_close(merged(tokens).logits, tuned(tokens).logits, atol=1e-4, rtol=1e-4)

    with pytest.raises(
        UserError, match=r"train.grpo.rewards.0 \(label_match\): \d+ of \d+ prompts have no field .label."
    ):
        train(recipe, tmp_path / "runs", "train.grpo.rewards=[{name: label_match}]")
