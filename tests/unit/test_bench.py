"""The data benchmarks run end to end on a CPU and write JSON + Markdown with a positive number for
every configuration; the peak-FLOPS table. Nothing here asserts anything about speed. The training
benchmark (it trains): tests/integration/test_bench_run.py."""

from __future__ import annotations

import json

from helpers import run_bench


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
