"""A tiny style run trained and evaluated end to end with `eval.style`, and its metric measured on a
served GGUF. The style recipe's pieces:
tests/unit/test_style.py."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from helpers import assert_served_like_the_adapter, write_recipe
from tuneforge.recipe.loading import load_recipe

pytestmark = pytest.mark.integration
ARTICLES = Path(__file__).resolve().parents[2] / "recipes" / "style" / "data" / "articles"


@pytest.fixture(scope="module")
def style_run(tiny_llama_dir, tmp_path_factory):
    from tuneforge.train.finetune import train_recipe

    tmp_path = tmp_path_factory.mktemp("style")
    folder = tmp_path / "articles"
    for source in sorted(ARTICLES.iterdir())[:6]:
        shutil.copytree(source, folder / source.name)
    body = {
        "name": "tinystyle",
        "model": {"base": str(tiny_llama_dir), "max_seq_length": 256},
        "lora": {"r": 8, "alpha": 16},
        "data": {
            "format": "markdown",
            "train": "articles",
            "system_prompt": "Write like Tess.",
            "markdown": {"chunk_min_tokens": 40, "chunk_max_tokens": 100},
            "split": {"val": 0.3},
        },
        "train": {
            "max_steps": 6,
            "batch_size": 8,
            "grad_accum": 1,
            "lr": 2e-2,
            "eval_steps": None,
            "save_steps": 6,
            "warmup_ratio": 0.0,
        },
        "eval": {"style": {"max_samples": 4, "max_new_tokens": 12, "batch_size": 4}},
    }
    recipe, source = load_recipe(write_recipe(tmp_path / "tinystyle.yaml", body))
    return train_recipe(recipe, source, tmp_path / "runs", resume="none")


def test_tiny_style_run_trains_and_evaluates(style_run):
    from tuneforge.evaluate.run import evaluate_run

    run = style_run
    eval_dir = evaluate_run(run)
    results = json.loads((eval_dir / "results.json").read_text())["style"]
    ppl = results["perplexity"]
    assert math.isfinite(ppl["base"]["perplexity"]) and ppl["tuned"]["perplexity"] < ppl["base"]["perplexity"]
    assert ppl["base"]["tokens"] == ppl["tuned"]["tokens"] > 0 and results["prompts"] == 4
    assert set(results["distance"]) == {"reference", "base", "tuned"}
    assert all(math.isfinite(d["overall"]) for d in results["distance"].values())
    for name in ("style_indicators.json", "continuations.jsonl", "ab_sheet.csv", "ab_sheet.md", "ab_key.csv"):
        assert (eval_dir / name).stat().st_size > 0, name
    assert (eval_dir / "sentence_lengths.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    indicators = json.loads((eval_dir / "style_indicators.json").read_text())
    assert indicators["author"]["words"] > 2000 and indicators["reference"]["texts"] == 4
    assert "## Writing style" in (eval_dir / "report.md").read_text()
    data_report = json.loads((run / "data_report.json").read_text())
    assert data_report["splits"]["val"] > 0 and data_report["filtered"] == {}


def test_style_metric_of_a_served_f16_gguf(style_run):
    """The adapter in process gives the teacher-forced perplexity; llama.cpp's servers give no prompt
    logprobs, so a served GGUF is compared on the style distance of its greedy continuations."""
    from tuneforge.evaluate.artifact import evaluate_artifacts
    from tuneforge.export.pipeline import export_run

    export_run(style_run, ["merged", "gguf"], ["f16"])
    results = evaluate_artifacts(style_run, ["adapter", "gguf:f16"])
    adapter, served = (results[name]["tasks"]["style"] for name in ("adapter", "gguf:f16"))
    assert adapter["metric"] == "perplexity" and adapter["method"] == "teacher-forced logprobs"
    assert math.isfinite(adapter["value"]) and adapter["value"] > 1 and adapter["drop"] == 0
    assert served["perplexity"] is None and served["method"] == "greedy continuations (no prompt logprobs)"
    assert math.isfinite(served["style_distance"]) and len(served["continuations"]) == served["samples"] == 4
    assert_served_like_the_adapter(
        {**adapter, "metric": "style_distance", "value": adapter["style_distance"]}, served, "continuations"
    )


def test_compare_pairs_every_continuation_by_its_distance_from_the_author(style_run):
    from helpers import assert_compares_with_itself

    section = assert_compares_with_itself(style_run)["tasks"]["style"]
    assert section["items"]["b"] == 4 and section["higher_is_better"] is False
    assert_compares_with_itself(style_run, "adapter")
