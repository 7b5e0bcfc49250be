"""The domain evaluation item by item, for `tuneforge compare` (DomainTask.compared_items).

Each test question is an item (its identity: the question and its reference answer); its score is the
answer's ROUGE-L F1. Mean ROUGE-L, corpus BLEU (from per-sentence counts, tuneforge.eval.metrics) and the
judge's mean overall score, where a judge scored the answers, are recomputed on any resample.
"""

from __future__ import annotations

import json
from pathlib import Path

from tuneforge.eval.items import ComparedItem, ItemMetric, ItemResults, item_key, mean_on
from tuneforge.eval.metrics import bleu_of_statistics, bleu_statistics, bleu_tokenizer, rouge_l
from tuneforge.tasks.domain.evaluate import RESULTS


def compared_items(recipe, results: dict, eval_dir: Path, artifact: str | None) -> ItemResults:
    """From `tuneforge eval`'s evaluation_results.json, or an artifact's own answers."""
    if artifact is None:
        rows, where = evaluated_rows(eval_dir / RESULTS), eval_dir / RESULTS
        reported = results["reference_metrics"]["tuned"]
        values = {"ROUGE-L F1": reported["rouge_l"], "BLEU": reported["bleu"]["score"]}
        judged = results["judge"].get("tuned", {}).get("means", {}).get("overall")
        if judged is not None:
            values["judge overall (1-5)"] = judged
    else:
        rows, where = artifact_rows(results), f"the {artifact} measurement"
        values = {"ROUGE-L F1": results["rouge_l"], "BLEU": results["bleu"]}
    references = [row[1] for row in rows]
    answers = [row[2] for row in rows]
    rouge = rouge_l(answers, references) if rows else []
    items = [
        ComparedItem(item_key(question, reference), question, answer, score, reference)
        for (question, reference, answer, _), score in zip(rows, rouge)
    ]
    on_items = {}
    if items:
        tokenize = bleu_tokenizer(recipe.eval.domain.bleu_tokenize, references)
        statistics = bleu_statistics(answers, references, tokenize)
        on_items = {
            "ROUGE-L F1": mean_on(rouge),
            "BLEU": lambda at: bleu_of_statistics(statistics[at], tokenize),
            "judge overall (1-5)": mean_on([float("nan") if row[3] is None else row[3] for row in rows]),
        }
    return ItemResults(
        metrics=[ItemMetric(name, value, True, on_items.get(name)) for name, value in values.items()],
        items=items,
        score_name="ROUGE-L F1",
        missing=None if items else f"{where} keeps no per-question answers (evaluate the run again)",
    )


def evaluated_rows(path: Path) -> list[tuple[str, str, str, float | None]]:
    """(question, reference, the tuned model's answer, the judge's overall score or None) of every item."""
    if not path.is_file():
        return []
    items = json.loads(path.read_text(encoding="utf-8")).get("items", [])
    return [(row["question"], row["reference"], row["tuned"]["answer"], judge_overall(row["tuned"])) for row in items]


def judge_overall(answered: dict) -> float | None:
    verdict = answered.get("judge") or {}
    return (verdict.get("score") or {}).get("overall")


def artifact_rows(measured: dict) -> list[tuple[str, str, str, None]]:
    """The same, from an artifact's measurement (its items and answers, in one order; no judge there)."""
    return [
        (item["question"], item["reference"], answer, None)
        for item, answer in zip(measured.get("items", []), measured["answers"])
    ]
