"""The evaluation stage: `tuneforge eval RUN` (run.py), `tuneforge eval RUN --artifact ...` (artifact.py) and
`tuneforge compare RUN_A RUN_B` (compare.py, with its paired bootstrap in bootstrap.py and its Markdown in
compare_report.py).

It reads only the run folder (its recipe, manifest and data splits) and asks each registered task that
the recipe evaluates to measure itself; the kit the tasks measure with is tuneforge.eval.
"""
