"""The paired bootstrap interval of the difference B - A of a metric, over the test items both runs answered.

Each resample draws the paired items with replacement, the same positions for both runs, and recomputes
each run's metric on it (ItemMetric.on_items: a mean, or a corpus score from per-item counts). What varies
is which items were drawn, never how each run did on an item, so the interval is about the runs'
difference on this kind of item. A percentile interval from a fixed seed: the same comparison always
prints the same interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tuneforge.eval.items import OnItems

RESAMPLES = 2000
LEVEL = 0.95
SEED = 0


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    level: float
    resamples: int  # those on which the metric was defined (a resample may hold no item of a direction)

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def to_json(self) -> dict:
        return {"low": self.low, "high": self.high, "level": self.level, "resamples": self.resamples}


def paired_interval(
    on_a: OnItems,
    on_b: OnItems,
    at_a: Sequence[int],
    at_b: Sequence[int],
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = SEED,
) -> Interval | None:
    """The interval of on_b - on_a, where at_a[i] and at_b[i] are the positions of the same item in each run's
    items. None where the metric is undefined on every resample."""
    import numpy as np

    at_a, at_b = np.asarray(at_a, dtype=int), np.asarray(at_b, dtype=int)
    draws = np.random.default_rng(seed).integers(0, len(at_a), size=(resamples, len(at_a)))
    differences = np.array([on_b(at_b[drawn]) - on_a(at_a[drawn]) for drawn in draws], dtype=float)
    defined = differences[np.isfinite(differences)]
    if not len(defined):
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(defined, [tail, 100 - tail])
    return Interval(float(low), float(high), level, len(defined))
