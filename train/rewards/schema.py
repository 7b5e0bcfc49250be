"""The reward sections of `train.grpo.rewards`: one per built-in reward, told apart by `name`.

Validating a recipe never runs a user's code: a custom reward's file is parsed, not imported
(tuneforge.train.rewards.functions imports it when training starts).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import Field, ValidationInfo, field_validator, model_validator

from tuneforge.eval.judge import JudgeEndpoint
from tuneforge.recipe.paths import is_record, resolve_existing_file
from tuneforge.recipe.schema import PositiveInt, Section


class Reward(Section):
    """One GRPO reward; the rewards' weighted sum is what GRPO raises."""

    weight: float = 1.0
    """Weight of this reward in the sum (negative: a penalty)."""


class ReferenceReward(Reward):
    """chrf / bleu: sacrebleu's sentence score of the reply against a reference, divided by 100."""

    name: Literal["chrf", "bleu"]
    """chrf: character n-gram F-score; bleu: BLEU (CJK text tokenized by character)."""
    field: str = "reference"
    """The row field that holds the reference (task data: the reply of the sample)."""


class LabelMatchReward(Reward):
    """1 when the reply is the label (case, surrounding space and end punctuation ignored), else 0."""

    name: Literal["label_match"]
    """The reply must be the label."""
    field: str = "label"
    """The row field that holds the expected label."""


class FormatReward(Reward):
    """1 when the reply matches `pattern` (a regular expression, searched) or contains one of `phrases`, else 0."""

    name: Literal["format"]
    """The reply must match a pattern or contain a phrase."""
    pattern: str | None = None
    """A Python regular expression, searched in the reply (anchor it with ^ or $ as needed)."""
    phrases: list[str] | None = Field(None, min_length=1)
    """Exact phrases; the reply earns the reward when it contains any of them."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_test(self) -> FormatReward:
        if (self.pattern is None) == (self.phrases is None):
            raise ValueError("set exactly one of pattern (a regular expression) and phrases (a list)")
        return self


class LengthReward(Reward):
    """1 for a reply of min_chars to max_chars characters; shorter ones earn length / min_chars, longer
    ones max_chars / length."""

    name: Literal["length"]
    """The reply's length in characters must fall in a range."""
    min_chars: Annotated[int, Field(ge=0)] = 0
    """Shortest reply that earns the full reward."""
    max_chars: PositiveInt
    """Longest reply that earns the full reward."""

    @model_validator(mode="after")
    def _ordered(self) -> LengthReward:
        if self.min_chars > self.max_chars:
            raise ValueError(f"min_chars ({self.min_chars}) is above max_chars ({self.max_chars})")
        return self


class JudgeReward(JudgeEndpoint, Reward):
    """An LLM judge's overall score of the reply (1-5, mapped to 0-1) given the prompt and the reference
    field when the row has one; a reply the judge cannot score counts as unscored, not as 0."""

    name: Literal["judge"]
    """An LLM judge scores the reply."""
    field: str = "reference"
    """The row field shown to the judge as the reference answer (absent: none is shown)."""


class CustomReward(Reward):
    """Your own Python function, `path/to/file.py:function` (relative to the recipe). The file is
    imported and runs with your permissions when training starts: only name code you trust."""

    name: Literal["custom"]
    """Your own function scores the reply."""
    function: str = Field(pattern=r"^.+\.py:[A-Za-z_]\w*$")
    """file.py:function; called as function(completions=[reply texts], prompts=[message lists], **row
    fields as lists) and returning one float (or None: unscored) per reply."""
    label: str | None = None
    """The name its mean and spread are logged under (default: the function's name)."""

    @field_validator("function", mode="after")
    @classmethod
    def _file_defines_function(cls, value: str, info: ValidationInfo) -> str:
        """The file exists and defines the function: checked by parsing it, so validating a recipe never
        runs its code."""
        file, _, function = value.rpartition(":")
        path = resolve_existing_file(Path(file), info)
        if is_record(info):  # a finished run's reward: the file was read when it trained
            return f"{path}:{function}"
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} is not valid Python: {exc}") from None
        defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        if function not in defined:
            raise ValueError(
                f"{path} defines no function {function!r} (it defines: {', '.join(sorted(defined)) or 'none'})"
            )
        return f"{path}:{function}"


RewardSpec = Annotated[
    Union[ReferenceReward, LabelMatchReward, FormatReward, LengthReward, JudgeReward, CustomReward],  # noqa: UP007
    Field(discriminator="name"),
]
