"""`train.grpo.rewards`: the recipe's rewards as TRL reward functions.

TRL calls each with the prompts, the sampled completions and every other column of the prompt rows
(prompts as message lists, completions as [{"role": "assistant", "content": ...}]); it logs each
function's mean and spread per step as rewards/<name>/mean and /std, and GRPO raises their weighted
sum. Here each reward sees the reply texts and the row fields it names:

- chrf, bleu: sacrebleu's sentence scores against a reference field (tuneforge.eval.metrics, the
  translation task's metrics), divided by 100;
- label_match: the reply is the label; format: a regular expression or phrases; length: a range;
- judge: an LLM judge's overall score (tuneforge.eval.judge: the Judge and its validated score JSON);
- custom: a user's file.py:function, imported when training starts (never when a recipe is validated).

A reward returns None for a reply it cannot score (a judge that failed); TRL leaves it out of means.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from tuneforge.data.rows import missing_fields
from tuneforge.errors import UserError
from tuneforge.eval.judge import Judge, judge_api_key
from tuneforge.eval.metrics import bleu_tokenizer, sentence_bleu, sentence_chrf
from tuneforge.serve.client import connect
from tuneforge.targets import is_url

log = logging.getLogger(__name__)
END_PUNCTUATION = ".!?。！？"
NEEDS_FIELD = ("chrf", "bleu", "label_match")  # rewards that cannot score without their row field
TRL_EXTRAS = {"trainer_state", "log_extra", "log_metric", "environments", "completion_ids"}  # not row fields


class RewardFunction:
    """One recipe reward in TRL's reward-function shape; `__name__` is what TRL logs it as."""

    def __init__(self, name: str, score):
        self.__name__ = name
        self.score = score  # score(replies, prompts, {field: values}) -> one float or None per reply

    def __call__(self, prompts, completions, **columns):
        replies = [reply_text(completion) for completion in completions]
        fields = {key: values for key, values in columns.items() if key not in TRL_EXTRAS}
        scores = self.score(replies, prompts, fields)
        if len(scores) != len(replies):
            raise ValueError(f"reward {self.__name__} returned {len(scores)} scores for {len(replies)} replies")
        return [None if value is None else float(value) for value in scores]


def reply_text(completion) -> str:
    """A conversational completion is a list of messages; a plain one is the text itself."""
    if isinstance(completion, str):
        return completion
    return "".join(message["content"] for message in completion)


def chrf(spec):
    def score(replies, prompts, fields):
        return [sentence_chrf(reply, ref) / 100 for reply, ref in zip(replies, fields[spec.field])]

    return score


def bleu(spec):
    def score(replies, prompts, fields):
        references = fields[spec.field]
        return [value / 100 for value in sentence_bleu(replies, references, bleu_tokenizer("auto", references))]

    return score


def normalized_label(text: str) -> str:
    return text.strip().rstrip(END_PUNCTUATION).strip().casefold()


def label_match(spec):
    def score(replies, prompts, fields):
        return [
            float(normalized_label(r) == normalized_label(str(label))) for r, label in zip(replies, fields[spec.field])
        ]

    return score


def format_match(spec):
    pattern = re.compile(spec.pattern) if spec.pattern is not None else None

    def matches(reply: str) -> bool:
        return bool(pattern.search(reply)) if pattern else any(phrase in reply for phrase in spec.phrases)

    return lambda replies, prompts, fields: [float(matches(reply)) for reply in replies]


def length_in_range(spec):
    def one(length: int) -> float:
        if length < spec.min_chars:
            return length / spec.min_chars
        return 1.0 if length <= spec.max_chars else spec.max_chars / length

    return lambda replies, prompts, fields: [one(len(reply.strip())) for reply in replies]


def judge(spec, resources: ExitStack, runs_dir: Path, where: str):
    """The judge is connected once, before training starts (a wrong URL fails fast), for the whole run."""
    endpoint = resources.enter_context(
        connect(spec.base_url, runs_dir=runs_dir, api_key=judge_api_key(spec, where), model=spec.model, max_retries=2)
    )
    log.info("reward judge: model %r at %s", endpoint.model, endpoint.client.base_url)
    grader = Judge(endpoint, spec, served_here=not is_url(spec.base_url))

    def score(replies, prompts, fields):
        references = fields.get(spec.field) or [None] * len(replies)  # the reference is optional here
        verdicts = [
            grader.score(last_user_turn(p), ref or "(none given)", r) for p, r, ref in zip(prompts, replies, references)
        ]
        return [(v.score.overall - 1) / 4 if v.score else None for v in verdicts]

    return score


def last_user_turn(prompt) -> str:
    if isinstance(prompt, str):
        return prompt
    return next(message["content"] for message in reversed(prompt) if message["role"] == "user")


def custom(spec, where: str):
    """Imports the user's file (this runs their code) and returns their function."""
    file, _, name = spec.function.rpartition(":")
    module_spec = importlib.util.spec_from_file_location(f"tuneforge_reward_{Path(file).stem}", file)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        raise UserError(f"{where}.function: importing {file} failed: {type(exc).__name__}: {exc}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise UserError(f"{where}.function: {file} has no function {name!r}")
    return lambda replies, prompts, fields: function(completions=replies, prompts=prompts, **fields)


# The built-ins that need nothing but their settings (judge and custom also need a connection or an import).
SCORERS = {"chrf": chrf, "bleu": bleu, "label_match": label_match, "format": format_match, "length": length_in_range}


def build_rewards(specs: list, resources: ExitStack, runs_dir: Path) -> tuple[list[RewardFunction], list[float]]:
    """The reward functions and their weights, in the recipe's order; two rewards of one kind are
    logged as name, name_2, ..."""
    functions, seen = [], Counter()
    for index, spec in enumerate(specs):
        where = f"train.grpo.rewards.{index}"
        if spec.name == "judge":
            score = judge(spec, resources, runs_dir, where)
        elif spec.name == "custom":
            score = custom(spec, where)
        else:
            score = SCORERS[spec.name](spec)
        base = logged_name(spec)
        seen[base] += 1
        functions.append(RewardFunction(base if seen[base] == 1 else f"{base}_{seen[base]}", score))
    return functions, [spec.weight for spec in specs]


def check_fields(specs: list, rows: list[dict]) -> None:
    """Every reward that needs a row field finds it in every prompt (before any run folder exists)."""
    wanted = {f"{index} ({spec.name})": spec.field for index, spec in enumerate(specs) if spec.name in NEEDS_FIELD}
    problems = missing_fields(rows, wanted)
    if problems:
        raise UserError(
            "the GRPO rewards read fields the prompts lack",
            problems,
            fix="add the field to the prompt records, or point the reward's `field` at one they have",
        )


def logged_name(spec) -> str:
    if spec.name == "custom":
        return spec.label or spec.function.rpartition(":")[2]
    return spec.name
