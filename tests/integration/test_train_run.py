"""Training on tiny random-weight llama and qwen3 models through the real Unsloth + TRL path."""

from __future__ import annotations

import json

import pytest

from helpers import tiny_recipe
from tuneforge.recipe.loading import load_recipe
from tuneforge.runs import MANIFEST, read_manifest

pytestmark = pytest.mark.integration


def test_adapter_changes_and_base_weights_do_not(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    import torch

    from tuneforge.models import resolve_model
    from tuneforge.train.finetune import assemble_trainer  # imports unsloth first

    recipe, _ = load_recipe(tiny_recipe(tmp_path, tiny_model_dir, max_steps=3))
    (tmp_path / "run").mkdir()
    trainer = assemble_trainer(recipe, resolve_model(recipe.model.base), tmp_path / "run", {})
    model = trainer.model
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    trainer.train()
    after = dict(model.named_parameters())
    base_names = [n for n in before if "lora_" not in n]
    lora_b = [n for n in before if "lora_B" in n]
    assert base_names and lora_b
    assert all(torch.equal(before[n], after[n].detach()) for n in base_names), "base weights moved"
    assert all(torch.count_nonzero(before[n]) == 0 for n in lora_b)  # LoRA B starts at zero ...
    assert all(torch.count_nonzero(after[n].detach()) > 0 for n in lora_b)  # ... and training moved it


def test_run_folder_is_complete_and_self_describing(tiny_llama_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    from tuneforge.train.finetune import train_recipe

    recipe, source = load_recipe(tiny_recipe(tmp_path, tiny_llama_dir))
    run_dir = train_recipe(recipe, source, tmp_path / "runs", resume="none")
    manifest = read_manifest(run_dir)
    assert manifest["status"] == "complete" and manifest["base_model"]["kind"] == "local"
    assert manifest["packages"]["unsloth"] == "2026.10.9" and manifest["data"]["files"]
    metrics = manifest["metrics"]
    assert metrics["global_step"] == 6 and metrics["tokens_per_second"] > 0
    assert metrics["held_out_loss_after"] < metrics["held_out_loss_before"]
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()
    assert (run_dir / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert load_recipe(run_dir / "recipe.resolved.yaml")[0] == recipe
    logged = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged if "loss" in r] == [1, 2, 3, 4, 5, 6]
    checkpoints = sorted(p.name for p in (run_dir / "checkpoints").glob("checkpoint-*"))
    assert checkpoints == ["checkpoint-3", "checkpoint-6"]


def test_same_seed_same_adapter(tiny_llama_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    from safetensors.torch import load_file

    from tuneforge.train.finetune import train_recipe

    recipe, source = load_recipe(tiny_recipe(tmp_path, tiny_llama_dir, max_steps=2, eval_steps=None))
    runs = [train_recipe(recipe, source, tmp_path / "runs", resume="none") for _ in range(2)]
    first, second = (load_file(run / "adapter" / "adapter_model.safetensors") for run in runs)
    assert first.keys() == second.keys()
    assert all((first[k] == second[k]).all() for k in first)


def test_wrong_target_module_is_a_clear_error(tiny_llama_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    from tuneforge.errors import UserError
    from tuneforge.train.finetune import train_recipe

    recipe, source = load_recipe(tiny_recipe(tmp_path, tiny_llama_dir), ["lora.target_modules=[q_proj,qkv]"])
    with pytest.raises(UserError, match=r"\['qkv'\]"):
        train_recipe(recipe, source, tmp_path / "runs", resume="none")
    (run_dir,) = (tmp_path / "runs" / "tiny").iterdir()
    assert json.loads((run_dir / MANIFEST).read_text())["status"] == "failed"


def test_packing_is_applied_on_gpu_and_reported_when_refused(tiny_llama_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    import torch

    from tuneforge.train.finetune import train_recipe

    recipe, source = load_recipe(tiny_recipe(tmp_path, tiny_llama_dir, max_steps=2), ["data.packing=true"])
    run_dir = train_recipe(recipe, source, tmp_path / "runs", resume="none")
    manifest = read_manifest(run_dir)
    assert manifest["status"] == "complete"
    # Unsloth packs only where FlashAttention keeps packed samples apart; on a CPU it refuses,
    # and the run must say so rather than claim packing it did not do.
    assert manifest["effective"]["packing"] is torch.cuda.is_available()
