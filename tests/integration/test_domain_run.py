"""`tuneforge eval` on a tiny domain run: reference metrics without a judge, a scripted judge through
--judge-url, an unreachable judge refused before generating, and ROUGE-L of a served GGUF. The data, metrics and judge
pieces: tests/unit/test_domain.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import FakeJudgeServer, assert_served_like_the_adapter, write_recipe
from tuneforge.cli import main
from tuneforge.recipe.loading import load_recipe

pytestmark = pytest.mark.integration
DOMAIN = Path(__file__).resolve().parents[2] / "recipes" / "domain"


@pytest.fixture(scope="module")
def domain_run(tiny_llama_dir, tmp_path_factory):
    from tuneforge.train.finetune import train_recipe

    tmp = tmp_path_factory.mktemp("domain")
    records = (DOMAIN / "data" / "advisor.jsonl").read_text(encoding="utf-8").splitlines()[:60]
    (tmp / "advisor.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    body = {
        "name": "tinydomain",
        "model": {"base": str(tiny_llama_dir), "max_seq_length": 256},
        "lora": {"r": 8, "alpha": 16},
        "data": {
            "format": "alpaca",
            "train": "advisor.jsonl",
            "system_prompt": "You are a finance advisor.",
            "filter": {"min_response_chars": 20, "max_response_chars": 1500},
            "split": {"val": 0.1, "test": 0.1},
        },
        "train": {
            "max_steps": 2,
            "batch_size": 4,
            "grad_accum": 1,
            "lr": 5e-3,
            "eval_steps": None,
            "save_steps": 2,
            "warmup_ratio": 0.0,
        },
        "eval": {"domain": {"max_new_tokens": 8, "batch_size": 6}},
    }
    recipe, source = load_recipe(write_recipe(tmp / "tinydomain.yaml", body))
    return train_recipe(recipe, source, tmp / "runs", resume="none")


def test_eval_without_a_judge_writes_reference_metrics_and_notes_the_skip(domain_run, caplog):
    result = CliRunner().invoke(main, ["eval", str(domain_run)])
    assert result.exit_code == 0, result.output
    saved = json.loads((domain_run / "eval" / "evaluation_results.json").read_text())
    assert saved["test_items"] == 6 and len(saved["items"]) == 6
    assert set(saved["reference_metrics"]) == {"base", "tuned"}
    assert 0 <= saved["reference_metrics"]["tuned"]["rouge_l"] <= 1
    assert saved["judge"]["skipped"].startswith("no judge configured")
    row = saved["items"][0]
    assert ".jsonl:" in row["source"] and row["reference"] and "judge" not in row["tuned"]
    assert saved["data_filter"]["loaded"] == 60
    report = (domain_run / "eval" / "report.md").read_text()
    assert "## Domain answers" in report and "No judge configured (set eval.domain.judge" in report
    assert (domain_run / "eval" / "domain.png").stat().st_size > 1000


def test_eval_with_judge_url_scores_both_models_and_counts_failures(domain_run):
    # Item 1's first reply is invalid and retried; every later reply is valid (the server's default).
    with FakeJudgeServer(["not json at all"]) as server:
        result = CliRunner().invoke(
            main, ["eval", str(domain_run), "--judge-url", server.url, "--judge-model", "fake-judge"]
        )
    assert result.exit_code == 0, result.output
    saved = json.loads((domain_run / "eval" / "evaluation_results.json").read_text())
    judged = saved["judge"]
    assert judged["model"] == "fake-judge" and judged["base_url"].startswith(server.url)
    assert (judged["base"]["scored"], judged["tuned"]["scored"], judged["base"]["retried"]) == (6, 6, 1)
    assert judged["tuned"]["means"]["overall"] == 4
    assert saved["items"][0]["base"]["judge"]["attempts"] == 2
    assert len(server.requests) == 13  # 6 base + 6 tuned + 1 retry
    assert server.requests[0]["model"] == "fake-judge"
    report = (domain_run / "eval" / "report.md").read_text()
    assert "### LLM judge (fake-judge" in report and "| overall | 4.00 | 4.00 |" in report


def test_an_unreachable_judge_fails_before_generating(domain_run):
    result = CliRunner().invoke(main, ["eval", str(domain_run), "--judge-url", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 2
    assert "cannot reach http://127.0.0.1:9/v1" in result.output


def test_rouge_of_a_served_f16_gguf_matches_the_adapter(domain_run):
    from tuneforge.evaluate.artifact import evaluate_artifacts
    from tuneforge.export.pipeline import export_run

    export_run(domain_run, ["merged", "gguf"], ["f16"])
    results = evaluate_artifacts(domain_run, ["adapter", "gguf:f16"])
    adapter, served = (results[name]["tasks"]["domain"] for name in ("adapter", "gguf:f16"))
    assert adapter["metric"] == "rouge_l" and adapter["method"] == served["method"] == "greedy chat replies"
    assert 0 <= served["value"] <= 1 and served["bleu"] >= 0 and len(served["answers"]) == served["samples"] == 6
    assert all(isinstance(answer, str) for answer in served["answers"])
    assert_served_like_the_adapter(adapter, served, "answers")
    assert "| gguf:f16 | rouge_l" in (domain_run / "eval" / "artifacts" / "report.md").read_text()


def test_compare_pairs_every_question_and_recomputes_rouge_and_bleu(domain_run):
    from helpers import assert_compares_with_itself

    comparison = assert_compares_with_itself(domain_run)
    assert {"ROUGE-L F1", "BLEU"} <= {row["metric"] for row in comparison["metrics"] if row["task"] == "domain"}
    assert_compares_with_itself(domain_run, "adapter")
