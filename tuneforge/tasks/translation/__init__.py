"""The translation task: sentence pairs from Moses-style parallel files, every direction.

Owns `format: parallel` and `eval.translation` (schema.py), the corpus reader and the prompt
(data.py), the in-process Translator (translate.py), BLEU/chrF per direction with plots
(evaluate.py), its artifact metric (served.py), its items for `tuneforge compare` (compare.py) and
`tuneforge translate` (commands.py).
"""

from __future__ import annotations

from tuneforge.registry import Task
from tuneforge.tasks.translation.commands import translate
from tuneforge.tasks.translation.compare import compared_items
from tuneforge.tasks.translation.evaluate import evaluate_translation, headline_rows
from tuneforge.tasks.translation.schema import ParallelSection, TranslationEval
from tuneforge.tasks.translation.served import translation_metric


class TranslationTask(Task):
    name = "translation"

    def data_sections(self):
        return (ParallelSection,)

    def eval_section(self):
        return TranslationEval

    def check(self, recipe):
        if recipe.eval.translation is None:
            return []
        if recipe.data.format != "parallel":
            return ["eval.translation: needs data.format: parallel (its test split is sentence pairs)"]
        if not recipe.data.has_split("test"):
            return ["eval.translation: needs a test split; set data.split.test, e.g. 0.1 (or data.test: a folder)"]
        return []

    def evaluate(self, run, out_dir):
        return evaluate_translation(run, out_dir)

    def headline(self, results):
        return headline_rows(results)

    def artifact_metric(self, run, answerer):
        return translation_metric(run, answerer)

    def compared_items(self, recipe, results, eval_dir, artifact):
        return compared_items(results, eval_dir, artifact)

    def commands(self):
        return [(None, translate)]
