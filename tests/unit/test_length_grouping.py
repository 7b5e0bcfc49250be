"""data.group_by_length: transformers' length-grouped sampler for SFT, refused with packing and other methods."""

from __future__ import annotations

from click.testing import CliRunner

from helpers import sharegpt_records, write_jsonl, write_recipe
from tuneforge.cli import main
from tuneforge.recipe.loading import load_recipe


def grouped_recipe(tmp_path, **data):
    records = write_jsonl(tmp_path / "data.jsonl", sharegpt_records(8))
    body = {"name": "grouped", "data": {"format": "sharegpt", "train": records.name, **data}}
    return write_recipe(tmp_path / "grouped.yaml", body)


def test_sft_asks_transformers_for_length_grouped_batches(tmp_path):
    from tuneforge.train.engine import sft_config

    grouped, _ = load_recipe(grouped_recipe(tmp_path, group_by_length=True))
    assert sft_config(grouped, tmp_path / "checkpoints", has_val=False).train_sampling_strategy == "group_by_length"
    plain, _ = load_recipe(grouped_recipe(tmp_path))
    assert sft_config(plain, tmp_path / "checkpoints", has_val=False).train_sampling_strategy == "random"


def test_group_by_length_with_packing_is_a_recipe_error(tmp_path):
    recipe = grouped_recipe(tmp_path, group_by_length=True, packing=True)
    result = CliRunner().invoke(main, ["train", str(recipe), "--dry-run"])
    assert result.exit_code == 2 and "data.group_by_length: packed batches carry no padding" in result.output


def test_group_by_length_is_for_sft_only(tmp_path):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"prompt": "Hi", "chosen": "Ahoy!", "rejected": "Hello."}] * 4)
    body = {
        "name": "pairs",
        "data": {"format": "preference", "train": pairs.name, "group_by_length": True},
        "train": {"method": "dpo"},
    }
    result = CliRunner().invoke(main, ["train", str(write_recipe(tmp_path / "p.yaml", body)), "--dry-run"])
    assert result.exit_code == 2 and "data.group_by_length: only with train.method sft, not dpo" in result.output
