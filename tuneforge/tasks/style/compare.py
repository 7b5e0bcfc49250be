"""The writing-style evaluation item by item, for `tuneforge compare` (StyleTask.compared_items).

Each validation prompt is an item (its identity: the text it continues and the author's own
continuation); its score is the continuation's own distance from the author's corpus (lower is better).
The headline numbers are not means over these items: perplexity is taken over the validation split's
tokens and the style distance over all continuations together, so they are shown without an interval.
"""

from __future__ import annotations

import json
from pathlib import Path

from tuneforge.eval.items import ComparedItem, ItemMetric, ItemResults, item_key
from tuneforge.tasks.style.evaluate import CONTINUATIONS

NO_PERPLEXITY_ITEMS = "over the validation split's tokens; per-sample values are not kept"
NO_DISTANCE_ITEMS = "between all continuations together and the author's corpus, not a mean over items"


def compared_items(results: dict, eval_dir: Path, artifact: str | None) -> ItemResults:
    """From `tuneforge eval`'s continuations.jsonl, or an artifact's own continuations."""
    if artifact is None:
        rows, where = evaluated_rows(eval_dir / CONTINUATIONS), eval_dir / CONTINUATIONS
        perplexity, distance = results["perplexity"]["tuned"]["perplexity"], results["distance"]["tuned"]["overall"]
    else:
        rows, where = artifact_rows(results), f"the {artifact} measurement"
        perplexity, distance = results["perplexity"], results["style_distance"]
    items = [
        ComparedItem(item_key(prompt, reference), prompt, text, own, reference) for prompt, reference, text, own in rows
    ]
    return ItemResults(
        metrics=[
            ItemMetric("perplexity (validation)", perplexity, False, note=NO_PERPLEXITY_ITEMS),
            ItemMetric("style distance (0 = the author)", distance, False, note=NO_DISTANCE_ITEMS),
        ],
        items=items,
        score_name="the continuation's own distance from the author (0 = the same)",
        higher_is_better=False,
        missing=None if items else f"{where} keeps no per-continuation distances (evaluate the run again)",
    )


def evaluated_rows(path: Path) -> list[tuple[str, str, str, float]]:
    """(prompt, the author's continuation, the tuned model's continuation, its distance) of every line."""
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["prompt"], r["reference"], r["tuned"], r["distance"]["tuned"]) for r in rows if "distance" in r]


def artifact_rows(measured: dict) -> list[tuple[str, str, str, float]]:
    """The same, from an artifact's measurement (its items and continuations, in one order)."""
    return [
        (item["prompt"], item["reference"], text, item["distance"])
        for item, text in zip(measured.get("items", []), measured["continuations"])
    ]
