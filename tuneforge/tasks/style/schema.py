"""Recipe schema of the writing-style task: `format: markdown` and `eval.style`."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from tuneforge.errors import ProblemCollector
from tuneforge.recipe.schema import DataSection, PositiveInt, Section
from tuneforge.tasks.style.samples import read_markdown_folder

STYLE_TEMPLATES = ("rewrite", "continue", "summarize_expand")
# The writing tasks' instructions ({title}: the article's title from meta.json, else its first heading).
STYLE_INSTRUCTIONS = {
    "rewrite": 'Rewrite this passage from my article "{title}" in my own style.',
    "continue": 'Continue my article "{title}" in my own style.',
    "summarize_expand": 'Expand these notes from my article "{title}" into a full passage in my own style.',
}


class MarkdownData(Section):
    """How Markdown articles are cleaned and cut into chunks of chunk_min_tokens..chunk_max_tokens
    tokens, each chunk becoming one sample per template (tuneforge/tasks/style/markdown.py cleans and
    chunks, tuneforge/tasks/style/samples.py builds the tasks)."""

    chunk_min_tokens: PositiveInt = 300
    """Shortest chunk, in the tokenizer's tokens; shorter articles give no chunk (and are listed)."""
    chunk_max_tokens: PositiveInt = 800
    """Longest chunk; at least twice chunk_min_tokens."""
    tokenizer: str | None = None
    """The tokenizer chunks are measured in; None: model.base (written out in the resolved recipe)."""
    templates: list[Literal[STYLE_TEMPLATES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(STYLE_TEMPLATES), min_length=1
    )
    """The writing tasks made from every chunk: rewrite, continue, summarize_expand."""
    instructions: dict[str, str] = Field(default_factory=dict)
    """Instruction per template ({title} is the article's title); unset ones keep the default."""
    require_meta: bool = True
    """false: an article without meta.json is read as if it had an empty one."""
    skip_drafts: bool = True
    """Articles whose meta.json says "draft": true are skipped (and counted)."""

    @field_validator("instructions", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        return {**STYLE_INSTRUCTIONS, **value} if isinstance(value, dict) else value

    @field_validator("instructions", mode="after")
    @classmethod
    def _known_templates(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if name not in STYLE_TEMPLATES:
                raise ValueError(f"unknown template {name!r}; the templates are {', '.join(STYLE_TEMPLATES)}")
            fields = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
            if not text.strip() or fields - {"title"}:
                raise ValueError(f"instructions.{name} must be non-empty text whose only placeholder is {{title}}")
        return value

    @model_validator(mode="after")
    def _room_for_chunks(self) -> MarkdownData:
        if self.chunk_max_tokens < 2 * self.chunk_min_tokens:
            raise ValueError(
                "chunk_max_tokens must be at least twice chunk_min_tokens (so a short tail "
                "can always be balanced with the chunk before it)"
            )
        return self


class MarkdownSection(DataSection):
    """`format: markdown`: folders of Markdown articles, each with a meta.json beside it."""

    FOLDERS: ClassVar[bool] = True
    format: Literal["markdown"]
    """markdown: a folder of articles (.md), cut into chunks and writing tasks."""
    markdown: MarkdownData = Field(default_factory=MarkdownData)
    """Chunk sizes, templates and meta.json handling."""

    def read(self, path: Path, problems: ProblemCollector) -> list:
        return read_markdown_folder(path, self, problems)

    def complete(self, recipe) -> None:
        if self.markdown.tokenizer is None:
            self.markdown.tokenizer = recipe.model.base  # written out, so the resolved recipe says what measured chunks


class StyleEval(Section):
    """Perplexity (validation split), style indicators of continuations vs the author's corpus, base vs
    tuned, and a blind A/B sheet (format: markdown with the continue template)."""

    max_samples: PositiveInt | None = 24
    """Continuation prompts taken from the validation split."""
    max_new_tokens: PositiveInt = 160
    """Longest continuation generated."""
    batch_size: PositiveInt = 8
    """Prompts generated together."""
    temperature: Annotated[float, Field(ge=0)] = 0.0
    """0: greedy, the same text on every run."""
    top_p: Annotated[float, Field(gt=0, le=1)] = 0.95
    """Nucleus sampling, with temperature > 0."""
    repetition_penalty: Annotated[float, Field(ge=1)] = 1.15
    """Small models loop without one."""
    seed: int = 0
    """Seed of sampling and of the A/B order."""
    top_words: PositiveInt = 30
    """Words compared between generated text and the author's corpus."""
    ttr_window: PositiveInt = 50
    """Type-token ratio over moving windows of this many words."""
