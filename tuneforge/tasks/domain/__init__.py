"""The domain-assistant task: questions answered like the reference answers of a domain corpus.

Owns `eval.domain` (schema.py): ROUGE-L and BLEU against the test split's references, base vs
tuned, with plots (evaluate.py), and the optional LLM judge behind any OpenAI-compatible API
(judge.py). It reads any conversation format (the domain recipe uses Alpaca).
"""

from __future__ import annotations

from tuneforge.tasks import Task


class DomainTask(Task):
    name = "domain"

    def eval_section(self):
        from tuneforge.tasks.domain.schema import DomainEval

        return DomainEval

    def check(self, recipe):
        if recipe.eval.domain is not None and not recipe.data.has_split("test"):
            return ["eval.domain: needs a test split; set data.split.test, e.g. 0.1 (or data.test: your test file)"]
        return []

    def evaluate(self, run, out_dir):
        from tuneforge.tasks.domain.evaluate import evaluate_domain

        return evaluate_domain(run, out_dir)

    def artifact_metric(self, run, answerer):
        from tuneforge.tasks.domain.served import domain_metric

        return domain_metric(run, answerer)
