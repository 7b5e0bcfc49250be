"""The preference task: pairs of a better and a worse reply to the same prompt, learned with DPO.

Owns `format: preference` and `format: kto` (schema.py, read by data.py) and `eval.preference`
(evaluate.py). A pair's sample is the prompt plus the chosen reply (what the shared pipeline
filters, splits and writes to RUN/data/), with the rejected reply in its meta;
tuneforge.data.rows.preference_rows turns a split into TRL's {prompt, chosen, rejected} rows for the
trainers (tuneforge/train/methods/).
"""

from __future__ import annotations

from tuneforge.registry import Task
from tuneforge.tasks.preference.evaluate import evaluate_preference, headline_rows
from tuneforge.tasks.preference.schema import PreferenceEval, PreferenceSection


class PreferenceTask(Task):
    name = "preference"

    def data_sections(self):
        return (PreferenceSection,)

    def eval_section(self):
        return PreferenceEval

    def check(self, recipe):
        if recipe.eval.preference is not None and recipe.data.format not in ("preference", "kto"):
            return ["eval.preference: needs data.format preference or kto (it scores held-out pairs or marked replies)"]
        return []

    def evaluate(self, run, out_dir):
        return evaluate_preference(run, out_dir)

    def headline(self, results):
        return headline_rows(results)
