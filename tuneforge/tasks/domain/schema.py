"""Recipe schema of the domain-assistant task: `eval.domain` and its LLM judge."""

from __future__ import annotations

from typing import Literal

from tuneforge.eval.judge import JudgeEndpoint
from tuneforge.recipe.schema import PositiveInt, Section


class DomainJudge(JudgeEndpoint):
    """An LLM judge behind any OpenAI-compatible API (or `tuneforge eval RUN --judge-url URL`)."""

    judge_base: bool = True
    """Also judge the base model's answers (twice the judge calls)."""


class DomainEval(Section):
    """Reference metrics (ROUGE-L, BLEU) on the test split, base vs tuned, and an optional LLM judge."""

    max_samples: PositiveInt | None = None
    """Test questions answered; None: all of them."""
    max_new_tokens: PositiveInt = 256
    """Longest answer generated."""
    batch_size: PositiveInt = 8
    """Questions answered together."""
    bleu_tokenize: Literal["auto", "13a", "zh", "intl", "char"] = "auto"
    """sacrebleu's tokenizer; auto: zh when the references hold CJK text, else 13a."""
    judge: DomainJudge | None = None
    """None: the judge is skipped (with a logged note)."""
