"""The translation evaluation item by item, for `tuneforge compare` (TranslationTask.compared_items).

Each test sentence of each direction is an item (its identity: direction, source and reference). Its
score is its sentence chrF: sentence BLEU is zero for most short sentences. Corpus BLEU and chrF, per
direction and their mean over directions, are recomputed on any resample of the sentences from
per-sentence counts (tuneforge.eval.metrics), with each direction's own BLEU tokenizer.
"""

from __future__ import annotations

import json
from pathlib import Path

from tuneforge.eval.items import ComparedItem, ItemMetric, ItemResults, item_key, positions_of, within
from tuneforge.eval.metrics import bleu_of_statistics, bleu_statistics, chrf_of_statistics, chrf_statistics
from tuneforge.tasks.translation.data import parse_direction
from tuneforge.tasks.translation.evaluate import SAMPLES, bleu_tokenizer

NAMES = {"bleu": "BLEU", "chrf": "chrF"}


def compared_items(results: dict, eval_dir: Path, artifact: str | None) -> ItemResults:
    """From `tuneforge eval`'s translation_samples.jsonl, or an artifact's own hypotheses."""
    if artifact is None:
        rows, where = evaluated_rows(eval_dir / SAMPLES), eval_dir / SAMPLES
        reported = {d: scores["tuned"] for d, scores in results["directions"].items()}
        means = results["mean"]["tuned"]
    else:
        rows, where = artifact_rows(results), f"the {artifact} measurement"
        reported, means = results["directions"], {key: results[key] for key in NAMES}
    scored = Scored(rows)
    items = [
        ComparedItem(item_key(direction, source, reference), source, hypothesis, chrf, reference, direction)
        for (direction, source, reference, hypothesis), chrf in zip(rows, scored.sentence_chrf())
    ]
    metrics = [ItemMetric(f"{NAMES[key]} (mean of directions)", means[key], True) for key in NAMES]
    metrics += [ItemMetric(f"{NAMES[key]} {d}", reported[d][key], True) for d in reported for key in NAMES]
    return ItemResults(
        metrics=scored.resampled(metrics, items) if items else metrics,
        items=items,
        score_name="sentence chrF",
        missing=None if items else f"{where} keeps no per-sentence translations (evaluate the run again)",
    )


def evaluated_rows(path: Path) -> list[tuple[str, str, str, str]]:
    """(direction, source, reference, the tuned model's hypothesis) of every line of translation_samples.jsonl."""
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["direction"], row["source"], row["reference"], row["tuned"]["hypothesis"]) for row in rows]


def artifact_rows(measured: dict) -> list[tuple[str, str, str, str]]:
    """The same, from an artifact's measurement (its items and hypotheses, in one order)."""
    return [
        (item["direction"], item["source"], item["reference"], hypothesis)
        for item, hypothesis in zip(measured.get("items", []), measured["hypotheses"])
    ]


class Scored:
    """Per-sentence BLEU and chrF counts of every item, each direction with its own BLEU tokenizer."""

    def __init__(self, rows: list[tuple[str, str, str, str]]):
        import numpy as np

        self.directions = np.array([row[0] for row in rows])
        self.tokenize = {d: bleu_tokenizer(parse_direction(d)[1]) for d in dict.fromkeys(self.directions.tolist())}
        self.bleu = np.zeros((len(rows), 10))  # 2 lengths + 4 n-gram matches + 4 totals per sentence
        self.chrf = None
        hypotheses, references = [row[3] for row in rows], [row[2] for row in rows]
        if rows:
            self.chrf = chrf_statistics(hypotheses, references)
        for direction, tokenize in self.tokenize.items():
            at = np.flatnonzero(self.directions == direction)
            self.bleu[at] = bleu_statistics([hypotheses[i] for i in at], [references[i] for i in at], tokenize)

    def sentence_chrf(self) -> list[float]:
        return [] if self.chrf is None else [chrf_of_statistics(row[None, :]) for row in self.chrf]

    def direction_score(self, key: str, direction: str):
        """on_items of one direction's corpus score (the positions given are that direction's)."""
        if key == "bleu":
            return lambda at: bleu_of_statistics(self.bleu[at], self.tokenize[direction])
        return lambda at: chrf_of_statistics(self.chrf[at])

    def resampled(self, metrics: list[ItemMetric], items: list[ComparedItem]) -> list[ItemMetric]:
        """The metrics, each with its on_items: per direction, and the mean over the directions a resample holds."""
        import numpy as np

        per_direction = {
            (key, d): within(positions_of(items, d), self.direction_score(key, d))
            for d in self.tokenize
            for key in NAMES
        }

        def mean_of(key: str):
            return lambda at: float(np.nanmean([per_direction[key, d](at) for d in self.tokenize]))

        found = {f"{NAMES[key]} (mean of directions)": mean_of(key) for key in NAMES}
        found |= {f"{NAMES[key]} {d}": per_direction[key, d] for key, d in per_direction}
        return [ItemMetric(m.name, m.value, m.higher_is_better, found.get(m.name)) for m in metrics]
