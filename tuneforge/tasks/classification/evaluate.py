"""Evaluation of a classification run on its test split (`eval.classification`).

Writes to the eval folder:
  metrics.json               accuracy, precision, recall, F1, ROC-AUC, confusion matrix (tuned)
  confidence_analysis.json   mean confidence, share above 0.9, histogram, low-confidence samples
  robustness_result.json     accuracy under synonym swap, typo insertion and punctuation change
  baseline_comparison.json   the base model zero-shot (same prompt) vs tuned: absolute and relative gain, and a
                             TF-IDF + logistic regression baseline trained on the run's train split
  predictions.jsonl          every test text with its label and the three models' predictions
  confusion_matrix.png, confidence_histogram.png
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

from tuneforge.eval.kit import for_each_variant
from tuneforge.files import write_json_atomic, write_text_atomic
from tuneforge.plots import pyplot, reporting_plot, save_figure
from tuneforge.tasks.classification.data import test_items, text_and_label
from tuneforge.tasks.classification.predict import Predictor, label_result

log = logging.getLogger(__name__)
PREDICTIONS = "predictions.jsonl"  # read back by `tuneforge compare` (compare.py)
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
    # Per label, then the positive (last) label's or the macro mean: sklearn's average="binary" refuses a
    # prediction outside the labels, which a served reply that names no label ("(none)") is.
    per_label = precision_recall_fscore_support(truth, predicted, labels=labels, average=None, zero_division=0)
    precision, recall, f1 = (float(values[-1] if binary else values.mean()) for values in per_label[:3])
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
        predicted = predictor.predict_batch(texts, progress=f"tuned, {name}")
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


# Character n-grams need no word segmenter for Chinese; 1-3 characters cover the words that carry sentiment
# (差, 不错, 性价比), and char_wb keeps the n-grams of space-separated languages inside their words.
TFIDF = {"analyzer": "char_wb", "ngram_range": (1, 3), "sublinear_tf": True}
TFIDF_NAME = "TF-IDF (char_wb 1-3-grams) + logistic regression"


def tfidf_predictions(labels: list[str], train: list[tuple[str, str]], texts: list[str]) -> list[dict] | None:
    """A classical baseline trained on the run's own train split: what fine-tuning has to beat to be
    worth it. None where the train split holds fewer than two labels (nothing to learn)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train_texts, train_labels = [text for text, _ in train], [label for _, label in train]
    if len(set(train_labels)) < 2:
        return None
    pipeline = make_pipeline(TfidfVectorizer(**TFIDF), LogisticRegression(max_iter=1000))
    pipeline.fit(train_texts, train_labels)
    classes = list(pipeline.classes_)
    return [
        label_result(labels, [float(row[classes.index(label)]) if label in classes else 0.0 for label in labels])
        for row in pipeline.predict_proba(texts)
    ]


def baseline_comparison(run, base_metrics: dict, metrics: dict, tfidf: dict | None, train_count: int) -> dict:
    return {
        "base_model": run.manifest["base_model"]["ref"],
        "zero_shot_prompt": "the training prompt",
        "accuracy": gain(base_metrics["accuracy"], metrics["accuracy"]),
        "f1": gain(base_metrics["f1"], metrics["f1"]),
        "base_metrics": base_metrics,
        "tfidf_baseline": None
        if tfidf is None
        else {
            "method": TFIDF_NAME,
            "vectorizer": {**TFIDF, "ngram_range": list(TFIDF["ngram_range"])},
            "train_texts": train_count,
            "metrics": tfidf,
            "tuned_minus_tfidf": {name: metrics[name] - tfidf[name] for name in ("accuracy", "f1")},
        },
    }


def evaluate_classification(run, out_dir: Path) -> tuple[dict, str]:
    config = run.recipe.eval.classification
    items = test_items(run, config.max_samples)
    texts, truth = [text for text, _ in items], [label for _, label in items]
    tuned = Predictor(run.path, batch_size=config.batch_size)
    labels = tuned.labels
    predictions = for_each_variant(
        lambda adapter: tuned.predict_batch(texts, use_adapter=adapter, progress="tuned" if adapter else "base"),
        f"classifying {len(items)} test texts",
    )
    train = [text_and_label(run.recipe.data, sample) for sample in run.split("train")]
    predictions["tfidf"] = tfidf_predictions(labels, train, texts)
    metrics = label_metrics(labels, truth, predictions["tuned"])
    base_metrics = label_metrics(labels, truth, predictions["base"])
    tfidf = label_metrics(labels, truth, predictions["tfidf"]) if predictions["tfidf"] else None
    files = {
        "metrics.json": metrics,
        "confidence_analysis.json": confidence_analysis(items, predictions["tuned"], config.low_confidence),
        "robustness_result.json": robustness(tuned, items, metrics["accuracy"]),
        "baseline_comparison.json": baseline_comparison(run, base_metrics, metrics, tfidf, len(train)),
    }
    for name, payload in files.items():
        write_json_atomic(out_dir / name, payload)
    write_predictions(out_dir / PREDICTIONS, items, predictions)
    plot_confusion(out_dir / "confusion_matrix.png", labels, metrics["confusion_matrix"])
    plot_confidence(out_dir / "confidence_histogram.png", files["confidence_analysis.json"])
    summary = {
        "metrics": metrics,
        "base_accuracy": base_metrics["accuracy"],
        "base_f1": base_metrics["f1"],
        "tfidf_accuracy": tfidf["accuracy"] if tfidf else None,
        "robustness": files["robustness_result.json"]["accuracy"],
        "robustness_score": files["robustness_result.json"]["robustness_score"],
        "mean_confidence": files["confidence_analysis.json"]["mean_confidence"],
    }
    return summary, markdown(metrics, base_metrics, files)


