"""The persona task: does the tuned model speak as a character on prompts it never saw?

Owns `eval.persona` (schema.py) and its evaluator and plot (evaluate.py). It reads any
conversation format; the role-play recipe and the quickstart use it.
"""

from __future__ import annotations

from tuneforge.tasks import Task


class PersonaTask(Task):
    name = "persona"

    def eval_section(self):
        from tuneforge.tasks.persona.schema import PersonaEval

        return PersonaEval

    def evaluate(self, run, out_dir):
        from tuneforge.tasks.persona.evaluate import evaluate_persona

        return evaluate_persona(run, out_dir)

    def artifact_metric(self, run, answerer):
        from tuneforge.tasks.persona.served import persona_metric

        return persona_metric(run, answerer)
