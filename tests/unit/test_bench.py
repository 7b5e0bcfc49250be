"""The benchmark harness runs end to end on a CPU (smoke shape) and writes JSON + Markdown with a
positive number for every configuration. Nothing here asserts anything about speed."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tuneforge.bench.cli import bench


def run_bench(args: list[str]) -> str:
    result = CliRunner().invoke(bench, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_train_smoke_both_paths(tmp_path):
    output = run_bench(["train", "--shape", "smoke", "--seq", "64", "--steps", "2", "--packing", "off",
                        "--output", str(tmp_path)])
    results = json.loads((tmp_path / "train.json").read_text())["results"]
    assert [r["path"] for r in results] == ["tuneforge", "baseline"]
    for r in results:
        assert "error" not in r, r
        assert r["tokens_per_s"] > 0 and r["step_s"] > 0 and r["peak_memory_gib"] > 0 and r["params"] > 0
    assert results[0]["unsloth_loaded"] and not results[1]["unsloth_loaded"]  # each in its own process
    assert (tmp_path / "train.md").read_text().count("| smoke | 64 |") == 2
    assert "non-padding tok/s" in output


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
    from tuneforge.bench.train import SHAPES, peak_tflops

    assert peak_tflops("NVIDIA H100 80GB HBM3") == 989.4 and peak_tflops("NVIDIA H100 PCIe") == 756.0
    assert peak_tflops("NVIDIA H200") == 989.4 and peak_tflops("NVIDIA L4") == 121.0
    assert peak_tflops("cpu") is None
    assert SHAPES["qwen3-1.7b"]["hidden_size"] == 2048 and SHAPES["qwen3-0.6b"]["vocab_size"] == 151936
