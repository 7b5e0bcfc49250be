"""A task's evaluation item by item, in the one shape that `tuneforge compare` reads (Task.compared_items).

Each task turns what its evaluation wrote (files in RUN/eval/, or an artifact's measurement in
RUN/eval/artifacts/) into `ItemResults`: every test item with its identity, the tuned model's output and
a per-item score, and the task's metrics, each able to recompute itself on a resample of the items. Two
runs are compared item by item only when they hold the same item keys; the keys come from the test item
itself (its input and reference), not from the prompt template, so a changed system prompt still pairs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

OnItems = Callable[[Sequence[int]], float]
"""A metric recomputed on the items at these positions (a bootstrap resample: positions repeat)."""


def item_key(*parts: str | None) -> str:
    """The identity of a test item: a short hash of its input and reference (the same in every run)."""
    text = json.dumps(list(parts), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ComparedItem:
    key: str  # item_key(...): equal keys in two runs = the same test item
    prompt: str  # what the model was given, as a reader wants to see it (the text, the source sentence)
    output: str  # what the model produced (a label, a translation, an answer)
    score: float | None  # the per-item score that ranks changes (ItemResults.score_name)
    reference: str | None = None  # the expected output, where the item has one
    group: str | None = None  # a translation direction, a persona condition: where the item belongs


@dataclass(frozen=True)
class ItemMetric:
    name: str  # as a reader sees it: "accuracy", "BLEU en-ja"
    value: float | None  # as the evaluation reported it
    higher_is_better: bool | None
    on_items: OnItems | None = None  # None: the metric is not a function of these items (no interval)
    note: str | None = None  # why there is no interval, where on_items is None


@dataclass(frozen=True)
class ItemResults:
    """A task's evaluation of one run (or one artifact): its metrics and its items."""

    metrics: list[ItemMetric]
    items: list[ComparedItem] = field(default_factory=list)  # empty: the evaluation kept no per-item results
    score_name: str = ""  # what ComparedItem.score is: "right (1) or wrong (0)", "sentence chrF"
    right_or_wrong: bool = False  # scores are 1 (right) or 0 (wrong): changes are wrong -> right, right -> wrong
    higher_is_better: bool = True  # of the per-item score
    missing: str | None = None  # why there are no items, and the command that keeps them


def positions_of(items: list[ComparedItem], group: str) -> list[int]:
    """The positions of one group's items (a direction, a condition)."""
    return [index for index, item in enumerate(items) if item.group == group]


def mean_on(values: Sequence[float]) -> OnItems:
    """on_items of a metric that is the mean of per-item values (accuracy, a share, mean ROUGE-L). A NaN
    value (an answer the judge could not score) is left out, as the evaluation leaves it out."""
    import numpy as np

    array = np.asarray(values, dtype=float)

    def mean(at) -> float:
        found = array[np.asarray(at, dtype=int)]
        found = found[~np.isnan(found)]
        return float(found.mean()) if len(found) else float("nan")

    return mean


def within(group_positions: Sequence[int], on_items: OnItems) -> OnItems:
    """on_items restricted to one group: the resample's positions that fall in it (NaN when none do)."""
    import numpy as np

    inside = np.asarray(group_positions, dtype=int)
    return lambda at: on_items(np.asarray(at, dtype=int)[np.isin(at, inside)])
