"""LLM-as-judge over any OpenAI-compatible API: its recipe section (`JudgeEndpoint`, which the domain
task's `eval.domain.judge` and GRPO's judge reward build on) and its client (`Judge`).

For each item the judge sees the question, the reference answer and the answer to grade,
and replies with JSON that `JudgeScore` validates: accuracy, completeness, fluency,
professionalism and overall from 1 to 5, plus its reasoning. A reply that is not valid score
JSON is answered with a correction turn and retried (`retries` times); after that the item is
counted as a failure with the reasons, never raised. So are transport errors that outlast the
openai client's own retries. Only a refused key or an unknown model stops the evaluation.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tuneforge.errors import UserError
from tuneforge.recipe.schema import PositiveInt, Section

log = logging.getLogger(__name__)
CRITERIA = ("accuracy", "completeness", "fluency", "professionalism", "overall")
REASONING_MAX_CHARS = 400  # bounds the judge's reasoning under a grammar; validation does not cut longer ones
Score = Literal[1, 2, 3, 4, 5]

JUDGE_SYSTEM = (
    "You are a strict and fair reviewer of answers written by a domain assistant. "
    "You compare an answer with a reference answer and reply with JSON only."
)
JUDGE_TASK = """Question:
{question}

Reference answer:
{reference}

Answer to evaluate:
{answer}

Score the answer from 1 (poor) to 5 (excellent) on each criterion:
- accuracy: facts, numbers and advice agree with the reference;
- completeness: it covers the reference's main points;
- fluency: clear, well-formed language;
- professionalism: the care and tone of an expert advisor;
- overall: your overall judgement.
Reply with only this JSON object, integer scores:
{{"reasoning": "<one or two sentences>", "accuracy": n, "completeness": n, "fluency": n, "professionalism": n, "overall": n}}"""
CORRECTION = (
    "Your reply was not a valid score object ({error}). Reply again with only the JSON object: "
    'a "reasoning" string and integer scores from 1 to 5 for accuracy, completeness, fluency, '
    "professionalism and overall."
)


class JudgeEndpoint(Section):
    """An LLM judge behind any OpenAI-compatible API, replying with validated score JSON."""

    base_url: str = Field(min_length=1)
    """http(s)://host:port/v1, or a run/export folder (or recipe name) that llama.cpp serves for the purpose."""
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


class JudgeScore(BaseModel):
    """One verdict. Extra keys are ignored; a missing key or a score outside 1-5 is invalid."""

    model_config = ConfigDict(extra="ignore")

    reasoning: str = Field(min_length=1, json_schema_extra={"maxLength": REASONING_MAX_CHARS})
    accuracy: Score
    completeness: Score
    fluency: Score
    professionalism: Score
    overall: Score


@dataclass
class Verdict:
    """The judge's score for one answer, or why there is none (after every attempt)."""

    score: JudgeScore | None
    attempts: int
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "score": self.score.model_dump() if self.score else None,
            "attempts": self.attempts,
            "errors": self.errors,
        }


def parse_verdict(text: str | None) -> JudgeScore:
    """The score object in a reply; tolerates a Markdown code fence or words around the object."""
    if not text or "{" not in text or "}" not in text:
        raise ValueError("no JSON object in the reply")
    candidate = text[text.index("{") : text.rindex("}") + 1]
    try:
        return JudgeScore.model_validate_json(candidate)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg']}" for e in exc.errors()[:3])
        raise ValueError(problems) from None


def response_format(mode: str, served_here: bool) -> dict | None:
    """The `response_format` request field for a judge mode (see JudgeEndpoint.response_format)."""
    if mode == "auto":
        mode = "llamacpp_schema" if served_here else "json_object"
    schema = JudgeScore.model_json_schema()
    return {
        "json_schema": {"type": "json_schema", "json_schema": {"name": "judge_score", "schema": schema}},
        "json_object": {"type": "json_object"},
        # llama-cpp-python's server turns this schema into a grammar, so even a small model replies in shape
        "llamacpp_schema": {"type": "json_object", "schema": schema},
        "text": None,
    }[mode]


