"""The writing-style task: an author's Markdown articles turned into rewrite / continue / expand tasks.

Owns `format: markdown` and `eval.style` (schema.py), the article reader and chunker
(markdown.py), the writing tasks (samples.py), `tuneforge data build-style` (build.py), the
evaluation: perplexity and the style indicators (evaluate.py, indicators.py), the blind A/B sheet
(ab_sheet.py) and `tuneforge ab-tally` (commands.py), its artifact metric (served.py) and its items
for `tuneforge compare` (compare.py).
"""

from __future__ import annotations

from tuneforge.registry import Task
from tuneforge.tasks.style.build import build_style_command
from tuneforge.tasks.style.commands import ab_tally
from tuneforge.tasks.style.compare import compared_items
from tuneforge.tasks.style.evaluate import article_inputs, evaluate_style, headline_rows
from tuneforge.tasks.style.schema import MarkdownSection, StyleEval
from tuneforge.tasks.style.served import style_metric


class StyleTask(Task):
    name = "style"

    def data_sections(self):
        return (MarkdownSection,)

    def eval_section(self):
        return StyleEval

    def check(self, recipe):
        if recipe.eval.style is None:
            return []
        if recipe.data.format != "markdown" or "continue" not in recipe.data.markdown.templates:
            return ["eval.style: needs data.format: markdown with the 'continue' template (its prompts)"]
        if not recipe.data.has_split("val"):
            return [
                "eval.style: needs a validation split (held-out articles); set data.split.val, e.g. 0.2 "
                "(or data.val: a folder of articles)"
            ]
        return []

    def run_inputs(self, recipe):
        return article_inputs(recipe)

    def evaluate(self, run, out_dir):
        return evaluate_style(run, out_dir)

    def headline(self, results):
        return headline_rows(results)

    def artifact_metric(self, run, answerer):
        return style_metric(run, answerer)

    def compared_items(self, recipe, results, eval_dir, artifact):
        return compared_items(results, eval_dir, artifact)

    def commands(self):
        return [("data", build_style_command), (None, ab_tally)]
