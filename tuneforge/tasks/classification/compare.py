"""The classification evaluation item by item, for `tuneforge compare` (ClassificationTask.compared_items).

Each test text is an item (its identity: the text and its label); the tuned model's prediction is
right (1) or wrong (0). Accuracy, precision, recall and F1 are recomputed from the predicted labels on
any resample of the texts, averaged as the evaluation averages them (label_metrics: binary on the last
label, else macro). ROC-AUC ranks the label probabilities and is shown without an interval.
"""

from __future__ import annotations

import json
from pathlib import Path

from tuneforge.eval.items import ComparedItem, ItemMetric, ItemResults, item_key, mean_on
from tuneforge.tasks.classification.evaluate import PREDICTIONS

COUNTED = (("precision", "precision"), ("recall", "recall"), ("f1", "F1"))  # (results key, name)


def compared_items(results: dict, eval_dir: Path, artifact: str | None) -> ItemResults:
    """From `tuneforge eval`'s predictions.jsonl, or an artifact's own predictions."""
    if artifact is None:
        reported, rows, where = results["metrics"], evaluated_rows(eval_dir / PREDICTIONS), eval_dir / PREDICTIONS
    else:
        reported, where = results, f"the {artifact} measurement"
        rows = [(p["text"], p["truth"], p["label"]) for p in results["predictions"] if "text" in p]
    items = [
        ComparedItem(item_key(text, truth), text, predicted, float(predicted == truth), reference=truth)
        for text, truth, predicted in rows
    ]
    missing = None if items else f"{where} keeps no per-text predictions (evaluate the run again)"
    return ItemResults(
        metrics=label_metrics_on(reported, items),
        items=items,
        score_name="right (1) or wrong (0)",
        right_or_wrong=True,
        missing=missing,
    )


def evaluated_rows(path: Path) -> list[tuple[str, str, str]]:
    """(text, label, the tuned model's predicted label) of every line of predictions.jsonl."""
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["text"], row["label"], row["tuned"]["label"]) for row in rows]


def label_metrics_on(reported: dict, items: list[ComparedItem]) -> list[ItemMetric]:
    """The reported metrics, each with its recomputation on a resample where the items allow it."""
    labels = reported["labels"]
    counted = label_counts(labels, items) if items else None
    metrics = [ItemMetric("accuracy", reported["accuracy"], True, mean_on([i.score for i in items]) if items else None)]
    for key, name in COUNTED:
        if key in reported:
            on_items = (lambda at, key=key: counted(at)[key]) if counted else None
            metrics.append(ItemMetric(name, reported[key], True, on_items))
    if "roc_auc" in reported:
        metrics.append(ItemMetric("ROC-AUC", reported["roc_auc"], True, note="ranks probabilities: no interval"))
    return metrics


def label_counts(labels: list[str], items: list[ComparedItem]):
    """A function of resample positions → precision, recall and F1 from the label counts there: binary on
    the last label for two labels, else the macro mean over all labels; 0 where undefined, as the evaluation
    reports them (scikit-learn's zero_division=0)."""
    import numpy as np

    index = {label: number for number, label in enumerate(labels)}
    truth = np.array([index[item.reference] for item in items])
    predicted = np.array([index.get(item.output, -1) for item in items])  # -1: a reply naming no label
    size = len(labels)

    def counted(at) -> dict[str, float]:
        t, p = truth[np.asarray(at, dtype=int)], predicted[np.asarray(at, dtype=int)]
        hits = np.bincount(t[t == p], minlength=size)
        said = np.bincount(p[p >= 0], minlength=size)
        true = np.bincount(t, minlength=size)
        scores = {
            "precision": np.divide(hits, said, out=np.zeros(size), where=said > 0),
            "recall": np.divide(hits, true, out=np.zeros(size), where=true > 0),
            "f1": np.divide(2 * hits, said + true, out=np.zeros(size), where=(said + true) > 0),
        }
        return {key: float(value[-1] if size == 2 else value.mean()) for key, value in scores.items()}

    return counted