def judge_api_key(config, where: str = "eval.domain.judge") -> str | None:
    if config.api_key_env is None:
        return None
    key = os.environ.get(config.api_key_env)
    if not key:
        raise UserError(
            f"{where}.api_key_env names {config.api_key_env!r}, which is not set",
            fix=f"export {config.api_key_env}=<key>, or remove api_key_env for a judge without a key",
        )
    return key


class Judge:
    """Scores answers with one endpoint (serve.client.Endpoint) and one JudgeEndpoint config."""

    def __init__(self, endpoint, config, served_here: bool):
        self.client = endpoint.client.with_options(timeout=config.timeout_s)
        self.model = endpoint.model
        self.config = config
        self.format = response_format(config.response_format, served_here)

    def score(self, question: str, reference: str, answer: str) -> Verdict:
        messages = [
            {"role": "system", "content": JUDGE_SYSTEM},
            {
                "role": "user",
                "content": JUDGE_TASK.format(question=question, reference=reference, answer=answer or "(no answer)"),
            },
        ]
        errors = []
        for attempt in range(1, self.config.retries + 2):
            try:
                reply = self._ask(messages)
            except TransientJudgeError as exc:
                errors.append(f"attempt {attempt}: {exc}")
                return Verdict(None, attempt, errors)
            try:
                return Verdict(parse_verdict(reply), attempt, errors)
            except ValueError as exc:
                errors.append(f"attempt {attempt}: {exc}")
                # A deterministic judge repeats itself on the same prompt; the correction turn changes it.
                messages = messages[:2] + [
                    {"role": "assistant", "content": reply or ""},
                    {"role": "user", "content": CORRECTION.format(error=exc)},
                ]
        log.warning("judge reply invalid after %d attempts: %s", len(errors), errors[-1])
        return Verdict(None, len(errors), errors)

    def _ask(self, messages: list[dict]) -> str | None:
        import openai

        extra = {"response_format": self.format} if self.format else {}
        try:
            reply = self.client.chat.completions.create(
                model=self.model, messages=messages, temperature=0, max_tokens=self.config.max_tokens, **extra
            )
        except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
            raise UserError(
                f"the judge at {self.client.base_url} refused the request: {exc}",
                fix="check eval.domain.judge.model / --judge-model and api_key_env",
            ) from None
        except openai.APIError as exc:  # timeouts, 5xx, a prompt too long for the judge: this item fails
            raise TransientJudgeError(f"{type(exc).__name__}: {exc}") from None
        return reply.choices[0].message.content if reply.choices else None


class TransientJudgeError(Exception):
    """A request that failed after the client's own retries; the item counts as a judge failure."""


def summarize(verdicts: list[Verdict]) -> dict:
    """Mean of every criterion over the scored items, and how many failed."""
    scored = [v.score for v in verdicts if v.score is not None]
    means = {name: (sum(getattr(s, name) for s in scored) / len(scored) if scored else None) for name in CRITERIA}
    failures = [{"item": index, "errors": v.errors} for index, v in enumerate(verdicts) if v.score is None]
    return {
        "items": len(verdicts),
        "scored": len(scored),
        "failures": len(failures),
        "means": means,
        "retried": sum(v.attempts > 1 for v in verdicts),
        "failure_details": failures,
    }


def score_all(judge: Judge, items: list[tuple[str, str, str]]) -> list[Verdict]:
    """Judge (question, reference, answer) triples in order, with a progress bar."""
    from tqdm.auto import tqdm

    return [judge.score(*item) for item in tqdm(items, desc="judging", unit="answer")]


def describe_format(fmt: dict | None) -> str:
    return json.dumps({"type": fmt["type"], **({"schema": "JudgeScore"} if len(fmt) > 1 else {})}) if fmt else "text"
