"""The domain-assistant task: questions answered like the reference answers of a domain corpus.

Owns `eval.domain` (schema.py): ROUGE-L and BLEU against the test split's references, base vs
tuned, with plots (evaluate.py), the optional LLM judge behind any OpenAI-compatible API
(tuneforge.eval.judge), its artifact metric (served.py) and its items for `tuneforge compare`
(compare.py). It reads any conversation format (the domain recipe uses Alpaca).
"""

from __future__ import annotations

from tuneforge.registry import Task
from tuneforge.tasks.domain.compare import compared_items
from tuneforge.tasks.domain.evaluate import evaluate_domain, headline_rows
from tuneforge.tasks.domain.schema import DomainEval
from tuneforge.tasks.domain.served import domain_metric


class DomainTask(Task):
    name = "domain"

    def eval_section(self):
        return DomainEval

    def check(self, recipe):
        if recipe.eval.domain is not None and not recipe.data.has_split("test"):
            return ["eval.domain: needs a test split; set data.split.test, e.g. 0.1 (or data.test: your test file)"]
        return []

    def evaluate(self, run, out_dir):
        return evaluate_domain(run, out_dir)

    def headline(self, results):
        return headline_rows(results)

    def artifact_metric(self, run, answerer):
        return domain_metric(run, answerer)

    def compared_items(self, recipe, results, eval_dir, artifact):
        return compared_items(recipe, results, eval_dir, artifact)
