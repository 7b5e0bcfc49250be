"""The classification metric of any artifact (`tuneforge eval RUN --artifact ...`): accuracy and F1
on the test split from the label probabilities of the reply's first token (the API's top logprobs
for a served export). Where a backend gives no logprobs, or two labels share a first token, the
reply's text decides (the label it names): `method` says which was used, per item counts included.
"""

from __future__ import annotations

from tuneforge.eval.kit import task_metric
from tuneforge.tasks.classification.data import prompt_messages, scored_text, test_items
from tuneforge.tasks.classification.evaluate import label_metrics

REPLY_TOKENS = 8  # a label's name and a little room: the fallback reads only the first label named


def label_from_text(reply: str, labels: list[str]) -> str | None:
    """The label a reply names: the one it starts with, else the first one it mentions."""
    text = reply.strip().lower()
    starts = [label for label in labels if text.startswith(label.lower())]
    if starts:
        return max(starts, key=len)
    mentioned = [(text.find(label.lower()), label) for label in labels if label.lower() in text]
    return min(mentioned)[1] if mentioned else None


def from_probabilities(labels: list[str], probabilities: dict) -> dict:
    """A prediction in the shape label_metrics reads."""
    return {"label": max(labels, key=probabilities.__getitem__), "probabilities": probabilities}


def from_reply(labels: list[str], reply: str) -> dict:
    """The label the reply names (probability 1); a reply naming none counts as wrong."""
    named = label_from_text(reply, labels)
    probabilities = {label: float(label == named) if named else 1 / len(labels) for label in labels}
    return {"label": named or "(none)", "probabilities": probabilities, "reply": reply}


def classification_metric(run, answerer) -> dict:
    config, data = run.recipe.eval.classification, run.recipe.data
    labels = data.classification.labels
    items = test_items(run, config.max_samples)
    # Texts cut exactly as training and in-process prediction cut them (data.filter.overlength).
    max_len = run.recipe.model.max_seq_length
    conversations = [prompt_messages(data, scored_text(data, answerer.tokenizer, text, max_len)) for text, _ in items]
    scored = answerer.label_probabilities(conversations, labels)
    missing = [index for index, found in enumerate(scored) if found is None]
    replies = answerer.replies([conversations[i] for i in missing], REPLY_TOKENS) if missing else []
    by_text = dict(zip(missing, replies))
    predictions = [
        from_probabilities(labels, found) if found is not None else from_reply(labels, by_text[index])
        for index, found in enumerate(scored)
    ]
    metrics = label_metrics(labels, [label for _, label in items], predictions)
    method = "first-token logprobs" if not missing else "reply text" if len(missing) == len(items) else "mixed"
    return task_metric(
        "accuracy",
        metrics["accuracy"],
        higher_is_better=True,
        method=method,
        items_by_logprobs=len(items) - len(missing),
        items_by_reply_text=len(missing),
        f1=metrics["f1"],
        roc_auc=metrics["roc_auc"],
        samples=metrics["samples"],
        confusion_matrix=metrics["confusion_matrix"],
        labels=labels,
        predictions=[
            {
                "text": text,  # the item and its label: `tuneforge compare` pairs two runs' predictions by them
                "truth": truth,
                "label": p["label"],
                "probabilities": {k: round(v, 6) for k, v in p["probabilities"].items()},
                **({"reply": p["reply"]} if "reply" in p else {}),  # what a label read from the text came from
            }
            for (text, truth), p in zip(items, predictions)
        ],
    )
