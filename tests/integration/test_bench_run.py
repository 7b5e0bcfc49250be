"""The training benchmark runs end to end on a CPU (smoke shape), for SFT and for DPO, and writes
JSON + Markdown with a positive number for both paths. Nothing here asserts anything about speed.
The data benchmarks and the training benchmark's pure parts: tests/unit/test_bench.py."""

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


def test_train_smoke_dpo_both_paths(tmp_path):
    output = run_bench(
        ["train", "--method", "dpo", "--shape", "smoke", "--seq", "64", "--steps", "2", "--output", str(tmp_path)]
    )
    payload = json.loads((tmp_path / "train-dpo.json").read_text())
    results = payload["results"]
    assert payload["method"] == "dpo"
    assert [(r["path"], r["method"], r["packing"]) for r in results] == [
        ("tuneforge", "dpo", False),
        ("baseline", "dpo", False),
    ]
    for r in results:
        assert "error" not in r, r
        assert r["tokens_per_s"] > 0 and r["step_s"] > 0 and r["peak_memory_gib"] > 0 and r["params"] > 0
        assert r["trainer_tokens_seen"] == r["trl_num_tokens"] > 0  # the Trainer's count is DPOTrainer's own
    tuneforge, baseline = results
    assert tuneforge["unsloth_loaded"] and not baseline["unsloth_loaded"]  # each in its own process
    # The same work on both sides: the same rows in the same order, against the same kind of reference.
    assert tuneforge["trainer_tokens_seen"] == baseline["trainer_tokens_seen"]
    assert tuneforge["reference"] == baseline["reference"]
    assert (tmp_path / "train-dpo.md").read_text().count("| smoke | 64 |") == 2
    assert "Method: dpo" in output and not (tmp_path / "train.json").exists()
