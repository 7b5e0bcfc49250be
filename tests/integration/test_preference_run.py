"""train.method dpo, orpo and kto, for real, on a tiny model. DPO raises the chosen-minus-rejected
margin on its training pairs and changes only the adapter. An SFT run's adapter continues into DPO,
with the SFT model as the reference. ORPO and KTO train and save an adapter that export merges. The
reader and the recipe checks: tests/unit/test_preference.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from helpers import preference_recipe, tiny_recipe
from tuneforge.errors import UserError
from tuneforge.files import sha256_path
from tuneforge.recipe.loading import load_recipe
from tuneforge.runs import read_manifest

pytestmark = pytest.mark.integration


def train(recipe_path: Path, runs: Path, *overrides: str) -> Path:
    from tuneforge.train.finetune import train_recipe

    recipe, source = load_recipe(recipe_path, list(overrides))
    return train_recipe(recipe, source, runs, resume="none")


def margins(model_dir: Path, adapter: Path | None, pairs: list[dict]) -> list[float]:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneforge.tasks.preference.evaluate import margins as pair_margins

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32, use_safetensors=True)
    model = PeftModel.from_pretrained(model, str(adapter)) if adapter else model
    return pair_margins(model.eval(), tokenizer, pairs, use_adapter=True)


def test_reply_logprob_is_the_loss_of_the_reply_tokens(tiny_llama_dir):
    """The evaluation's scoring agrees with transformers' own loss on the reply's tokens."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneforge.tasks.preference.evaluate import reply_logprob

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_llama_dir))
    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir), dtype=torch.float32).eval()
    prompt, reply = [{"role": "user", "content": "Hi there"}], [{"role": "assistant", "content": "Ahoy, matey!"}]
    context = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True, return_dict=False)
    ids = torch.tensor([tokenizer.apply_chat_template(prompt + reply, tokenize=True, return_dict=False)])
    labels = ids.clone()
    labels[0, : len(context)] = -100
    with torch.inference_mode():
        loss = model(ids, labels=labels).loss.item()
    expected = -loss * (ids.shape[1] - len(context))
    assert reply_logprob(model, tokenizer, prompt, reply) == pytest.approx(expected, rel=1e-5)


def training_pairs(run_dir: Path) -> list[dict]:
    from tuneforge.data.rows import preference_rows
    from tuneforge.data.splits import read_split_file

    return preference_rows(read_split_file(run_dir / "data" / "train.jsonl"))


def test_dpo_raises_the_margin_and_changes_only_the_adapter(tiny_llama_dir, tmp_path):
    base_files = sha256_path(tiny_llama_dir)
    run_dir = train(preference_recipe(tmp_path, tiny_llama_dir), tmp_path / "runs")
    manifest = read_manifest(run_dir)
    assert manifest["status"] == "complete" and manifest["data"]["filtered"] == {"identical_pair": 1}
    pairs = training_pairs(run_dir)
    before, after = margins(tiny_llama_dir, None, pairs), margins(tiny_llama_dir, run_dir / "adapter", pairs)
    gain = [a - b for a, b in zip(after, before)]
    assert sum(gain) / len(gain) > 1.0, f"mean margin {sum(before) / len(before):.3f} -> {sum(after) / len(after):.3f}"
    assert sum(a > b for a, b in zip(after, before)) >= 0.9 * len(pairs)
    assert sha256_path(tiny_llama_dir) == base_files, "the base model's files are untouched"
    assert not (run_dir / "adapter" / "ref").exists(), "only the trained adapter is saved, not DPO's reference copy"
    metrics = manifest["metrics"]
    assert metrics["held_out_loss_after"] < metrics["held_out_loss_before"]  # DPO's loss on the held-out pairs
    assert metrics["input_tokens_this_session"] > 0 and metrics["tokens_per_second"] > 0

    from click.testing import CliRunner

    from tuneforge.cli import main

    evaluated = CliRunner().invoke(main, ["eval", str(run_dir)])
    assert evaluated.exit_code == 0, evaluated.output
    results = json.loads((run_dir / "eval" / "results.json").read_text())["preference"]
    assert results["pairs"] == manifest["data"]["splits"]["val"]  # no test split: the validation pairs
    # The untuned tiny model already ranks these chosen replies first (they are shorter, and a sum of
    # log-probabilities favours short replies), so the margin, not the accuracy, shows the training.
    assert results["tuned"]["accuracy"] >= results["base"]["accuracy"]
    assert results["tuned"]["mean_margin"] > results["base"]["mean_margin"] + 1.0
    assert (run_dir / "eval" / "preference_margins.png").stat().st_size > 0


