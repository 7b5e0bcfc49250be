"""The persona evaluation item by item, for `tuneforge compare` (PersonaTask.compared_items).

Each unseen prompt in each condition (with and without the system prompt) is an item (its identity: the
condition and the prompt); its score is the share of the persona's two kinds of markers the reply carries
(name, manner: 0, 0.5 or 1). The persona, name and manner shares of each condition are means over its
items, recomputed on any resample.
"""

from __future__ import annotations

from tuneforge.eval.items import ComparedItem, ItemMetric, ItemResults, item_key, mean_on, positions_of, within
from tuneforge.tasks.persona.evaluate import reply_marks

KINDS = (("persona", "persona_share", "persona share"), ("name", "name_share", "name share"))
KINDS += (("manner", "style_share", "manner share"),)  # (mark, results key, metric name)


def compared_items(recipe, results: dict, artifact: str | None) -> ItemResults:
    """From `tuneforge eval`'s results (each condition's samples), or an artifact's own replies."""
    conditions = results if artifact is None else results["conditions"]
    items, marks = [], []
    for condition, found in conditions.items():
        for sample in found.get("samples", []):
            reply, marked = tuned_reply(sample, artifact, recipe.eval.persona)
            score = (marked["name"] + marked["manner"]) / 2
            items.append(
                ComparedItem(item_key(condition, sample["prompt"]), sample["prompt"], reply, score, None, condition)
            )
            marks.append(marked)
    metrics = []
    for condition, found in conditions.items():
        scores, inside = found["tuned"] if artifact is None else found, positions_of(items, condition)
        for mark, key, title in KINDS:
            on_items = within(inside, mean_on([float(m[mark]) for m in marks])) if inside else None
            metrics.append(ItemMetric(f"{title}, {condition.replace('_', ' ')}", scores[key], True, on_items))
    return ItemResults(
        metrics=metrics,
        items=items,
        score_name="persona markers carried (name, manner: 0, 0.5 or 1)",
        missing=None if items else "the evaluation keeps no replies (evaluate the run again)",
    )


def tuned_reply(sample: dict, artifact: str | None, config) -> tuple[str, dict]:
    """The reply and its marks; an evaluation from before replies kept their marks is marked here."""
    reply = sample["tuned"] if artifact is None else sample["reply"]
    marked = sample.get("marks", {}).get("tuned") if artifact is None else sample.get("marks")
    return reply, marked or reply_marks(reply, config)
