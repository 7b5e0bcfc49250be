"""Evaluation of a classification run on its test split (`eval.classification`).

Writes to the eval folder:
  metrics.json               accuracy, precision, recall, F1, ROC-AUC, confusion matrix (tuned)
  confidence_analysis.json   mean confidence, share above 0.9, histogram, low-confidence samples
  robustness_result.json     accuracy under synonym swap, typo insertion and punctuation change
  baseline_comparison.json   the base model zero-shot (same prompt) vs tuned: absolute and relative gain
  predictions.jsonl          every test text with its label and both models' predictions
  confusion_matrix.png, confidence_histogram.png
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

from tuneforge.eval.kit import for_each_variant
from tuneforge.runs import write_json_atomic
from tuneforge.tasks.classification.data import test_items

log = logging.getLogger(__name__)
# Synonym swaps that keep the sentiment, for Chinese and English reviews (written for this project).
SYNONYMS = {
    "非常": "十分",
    "特别": "格外",
    "很": "挺",
    "干净": "整洁",
    "热情": "热心",
    "难吃": "不好吃",
    "便利": "方便",
    "失望": "沮丧",
    "推荐": "建议",
    "满意": "称心",
    "很差": "很糟",
    "太差": "太糟",
    "very": "really",
    "good": "fine",
    "great": "excellent",
    "bad": "poor",
    "terrible": "awful",
    "clean": "tidy",
    "slow": "sluggish",
    "recommend": "suggest",
}
PUNCTUATION = {"。": "！", "，": "、", "！": "。", ".": "!", ",": ";", "!": "."}


def synonym_swap(text: str, rng: random.Random) -> str:
    present = [word for word in SYNONYMS if word in text]
    if not present:
        return text
    word = rng.choice(present)
    return text.replace(word, SYNONYMS[word], 1)


def insert_typo(text: str, rng: random.Random) -> str:
    """Duplicate one character (a stutter typo that fits any script)."""
    at = rng.randrange(len(text))
    return text[:at] + text[at] + text[at:]


def change_punctuation(text: str, rng: random.Random) -> str:
    swapped = "".join(PUNCTUATION.get(char, char) for char in text)
    return swapped if swapped != text else text + rng.choice(["！", "!"])


PERTURBATIONS = {"synonym_swap": synonym_swap, "typo_insertion": insert_typo, "punctuation_change": change_punctuation}


def label_metrics(labels: list[str], truth: list[str], predictions: list[dict]) -> dict:
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support, roc_auc_score

    predicted = [p["label"] for p in predictions]
    binary = len(labels) == 2
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth, predicted, labels=labels, average="binary" if binary else "macro", pos_label=labels[-1], zero_division=0
    )
    scores = [[p["probabilities"][label] for label in labels] for p in predictions]
    try:
        auc = (
            roc_auc_score([t == labels[-1] for t in truth], [s[-1] for s in scores])
            if binary
            else roc_auc_score(truth, scores, multi_class="ovr", labels=labels)
        )
    except ValueError:  # a test split holding one class only
        auc = None
    return {
        "samples": len(truth),
        "accuracy": accuracy_score(truth, predicted),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": auc,
        "average": "binary" if binary else "macro",
        "positive_label": labels[-1] if binary else None,
        "labels": labels,
        "confusion_matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
    }


def confidence_analysis(items: list[tuple[str, str]], predictions: list[dict], threshold: float) -> dict:
    import numpy as np

    confidences = np.array([p["confidence"] for p in predictions])
    counts, edges = np.histogram(confidences, bins=10, range=(0.0, 1.0))
    low = [
        {"text": text, "label": label, **p}
        for (text, label), p in zip(items, predictions)
        if p["confidence"] < threshold
    ]
    return {
        "mean_confidence": float(confidences.mean()),
        "share_above_0.9": float((confidences > 0.9).mean()),
        "histogram": [
            {"from": round(float(a), 2), "to": round(float(b), 2), "count": int(c)}
            for a, b, c in zip(edges[:-1], edges[1:], counts)
        ],
        "low_confidence_threshold": threshold,
        "low_confidence": sorted(low, key=lambda r: r["confidence"]),
    }


def robustness(predictor, items: list[tuple[str, str]], clean_accuracy: float) -> dict:
    results = {}
    for name, perturb in PERTURBATIONS.items():
        rng = random.Random(0)
        texts = [perturb(text, rng) for text, _ in items]
        predicted = predictor.predict_batch(texts)
        results[name] = sum(p["label"] == label for p, (_, label) in zip(predicted, items)) / len(items)
    mean = sum(results.values()) / len(results)
    return {
        "clean_accuracy": clean_accuracy,
        "accuracy": results,
        "robustness_score": mean / clean_accuracy if clean_accuracy else None,
        "note": "robustness_score = mean perturbed accuracy / clean accuracy (1.0: unaffected)",
    }


def gain(base: float, tuned: float) -> dict:
    return {
        "base": base,
        "tuned": tuned,
        "absolute_gain": tuned - base,
        "relative_gain": (tuned - base) / base if base else None,
    }


def evaluate_classification(run, out_dir: Path) -> tuple[dict, str]:
    from tuneforge.tasks.classification.predict import Predictor

    config, manifest = run.recipe.eval.classification, run.manifest
    items = test_items(run, config.max_samples)
    texts, truth = [text for text, _ in items], [label for _, label in items]
    tuned = Predictor(run.path, batch_size=config.batch_size)
    labels = tuned.labels
    predictions = for_each_variant(
        lambda adapter: tuned.predict_batch(texts, use_adapter=adapter), f"classifying {len(items)} test texts"
    )
    tuned_predictions, base_predictions = predictions["tuned"], predictions["base"]
    metrics = label_metrics(labels, truth, tuned_predictions)
    base_metrics = label_metrics(labels, truth, base_predictions)
    files = {
        "metrics.json": metrics,
        "confidence_analysis.json": confidence_analysis(items, tuned_predictions, config.low_confidence),
        "robustness_result.json": robustness(tuned, items, metrics["accuracy"]),
        "baseline_comparison.json": {
            "base_model": manifest["base_model"]["ref"],
            "zero_shot_prompt": "the training prompt",
            "accuracy": gain(base_metrics["accuracy"], metrics["accuracy"]),
            "f1": gain(base_metrics["f1"], metrics["f1"]),
            "base_metrics": base_metrics,
        },
    }
    for name, payload in files.items():
        write_json_atomic(out_dir / name, payload)
    write_predictions(out_dir / "predictions.jsonl", items, tuned_predictions, base_predictions)
    plot_confusion(out_dir / "confusion_matrix.png", labels, metrics["confusion_matrix"])
    plot_confidence(out_dir / "confidence_histogram.png", files["confidence_analysis.json"])
    summary = {
        "metrics": metrics,
        "base_accuracy": base_metrics["accuracy"],
        "robustness": files["robustness_result.json"]["accuracy"],
        "robustness_score": files["robustness_result.json"]["robustness_score"],
        "mean_confidence": files["confidence_analysis.json"]["mean_confidence"],
    }
    return summary, markdown(metrics, base_metrics, files)


def write_predictions(path: Path, items, tuned: list[dict], base: list[dict]) -> None:
    from tuneforge.runs import write_text_atomic

    rows = [{"text": text, "label": label, "tuned": t, "base": b} for (text, label), t, b in zip(items, tuned, base)]
    write_text_atomic(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def plot_confusion(path: Path, labels: list[str], matrix: list[list[int]]) -> None:
    from tuneforge.plots import pyplot, save_figure

    figure, axes = pyplot().subplots(figsize=(4, 3.5))
    axes.imshow(matrix, cmap="Blues")
    for row, values in enumerate(matrix):
        for column, value in enumerate(values):
            axes.text(column, row, str(value), ha="center", va="center")
    axes.set_xticks(range(len(labels)), labels)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title("Confusion matrix (tuned, test split)")
    save_figure(figure, path)


def plot_confidence(path: Path, analysis: dict) -> None:
    from tuneforge.plots import pyplot, save_figure

    bins = analysis["histogram"]
    figure, axes = pyplot().subplots(figsize=(5, 3))
    axes.bar([b["from"] for b in bins], [b["count"] for b in bins], width=0.1, align="edge", edgecolor="white")
    axes.set_xlabel("confidence of the predicted label")
    axes.set_ylabel("test texts")
    axes.set_title(f"Confidence (mean {analysis['mean_confidence']:.2f})")
    save_figure(figure, path)


def markdown(metrics: dict, base: dict, files: dict) -> str:
    robust = files["robustness_result.json"]
    rows = "\n".join(
        f"| {name} | {base[name]:.3f} | {metrics[name]:.3f} |"
        for name in ("accuracy", "precision", "recall", "f1")
        if base[name] is not None
    )
    auc = (
        f"| roc_auc | {base['roc_auc']:.3f} | {metrics['roc_auc']:.3f} |"
        if base["roc_auc"] is not None and metrics["roc_auc"] is not None
        else ""
    )
    perturbed = ", ".join(f"{name} {value:.3f}" for name, value in robust["accuracy"].items())
    return (
        f"## Classification (test split, {metrics['samples']} texts)\n\n| metric | base (zero-shot) | tuned |\n"
        f"|---|---|---|\n{rows}\n{auc}\n\nConfusion matrix (rows true, columns predicted, {metrics['labels']}): "
        f"{metrics['confusion_matrix']}. Mean confidence "
        f"{files['confidence_analysis.json']['mean_confidence']:.3f}; above 0.9: "
        f"{files['confidence_analysis.json']['share_above_0.9']:.0%}.\n\nRobustness (accuracy): {perturbed}; "
        f"score {robust['robustness_score']:.3f}.\n\n![confusion](confusion_matrix.png) "
        "![confidence](confidence_histogram.png)"
    )