def headline_rows(summary: dict) -> list[tuple[str, float | None, float | None]]:
    """Accuracy and F1 on the test split, base (zero-shot) and tuned, and the tuned model's robustness."""
    tuned = summary["metrics"]
    return [
        ("accuracy", summary["base_accuracy"], tuned["accuracy"]),
        ("F1", summary.get("base_f1"), tuned["f1"]),
        ("robustness score (tuned)", None, summary["robustness_score"]),
    ]


def write_predictions(path: Path, items, predictions: dict[str, list[dict] | None]) -> None:
    """One line per test text: its label and each model's prediction (tuned, base, tfidf where trained)."""
    models = {name: predicted for name, predicted in predictions.items() if predicted is not None}
    rows = [
        {"text": text, "label": label, **{name: predicted[index] for name, predicted in models.items()}}
        for index, (text, label) in enumerate(items)
    ]
    write_text_atomic(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


@reporting_plot
def plot_confusion(path: Path, labels: list[str], matrix: list[list[int]]) -> None:
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


@reporting_plot
def plot_confidence(path: Path, analysis: dict) -> None:
    bins = analysis["histogram"]
    figure, axes = pyplot().subplots(figsize=(5, 3))
    axes.bar([b["from"] for b in bins], [b["count"] for b in bins], width=0.1, align="edge", edgecolor="white")
    axes.set_xlabel("confidence of the predicted label")
    axes.set_ylabel("test texts")
    axes.set_title(f"Confidence (mean {analysis['mean_confidence']:.2f})")
    save_figure(figure, path)


METRIC_COLUMNS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def metrics_row(name: str, metrics: dict) -> str:
    cells = " | ".join("n/a" if metrics[key] is None else f"{metrics[key]:.3f}" for key in METRIC_COLUMNS)
    return f"| {name} | {cells} |"


def tfidf_gap(metrics: dict, tfidf: dict) -> str:
    """One sentence that makes a baseline beating the tuned model impossible to miss."""
    points = (tfidf["accuracy"] - metrics["accuracy"]) * 100
    if points > 0:
        return (
            f"**The TF-IDF baseline is {points:.1f} points above the tuned model** (accuracy "
            f"{tfidf['accuracy']:.3f} vs {metrics['accuracy']:.3f}): on this data the fine-tuned model does not yet "
            "earn its cost."
        )
    return f"The tuned model is {-points:.1f} points above the TF-IDF baseline (accuracy)."


def markdown(metrics: dict, base: dict, files: dict) -> str:
    robust, comparison = files["robustness_result.json"], files["baseline_comparison.json"]
    tfidf = comparison["tfidf_baseline"]
    rows = [metrics_row("base (zero-shot)", base), metrics_row("tuned", metrics)]
    if tfidf is not None:
        rows.insert(0, metrics_row(f"TF-IDF baseline ({tfidf['train_texts']} train texts)", tfidf["metrics"]))
    gap = (
        f"{tfidf_gap(metrics, tfidf['metrics'])} TF-IDF baseline: {TFIDF_NAME}, trained on the run's train split."
        if tfidf
        else "No TF-IDF baseline: the train split holds one label only."
    )
    perturbed = ", ".join(f"{name} {value:.3f}" for name, value in robust["accuracy"].items())
    confidence, score = files["confidence_analysis.json"], robust["robustness_score"]
    return (
        f"## Classification (test split, {metrics['samples']} texts)\n\n"
        "| model | accuracy | precision | recall | F1 | ROC-AUC |\n|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\n{gap}\n\n"
        f"Confusion matrix (tuned; rows true, columns predicted, {metrics['labels']}): "
        f"{metrics['confusion_matrix']}. Mean confidence {confidence['mean_confidence']:.3f}; above 0.9: "
        f"{confidence['share_above_0.9']:.0%}.\n\nRobustness (accuracy): {perturbed}; "
        f"score {'n/a' if score is None else f'{score:.3f}'}.\n\n![confusion](confusion_matrix.png) "
        "![confidence](confidence_histogram.png)"
    )
