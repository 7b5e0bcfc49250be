"""The LLM judge against a real llama.cpp server: the embedded model's export, started by tuneforge's own
machinery (serve.client.connect on a run folder), asked through the official `openai` client.

The 135M model is a weak judge; what is tested is the path: the schema-constrained JSON mode keeps
its replies valid, they validate as JudgeScore, and the eval's summary adds up."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ITEMS = [
    (
        "How big should my emergency fund be? My monthly expenses are $2,000.",
        "Aim for three to six months of expenses: $6,000 to $12,000, in a savings account.",
        "Keep $6,000 to $12,000, three to six months of expenses, in a high-yield savings account.",
    ),
    (
        "What is dollar-cost averaging?",
        "Investing a fixed amount at regular intervals regardless of price.",
        "Bananas are yellow.",
    ),
]


def test_a_real_llamacpp_judge_returns_validated_scores(embedded_export):
    from tuneforge.eval.judge import JudgeScore, summarize
    from tuneforge.tasks.domain.evaluate import open_judge
    from tuneforge.tasks.domain.schema import DomainJudge

    config = DomainJudge(base_url=str(embedded_export.parent), max_tokens=200, judge_base=False)
    with open_judge(config, Path("runs")) as judge:
        assert judge.format["type"] == "json_object" and "schema" in judge.format  # auto → llamacpp_schema
        assert judge.model == "quickstart"
        verdicts = [judge.score(*item) for item in ITEMS]
    for verdict in verdicts:
        assert isinstance(verdict.score, JudgeScore), verdict.errors
        assert verdict.attempts == 1 and verdict.score.reasoning.strip()
    summary = summarize(verdicts)
    assert (summary["scored"], summary["failures"]) == (2, 0)
    assert all(1 <= value <= 5 for value in summary["means"].values())


def test_an_unconstrained_real_judge_is_scored_or_counted_never_raised(embedded_export):
    from tuneforge.eval.judge import summarize
    from tuneforge.tasks.domain.evaluate import open_judge
    from tuneforge.tasks.domain.schema import DomainJudge

    config = DomainJudge(base_url=str(embedded_export.parent), max_tokens=120, retries=1, response_format="text")
    with open_judge(config, Path("runs")) as judge:
        verdicts = [judge.score(*item) for item in ITEMS]
    summary = summarize(verdicts)
    assert summary["scored"] + summary["failures"] == len(ITEMS)
    assert all(v.attempts <= 2 and (v.score is not None or len(v.errors) == 2) for v in verdicts)


def test_the_judge_reward_scores_sampled_replies_through_the_same_judge(embedded_export):
    """train.grpo.rewards [{name: judge}]: the served run judges each reply against the row's reference;
    its overall score 1-5 becomes 0-1, and the server stops with the rewards' resources."""
    from contextlib import ExitStack

    from tuneforge.train.rewards.functions import build_rewards
    from tuneforge.train.rewards.schema import JudgeReward

    spec = JudgeReward(name="judge", base_url=str(embedded_export.parent), max_tokens=200)
    with ExitStack() as resources:
        (reward,), weights = build_rewards([spec], resources, Path("runs"))
        prompts = [[{"role": "user", "content": question}] for question, _, _ in ITEMS]
        completions = [[{"role": "assistant", "content": answer}] for _, _, answer in ITEMS]
        scores = reward(prompts=prompts, completions=completions, reference=[ref for _, ref, _ in ITEMS])
    assert reward.__name__ == "judge" and weights == [1.0]
    assert len(scores) == len(ITEMS) and all(score is not None and 0.0 <= score <= 1.0 for score in scores)
    assert all(score * 4 == int(score * 4) for score in scores)  # (overall - 1) / 4 for overall in 1..5
