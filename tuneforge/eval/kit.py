"""What every task evaluation shares: base-vs-tuned, the held-out split, and the shape of an artifact metric.

Every evaluation compares the base model (adapter disabled) with the tuned one on the same
held-out items, the same prompts and the same decoding, so that the difference is the training.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from tuneforge.errors import UserError

log = logging.getLogger(__name__)
VARIANTS = ("base", "tuned")
T = TypeVar("T")


def for_each_variant(produce: Callable[[bool], T], what: str) -> dict[str, T]:
    """{"base": produce(use_adapter=False), "tuned": produce(use_adapter=True)}, logged as it goes."""
    results = {}
    for variant in VARIANTS:
        log.info("%s with the %s model", what, variant)
        results[variant] = produce(variant == "tuned")
    return results


def held_out(run, needed_by: str, split: str = "test", fallback: str | None = None) -> list:
    """The run's held-out samples of `split` (or `fallback` when it is empty); a clear error when both are."""
    samples = run.split(split) or (run.split(fallback) if fallback else [])
    if not samples:
        wanted = f"a {split} split" + (f" (or a {fallback} split)" if fallback else "")
        raise UserError(
            f"{needed_by} needs {wanted}, and this run has none",
            fix=f"set data.split.{split}, e.g. 0.1, or name {split} files in data.{split}, and train again",
        )
    return samples


def task_metric(metric: str, value: float | None, *, higher_is_better: bool, method: str, **details) -> dict:
    """A task's measurement of one artifact: the compared metric, its direction, how it was measured. The
    value is also kept under the metric's own name, where another artifact's result looks it up."""
    return {
        "metric": metric,
        "value": value,
        "higher_is_better": higher_is_better,
        "method": method,
        metric: value,
        **details,
    }
