"""Recipe schema of the persona task: `eval.persona`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator

from tuneforge.recipe.paths import resolve_existing_file
from tuneforge.recipe.schema import PositiveInt, Section


class PersonaEval(Section):
    """Does the tuned model adopt a persona on prompts it never saw?"""

    prompts: Path
    """JSONL of {"prompt": ...} lines never seen in training (relative to the recipe); the run keeps a copy."""
    system_prompt: str | None = None
    """The system prompt of the "with system prompt" condition; None: data.system_prompt."""
    name_markers: list[str] = Field(min_length=1)
    """A reply carries the persona's name when it contains any of these (case-insensitive)."""
    style_markers: list[str] = Field(default_factory=list)
    """A reply carries the persona's manner when it contains any of these; empty: every reply does."""
    max_new_tokens: PositiveInt = 64
    """Longest reply generated."""

    @field_validator("prompts", mode="after")
    @classmethod
    def _prompts_exist(cls, value: Path, info: ValidationInfo) -> Path:
        return resolve_existing_file(value, info)
