"""Recipe schema of the classification task: `format: classification` and `eval.classification`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from tuneforge.errors import ProblemCollector
from tuneforge.recipe.schema import DataSection, Fraction, PositiveInt, Section
from tuneforge.tasks.classification.data import fit_sample, read_classification


class ClassificationData(Section):
    """{"text", "label"} records (ChnSentiCorp layout) become prompts whose answer is the label's
    name. An integer label indexes `labels`; a string must be one of them. Columns named otherwise are
    mapped by data.columns, e.g. {text: review, label: sentiment}."""

    labels: list[str] = Field(min_length=2)
    """The label names, in index order (the last is the positive class of binary metrics)."""
    instruction: str = "Classify the sentiment of the text. Answer with one word: {labels}."
    """The user turn before the text; {labels} becomes the comma-separated label names."""

    @field_validator("labels", mode="after")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value) or not all(label.strip() for label in value):
            raise ValueError("labels must be distinct, non-empty names")
        return value


class ClassificationSection(DataSection):
    """`format: classification`: records of a text and its label."""

    FIELDS: ClassVar[dict[str, tuple[str, ...]]] = {"classification": ("text", "label")}

    format: Literal["classification"]
    """classification: {"text", "label"} records (other column names: data.columns)."""
    classification: ClassificationData
    """Labels and the instruction."""

    def read(self, path: Path, problems: ProblemCollector) -> list:
        return read_classification(path, self, problems)

    def fit(self, sample, tokenizer, max_len: int):
        return fit_sample(self, sample, tokenizer, max_len)

    @model_validator(mode="after")
    def _truncate_input_by_default(self) -> ClassificationSection:
        # A long review loses some of its middle rather than the whole sample (drop) or its label (truncate);
        # a value the recipe sets itself stays.
        if "overlength" not in self.filter.model_fields_set:
            self.filter.overlength = "truncate_input"
        return self


class ClassificationEval(Section):
    """Label metrics on the test split, base vs tuned, confidence and robustness (format: classification)."""

    max_samples: PositiveInt | None = None
    """Evaluate at most this many test texts; None: all of them."""
    batch_size: PositiveInt = 16
    """Texts scored per forward pass."""
    low_confidence: Fraction = 0.6
    """Predictions below this confidence are listed in confidence_analysis.json."""