def test_sft_then_dpo_continues_the_sft_adapter_against_the_sft_model(tiny_llama_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from tuneforge.export.merge import merge_adapter

    sft = train(tiny_recipe(tmp_path / "sft", tiny_llama_dir, max_steps=4, eval_steps=None, lr=5e-2), tmp_path / "runs")
    dpo = train(preference_recipe(tmp_path, tiny_llama_dir), tmp_path / "runs", f"model.adapter={sft}")
    parent = read_manifest(dpo)["parent"]
    assert parent["run"] == str(sft) and parent["adapter_sha256"] == sha256_path(
        sft / "adapter" / "adapter_model.safetensors"
    )
    records = [json.loads(line) for line in (dpo / "metrics.jsonl").read_text().splitlines()]
    first = next(record for record in records if "loss" in record)  # step 1's training log
    # Step 1's rewards are the policy's log-ratio to the reference: 0 when the reference is the SFT
    # model it starts from (against the bare base, the SFT adapter would already score nonzero).
    assert first["rewards/chosen"] == first["rewards/rejected"] == 0.0

    merged_dir = merge_adapter(dpo, read_manifest(dpo), tmp_path / "merged", dtype="float32")
    tokens = torch.tensor([[1, 420, 1337, 77, 2048, 9]])
    merged = AutoModelForCausalLM.from_pretrained(str(merged_dir), dtype=torch.float32).eval()
    with torch.inference_mode():
        actual = merged(tokens).logits
        for adapter, same in ((dpo, True), (sft, False)):
            base = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir), dtype=torch.float32)
            expected = PeftModel.from_pretrained(base, str(adapter / "adapter")).eval()(tokens).logits
            assert torch.allclose(actual, expected, atol=1e-4, rtol=1e-4) == same, adapter


def test_an_adapter_from_another_base_model_is_refused(tiny_llama_dir, tmp_path):
    other = tmp_path / "other-base"
    other.mkdir()
    for item in tiny_llama_dir.iterdir():  # the same files under another name: another model.base
        (other / item.name).symlink_to(item)
    sft = train(tiny_recipe(tmp_path / "sft", other, max_steps=1, eval_steps=None, save_steps=1), tmp_path / "runs")
    with pytest.raises(UserError, match=f"was trained on {other}"):
        train(preference_recipe(tmp_path, tiny_llama_dir), tmp_path / "runs", f"model.adapter={sft}")


@pytest.mark.parametrize(("method", "data_format"), [("orpo", "preference"), ("kto", "kto")])
def test_orpo_and_kto_train_and_save_a_usable_adapter(tiny_llama_dir, tmp_path, method, data_format):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from tuneforge.export.merge import merge_adapter

    recipe = preference_recipe(tmp_path, tiny_llama_dir, data_format, method=method, max_steps=2, save_steps=2)
    run_dir = train(recipe, tmp_path / "runs")
    manifest = read_manifest(run_dir)
    assert manifest["status"] == "complete" and manifest["metrics"]["global_step"] == 2
    tokens = torch.tensor([[1, 420, 1337, 77, 2048, 9]])
    base = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir), dtype=torch.float32).eval()
    merged_dir = merge_adapter(run_dir, manifest, tmp_path / "merged", dtype="float32")
    merged = AutoModelForCausalLM.from_pretrained(str(merged_dir), dtype=torch.float32).eval()
    with torch.inference_mode():
        untuned = base(tokens).logits
        tuned = PeftModel.from_pretrained(base, str(run_dir / "adapter")).eval()(tokens).logits
        torch.testing.assert_close(merged(tokens).logits, tuned, atol=1e-4, rtol=1e-4)
    assert not torch.allclose(tuned, untuned, atol=1e-5), f"{method} changed the model"
    if data_format == "kto":  # held-out marked replies: implicit reward tuned vs base, by mark
        from click.testing import CliRunner

        from tuneforge.cli import main

        evaluated = CliRunner().invoke(main, ["eval", str(run_dir)])
        assert evaluated.exit_code == 0, evaluated.output
        results = json.loads((run_dir / "eval" / "results.json").read_text())["preference"]
        assert (
            results["replies"] == manifest["data"]["splits"]["val"] == results["good_replies"] + results["bad_replies"]
        )
        rewards = json.loads((run_dir / "eval" / "preference_rewards.json").read_text())["rewards"]
        assert len(rewards) == results["replies"] and any(abs(reward) > 1e-4 for reward in rewards)
        assert 0.0 <= results["accuracy"] <= 1.0
