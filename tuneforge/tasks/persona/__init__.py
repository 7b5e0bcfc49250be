"""The persona task: does the tuned model speak as a character on prompts it never saw?

Owns `eval.persona` (schema.py), its evaluator and plot (evaluate.py), its artifact metric
(served.py) and its items for `tuneforge compare` (compare.py). It reads any conversation format;
the role-play recipe and the quickstart use it.
"""

from __future__ import annotations

from tuneforge.registry import Task
from tuneforge.tasks.persona.compare import compared_items
from tuneforge.tasks.persona.evaluate import PROMPTS_INPUT, evaluate_persona, headline_rows
from tuneforge.tasks.persona.schema import PersonaEval
from tuneforge.tasks.persona.served import persona_metric


class PersonaTask(Task):
    name = "persona"

    def eval_section(self):
        return PersonaEval

    def run_inputs(self, recipe):
        return {PROMPTS_INPUT: recipe.eval.persona.prompts}

    def evaluate(self, run, out_dir):
        return evaluate_persona(run, out_dir)

    def headline(self, results):
        return headline_rows(results)

    def artifact_metric(self, run, answerer):
        return persona_metric(run, answerer)

    def compared_items(self, recipe, results, eval_dir, artifact):
        return compared_items(recipe, results, artifact)
