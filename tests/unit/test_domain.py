"""The domain recipe: Alpaca data with its quality filter, ROUGE-L and BLEU against hand-computed
cases, and the LLM judge's retry and failure counting. `tuneforge eval --judge-url` end to end on a
tiny trained run: tests/integration/test_domain_run.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import GOOD_VERDICT as GOOD
from helpers import FakeJudgeServer
from tuneforge.cli import main
from tuneforge.errors import UserError
from tuneforge.eval.judge import CRITERIA, Judge, JudgeScore, judge_api_key, parse_verdict, response_format, summarize
from tuneforge.eval.metrics import CJKTokenizer, bleu_tokenizer, corpus_bleu, rouge_l, sentence_bleu
from tuneforge.recipe.loading import load_recipe

DOMAIN = Path(__file__).resolve().parents[2] / "recipes" / "domain"


# ---------------------------------------------------------------- data


def test_shipped_data_is_what_make_data_writes():
    import importlib.util
    import random

    spec = importlib.util.spec_from_file_location("domain_make_data", DOMAIN / "make_data.py")
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    rows = make_data.build(random.Random(11))
    committed = (DOMAIN / "data" / "advisor.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in committed] == rows
    good = [len(row["output"]) for row in rows if row not in make_data.BAD_RECORDS]
    assert len(good) == 400 and min(good) >= 20 and max(good) <= 600


def test_alpaca_records_become_chat_and_the_filter_counts_bad_ones():
    from tuneforge.data.prepare import DataReport, filter_samples, read_conversations, split_samples

    recipe, _ = load_recipe("domain")
    report = DataReport()
    samples = read_conversations(recipe.data, report)
    first = samples[0].messages
    assert [m["role"] for m in first] == ["system", "user", "assistant"]
    assert first[0]["content"].startswith("You are a careful personal-finance advisor.")
    assert first[1]["content"] == "How much should I save for retirement?\n\nI am 35 and earn $128,000 a year."
    kept = filter_samples(samples, recipe.data, report)
    # make_data.py adds 3 empty (one only spaces), 3 under 20 characters and 2 over 1500 characters.
    assert dict(report.filtered) == {
        "empty_response": 3,
        "response_shorter_than_min_chars": 3,
        "response_longer_than_max_chars": 2,
    }
    splits = split_samples(kept, recipe.data)
    assert {name: len(part) for name, part in splits.items()} == {"test": 40, "val": 40, "train": 320}
    assert splits == split_samples(kept, recipe.data)  # seeded


def test_data_inspect_shows_the_filter_counts(tiny_llama_dir):
    result = CliRunner().invoke(
        main, ["data", "inspect", "domain", "-o", f"model.base={tiny_llama_dir}", "-o", "model.max_seq_length=384"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report["filtered"]["empty_response"] == 3 and report["kept"] == 400
    assert report["splits"] == {"test": 40, "val": 40, "train": 320}


def test_the_recipe_keeps_the_seed_hyperparameters():
    recipe, _ = load_recipe("domain")
    assert (recipe.model.base, recipe.model.max_seq_length) == ("Qwen/Qwen2.5-7B", 2048)
    assert (recipe.lora.r, recipe.lora.alpha, recipe.lora.dropout) == (16, 32, 0.05)
    assert len(recipe.lora.target_modules) == 7
    train = recipe.train
    assert (train.batch_size, train.grad_accum, train.lr, train.epochs, train.warmup_ratio, train.eval_steps) == (
        2,
        8,
        2e-4,
        3,
        0.1,
        100,
    )
    assert (recipe.data.filter.min_response_chars, recipe.data.filter.max_response_chars) == (20, 1500)
    assert (recipe.data.split.val, recipe.data.split.test) == (0.1, 0.1)
    assert recipe.eval.domain.judge is None
    with pytest.raises(UserError, match="eval.domain.judge.retries"):
        load_recipe("domain", ["eval.domain.judge.base_url=http://x/v1", "eval.domain.judge.retries=-1"])


# ---------------------------------------------------------------- reference metrics


def test_rouge_l_matches_a_hand_computed_lcs():
    # LCS("the cat on the mat", "the cat sat on the mat") = 5 tokens: P = 5/5, R = 5/6, F1 = 10/11.
    assert rouge_l(["the cat on the mat"], ["the cat sat on the mat"]) == [pytest.approx(10 / 11)]
    # Chinese: one token per character. LCS = 6 of 6 and 7 characters: F1 = 2 * 1 * 6/7 / (1 + 6/7) = 12/13.
    assert rouge_l(["我喜欢吃苹果"], ["我很喜欢吃苹果"]) == [pytest.approx(12 / 13)]
    assert rouge_l(["totally different"], ["the cat"]) == [0.0]


def test_the_cjk_tokenizer_splits_characters_and_keeps_words():
    from rouge_score.rouge_scorer import RougeScorer

    assert CJKTokenizer().tokenize("Save $500 每月, OK?") == ["save", "500", "每", "月", "ok"]
    # rouge-score's own tokenizer keeps only [a-z0-9]: Chinese would score 0 against itself.
    assert RougeScorer(["rougeL"]).score("我喜欢", "我喜欢")["rougeL"].fmeasure == 0.0


def test_bleu_matches_hand_computed_ngram_counts():
    # hyp "the cat sat on a mat" (6 tokens) vs ref "the cat sat on the mat today" (7 tokens):
    # clipped matches 5/6, 3/5, 2/4, 1/3; brevity penalty exp(1 - 7/6).
    result = corpus_bleu(["the cat sat on a mat"], ["the cat sat on the mat today"], "13a")
    expected = 100 * math.exp(1 - 7 / 6) * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    assert result["score"] == pytest.approx(expected, abs=1e-6)
    assert result["precisions"] == pytest.approx([500 / 6, 60, 50, 100 / 3])
    assert (result["hypothesis_length"], result["reference_length"]) == (6, 7)
    assert result["brevity_penalty"] == pytest.approx(math.exp(1 - 7 / 6))


def test_bleu_on_chinese_uses_character_tokens():
    references = ["我很喜欢吃苹果"]
    tokenize = bleu_tokenizer("auto", references)
    assert tokenize == "zh" and bleu_tokenizer("auto", ["plain English"]) == "13a"
    # 6 vs 7 characters: matches 6/6, 4/5, 3/4, 2/3.
    result = corpus_bleu(["我喜欢吃苹果"], references, tokenize)
    assert result["score"] == pytest.approx(100 * math.exp(1 - 7 / 6) * (1 * 4 / 5 * 3 / 4 * 2 / 3) ** 0.25, abs=1e-6)
    assert sentence_bleu(["我很喜欢吃苹果"], references, tokenize) == [pytest.approx(100.0)]


# ---------------------------------------------------------------- the judge


def judge_for(server: FakeJudgeServer, **config) -> Judge:
    import openai

    from tuneforge.serve.client import Endpoint
    from tuneforge.tasks.domain.schema import DomainJudge

    settings = DomainJudge(base_url=server.url, **config)
    client = openai.OpenAI(base_url=server.url, api_key="none", max_retries=0)
    return Judge(Endpoint(client, "fake-judge"), settings, served_here=False)


def test_verdicts_are_validated_by_the_pydantic_model():
    fenced = "Here you go:\n```json\n" + json.dumps(GOOD) + "\n```"
    assert parse_verdict(fenced) == JudgeScore(**GOOD)
    assert parse_verdict(json.dumps({**GOOD, "note": "extra keys are ignored"})).overall == 4
    for bad, problem in [
        ("The answer is good.", "no JSON object"),
        ('{"reasoning": "x", "accuracy": 4', "no JSON object"),
        (json.dumps({**GOOD, "fluency": 6}), "fluency"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "overall"}), "overall"),
    ]:
        with pytest.raises(ValueError, match=problem):
            parse_verdict(bad)


def test_an_invalid_reply_is_retried_with_a_correction_and_then_scored():
    with FakeJudgeServer(["Sounds great to me!", json.dumps(GOOD)]) as server:
        verdict = judge_for(server, retries=2).score("How much?", "Save $100.", "Save $90.")
    assert verdict.score == JudgeScore(**GOOD) and verdict.attempts == 2
    assert "no JSON object" in verdict.errors[0]
    first, second = server.requests
    assert first["temperature"] == 0 and first["response_format"] == {"type": "json_object"}
    assert "Save $90." in first["messages"][1]["content"] and "Save $100." in first["messages"][1]["content"]
    assert second["messages"][2] == {"role": "assistant", "content": "Sounds great to me!"}
    assert "not a valid score object" in second["messages"][3]["content"]


def test_a_judge_that_never_answers_in_json_is_counted_not_raised():
    replies = ["nope", json.dumps({**GOOD, "accuracy": 9}), "still no", json.dumps(GOOD), 500]
    with FakeJudgeServer(replies) as server:
        judge = judge_for(server, retries=2, response_format="text")
        verdicts = [judge.score(f"q{i}", "ref", "answer") for i in range(3)]
    assert [v.attempts for v in verdicts] == [3, 1, 1]  # 3 invalid replies, then one valid, then an HTTP 500
    assert verdicts[0].score is None and len(verdicts[0].errors) == 3
    assert verdicts[2].score is None and "InternalServerError" in verdicts[2].errors[0]
    assert "response_format" not in server.requests[0]
    summary = summarize(verdicts)
    assert (summary["items"], summary["scored"], summary["failures"]) == (3, 1, 2)
    assert summary["means"] == {name: GOOD[name] for name in CRITERIA}
    assert [f["item"] for f in summary["failure_details"]] == [0, 2]


def test_a_missing_api_key_variable_is_a_user_error(monkeypatch):
    from tuneforge.tasks.domain.schema import DomainJudge

    monkeypatch.delenv("TF_TEST_JUDGE_KEY", raising=False)
    config = DomainJudge(base_url="http://127.0.0.1:9/v1", api_key_env="TF_TEST_JUDGE_KEY")
    with pytest.raises(UserError, match="TF_TEST_JUDGE_KEY"):
        judge_api_key(config)
    monkeypatch.setenv("TF_TEST_JUDGE_KEY", "secret")
    assert judge_api_key(config) == "secret"


def test_the_schema_constrains_scores_to_one_to_five():
    schema = response_format("auto", served_here=True)["schema"]
    assert schema["properties"]["overall"]["enum"] == [1, 2, 3, 4, 5]
    assert schema["properties"]["reasoning"]["maxLength"] > 0
    assert list(schema["properties"]) == ["reasoning", *CRITERIA]
    assert response_format("json_schema", served_here=False)["json_schema"]["schema"] == schema
