"""Recipe schema of the translation task: `format: parallel` and `eval.translation`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from tuneforge.errors import ProblemCollector
from tuneforge.recipe.schema import DataSection, PositiveInt, Section
from tuneforge.tasks.translation.data import language_tag, parse_direction, read_parallel


class ParallelData(Section):
    """Which languages and directions of the Moses-style corpus files to read."""

    languages: list[str] | None = None
    """Language codes to read (en, ja, zh, zh_tw, zh_hant); None: every language found."""
    directions: list[str] | None = None
    """SOURCE-TARGET pairs, e.g. [en-zh_TW, zh_TW-en]; None: both ways between every pair."""

    @field_validator("languages", mode="after")
    @classmethod
    def _language_tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(language_tag(code) for code in value))

    @field_validator("directions", mode="after")
    @classmethod
    def _directions(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else ["-".join(parse_direction(text)) for text in value]

    @model_validator(mode="after")
    def _directions_in_languages(self) -> ParallelData:
        if self.languages and self.directions:
            outside = [d for d in self.directions if not set(d.split("-", 1)) <= set(self.languages)]
            if outside:
                raise ValueError(f"directions {outside} use languages outside languages {self.languages}")
        return self


class ParallelSection(DataSection):
    """`format: parallel`: folders of Moses-style files (corpus.en + corpus.zh_tw + ...), paired by
    stem; every aligned line becomes one sample per direction (tuneforge/tasks/translation/data.py)."""

    FOLDERS: ClassVar[bool] = True
    format: Literal["parallel"]
    """parallel: aligned sentence files, one language per file suffix."""
    parallel: ParallelData = Field(default_factory=ParallelData)
    """Languages and directions to read."""

    def read(self, path: Path, problems: ProblemCollector) -> list:
        return read_parallel(path, self, problems)


class TranslationEval(Section):
    """sacrebleu BLEU (n-gram precisions, brevity penalty, length ratio) and chrF per direction on the
    test split, base vs tuned (format: parallel)."""

    max_samples: PositiveInt | None = None
    """Test sentences per direction; None: the whole test split."""
    max_new_tokens: PositiveInt = 128
    """Longest translation generated."""
    batch_size: PositiveInt = 16
    """Sentences translated together."""
