"""The evaluation stage: `tuneforge eval RUN` (run.py) and `tuneforge eval RUN --artifact ...` (artifact.py).

It reads only the run folder (its recipe, manifest and data splits) and asks each registered task that
the recipe evaluates to measure itself; the kit the tasks measure with is tuneforge.eval.
"""
