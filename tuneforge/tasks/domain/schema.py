"""Recipe schema of the domain-assistant task: `eval.domain` and its LLM judge."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tuneforge.recipe import PositiveInt, Section


class DomainJudge(Section):
    """An LLM judge behind any OpenAI-compatible API (or `tuneforge eval RUN --judge-url URL`)."""

    base_url: str = Field(min_length=1)
    """http(s)://host:port/v1, or a run/export folder (or recipe name) that llama.cpp serves for the evaluation."""
    model: str | None = None
    """The judge's model name; None: the first model the endpoint lists."""
    api_key_env: str | None = None
    """Name of the environment variable that holds the judge's API key."""
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    """Extra attempts after a reply that is not valid score JSON."""
    response_format: Literal["auto", "json_schema", "json_object", "llamacpp_schema", "text"] = "auto"
    """auto: llamacpp_schema for a run/export folder, json_object for a URL; json_schema: OpenAI
    structured outputs (OpenAI, vLLM); text: no constraint."""
    max_tokens: PositiveInt = 384
    """Longest judge reply."""
    timeout_s: Annotated[float, Field(gt=0)] = 120.0
    """Seconds to wait for one judge reply."""
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
