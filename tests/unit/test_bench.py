"""The data benchmarks run end to end on a CPU and write JSON + Markdown with a positive number for
every configuration; the peak-FLOPS table; the training benchmark's pure parts (DPO's pairs, packing
choice, FLOPs and table). Nothing here asserts anything about speed. The training benchmark (it
trains): tests/integration/test_bench_run.py."""

from __future__ import annotations

import json

import pytest

from helpers import run_bench
from tuneforge.errors import UserError


def test_data_bench(tmp_path):
    run_bench(["data", "--samples", "40", "--output", str(tmp_path)])
    payload = json.loads((tmp_path / "data.json").read_text())
    assert len(payload["results"]) == 3 and all(r["samples_per_s"] > 0 for r in payload["results"])
    assert payload["packages"] and payload["machine"]
    assert "vs raw encode" in (tmp_path / "data.md").read_text()


def test_data_bench_on_shipped_recipes(tmp_path):
    run_bench(["data", "--recipe", "quickstart,sentiment", "--output", str(tmp_path)])
    rows = json.loads((tmp_path / "data-recipes.json").read_text())["results"]
    assert [(r["recipe"], r["format"]) for r in rows] == [("quickstart", "sharegpt"), ("sentiment", "classification")]
    assert rows[1]["samples"] == 640 and all(r["samples_per_s"] > 0 and 0 < r["kept"] <= r["samples"] for r in rows)


def test_peak_table_and_flops_shapes():
    from tuneforge.bench.train_inputs import SHAPES
    from tuneforge.bench.train_worker import peak_tflops

    assert peak_tflops("NVIDIA H100 80GB HBM3") == 989.4 and peak_tflops("NVIDIA H100 PCIe") == 756.0
    assert peak_tflops("NVIDIA H200") == 989.4 and peak_tflops("NVIDIA L4") == 121.0
    assert peak_tflops("cpu") is None
    assert SHAPES["qwen3-1.7b"]["hidden_size"] == 2048 and SHAPES["qwen3-0.6b"]["vocab_size"] == 151936


def test_dpo_pairs_differ_vary_in_length_and_read_as_preference_data(tmp_path):
    from tuneforge.bench.train_inputs import write_pairs
    from tuneforge.errors import ProblemCollector
    from tuneforge.tasks.preference.data import load_pairs, pair_rejection

    path = write_pairs(tmp_path / "pairs.jsonl", 40, 128)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == 40 and all(r["chosen"] != r["rejected"] for r in records)
    lengths = [len(r[side].split()) for r in records for side in ("chosen", "rejected")]
    assert min(lengths) >= 128 // 16 and max(lengths) <= int(128 * 0.6) and max(lengths) > 2 * min(lengths)
    problems = ProblemCollector("pairs")
    samples = load_pairs(path, None, problems)
    assert not problems.problems and len(samples) == 40 and not any(map(pair_rejection, samples))
    assert write_pairs(tmp_path / "again.jsonl", 40, 128).read_text() == path.read_text()  # seeded


def test_dpo_bench_recipe_is_a_dpo_recipe(tmp_path):
    from tuneforge.bench.train_inputs import DPO_BETA, Config, bench_recipe, write_pairs

    data = write_pairs(tmp_path / "pairs.jsonl", 16, 64)
    recipe = bench_recipe(Config("tuneforge", "smoke", 64, False, 2, 1, method="dpo"), tmp_path, data)
    assert (recipe.train.method, recipe.data.format, recipe.train.dpo.beta) == ("dpo", "preference", DPO_BETA)
    assert recipe.model.max_seq_length == 64 and not recipe.data.packing
    assert bench_recipe(Config("tuneforge", "smoke", 64, True, 2, 1), tmp_path, data).train.method == "sft"


def test_packing_defaults_per_method_and_dpo_refuses_packing():
    from tuneforge.bench.cli import packing_list

    assert packing_list(None, "sft") == [False, True] and packing_list(None, "dpo") == [False]
    assert packing_list("on", "sft") == [True] and packing_list("off", "dpo") == [False]
    with pytest.raises(UserError, match="packing does not apply to --method dpo"):
        packing_list("off,on", "dpo")
    with pytest.raises(UserError, match="expected a comma list"):
        packing_list("yes", "sft")


def test_dpo_counts_the_reference_forward_in_model_flops():
    from tuneforge.bench.train_worker import model_flops_per_token

    shape = {"params": 1000, "num_hidden_layers": 2, "num_attention_heads": 4, "head_dim": 8}
    sft = model_flops_per_token(shape, 16, "sft")
    assert sft == 6 * 1000 + 12 * 2 * 4 * 8 * 16
    assert model_flops_per_token(shape, 16, "dpo") == 8 * 1000 + 16 * 2 * 4 * 8 * 16 == sft * 4 // 3


def test_train_table_names_its_method():
    from tuneforge.bench.train import markdown

    row = {
        "shape": "smoke",
        "seq": 64,
        "packing": False,
        "packing_effective": False,
        "step_s": 1.0,
        "tokens_per_s": 100.0,
        "peak_memory_gib": 1.0,
        "model_tflops": 0.1,
        "mfu": None,
        "device": "cpu",
        "memory_kind": "peak RSS",
    }
    rows = [{**row, "path": "tuneforge", "method": "dpo"}, {**row, "path": "baseline", "method": "dpo"}]
    table = markdown(rows)
    assert "Method: dpo (TRL DPOTrainer" in table and "batch 2 pairs × accumulation 4" in table
    assert "| tuneforge | 1.0 | 100.0 |" in table and "| 1.00× | 1.00× |" in table
    assert "Method: sft (TRL SFTTrainer" in markdown([{**r, "method": "sft"} for r in rows])
