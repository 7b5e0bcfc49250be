"""The writing-style task: an author's Markdown articles turned into rewrite / continue / expand tasks.

Owns `format: markdown` and `eval.style` (schema.py), the article reader and chunker
(markdown.py), the writing tasks (samples.py), `tuneforge data build-style` (build.py), the
evaluation: perplexity, style indicators, the blind A/B sheet and its plots (evaluate.py), and
`tuneforge ab-tally` (commands.py).
"""

from __future__ import annotations

from tuneforge.tasks import Task


class StyleTask(Task):
    name = "style"

    def data_sections(self):
        from tuneforge.tasks.style.schema import MarkdownSection

        return (MarkdownSection,)

    def eval_section(self):
        from tuneforge.tasks.style.schema import StyleEval

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

    def evaluate(self, run, out_dir):
        from tuneforge.tasks.style.evaluate import evaluate_style

        return evaluate_style(run, out_dir)

    def artifact_metric(self, run, answerer):
        from tuneforge.tasks.style.served import style_metric

        return style_metric(run, answerer)

    def commands(self):
        from tuneforge.tasks.style.build import build_style_command
        from tuneforge.tasks.style.commands import ab_tally

        return [("data", build_style_command), (None, ab_tally)]
