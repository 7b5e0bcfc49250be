"""Recipe schema of the classification task: `format: classification` and `eval.classification`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from tuneforge.errors import ProblemCollector
from tuneforge.recipe import DataSection, Fraction, PositiveInt, Section


class ClassificationData(Section):
    """{"text", "label"} records (ChnSentiCorp layout) become prompts whose answer is the label's
    name. An integer label indexes `labels`; a string must be one of them."""

    labels: list[str] = Field(min_length=2)
    """The label names, in index order (the last is the positive class of binary metrics)."""
    text_key: str = "text"
    """The record field that holds the text."""
    label_key: str = "label"
    """The record field that holds the label (an index into labels, or a name)."""
    instruction: str = "Classify the sentiment of the text. Answer with one word: {labels}."
    """The user turn before the text; {labels} becomes the comma-separated label names."""

    @field_validator("labels", mode="after")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value) or not all(label.strip() for label in value):
            raise ValueError("labels must be distinct, non-empty names")
        return value


class ClassificationSection(DataSection):
    """`format: classification`: JSON/JSONL records of a text and its label."""

    format: Literal["classification"]
    """classification: {"text", "label"} records (the key names are set in data.classification)."""
    classification: ClassificationData
    """Labels, record keys and the instruction."""

    def read(self, path: Path, problems: ProblemCollector) -> list:
        from tuneforge.tasks.classification.data import read_classification

        return read_classification(path, self, problems)


class ClassificationEval(Section):
    """Label metrics on the test split, base vs tuned, confidence and robustness (format: classification)."""

    max_samples: PositiveInt | None = None
    """Evaluate at most this many test texts; None: all of them."""
    batch_size: PositiveInt = 16
    """Texts scored per forward pass."""
    low_confidence: Fraction = 0.6
    """Predictions below this confidence are listed in confidence_analysis.json."""
