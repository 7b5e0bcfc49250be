"""The training benchmark runs end to end on a CPU (smoke shape) and writes JSON + Markdown with a
positive number for both paths. Nothing here asserts anything about speed. The data benchmarks:
tests/unit/test_bench.py."""

from __future__ import annotations

import json

import pytest

from helpers import run_bench

pytestmark = pytest.mark.integration


def test_train_smoke_both_paths(tmp_path):
    output = run_bench(
        ["train", "--shape", "smoke", "--seq", "64", "--steps", "2", "--packing", "off", "--output", str(tmp_path)]
    )
    results = json.loads((tmp_path / "train.json").read_text())["results"]
    assert [r["path"] for r in results] == ["tuneforge", "baseline"]
    for r in results:
        assert "error" not in r, r
        assert r["tokens_per_s"] > 0 and r["step_s"] > 0 and r["peak_memory_gib"] > 0 and r["params"] > 0
    assert results[0]["unsloth_loaded"] and not results[1]["unsloth_loaded"]  # each in its own process
    assert (tmp_path / "train.md").read_text().count("| smoke | 64 |") == 2
    assert "non-padding tok/s" in output
