"""The classification task: texts labelled with one of a fixed set of labels (sentiment, intent).

Owns `format: classification` and `eval.classification` (schema.py), the record reader
(data.py), the label predictor with real confidences (predict.py), the evaluation with its
metrics, robustness, baseline and plots (evaluate.py), its artifact metric (served.py), its
items for `tuneforge compare` (compare.py) and `tuneforge classify` (commands.py). `tuneforge
predict` on a classification run scores labels in-process through predict.py.
"""

from __future__ import annotations

from tuneforge.registry import Task
from tuneforge.tasks.classification.commands import classify
from tuneforge.tasks.classification.compare import compared_items
from tuneforge.tasks.classification.evaluate import evaluate_classification, headline_rows
from tuneforge.tasks.classification.predict import predict_file
from tuneforge.tasks.classification.schema import ClassificationEval, ClassificationSection
from tuneforge.tasks.classification.served import classification_metric


class ClassificationTask(Task):
    name = "classification"

    def data_sections(self):
        return (ClassificationSection,)

    def eval_section(self):
        return ClassificationEval

    def check(self, recipe):
        problems = []
        if recipe.eval.classification is not None and recipe.data.format != "classification":
            problems.append("eval.classification: needs data.format: classification")
        elif recipe.eval.classification is not None and not (
            recipe.data.has_split("test") or recipe.data.has_split("val")
        ):
            problems.append(
                "eval.classification: needs a test (or validation) split; set data.split.test, e.g. 0.2 "
                "(or data.test: your test file)"
            )
        return problems

    def evaluate(self, run, out_dir):
        return evaluate_classification(run, out_dir)

    def headline(self, results):
        return headline_rows(results)

    def artifact_metric(self, run, answerer):
        return classification_metric(run, answerer)

    def compared_items(self, recipe, results, eval_dir, artifact):
        return compared_items(results, eval_dir, artifact)

    def commands(self):
        return [(None, classify)]

    def predicts_in_process(self, recipe):
        return recipe.data.format == "classification"

    def predict_file(self, run_dir, input_path, output_path):
        return predict_file(run_dir, input_path, output_path)
