"""Tasks: what a recipe teaches and how it is measured. One package per task.

A task owns everything about itself, so that "everything about translation" is one folder:
  - its recipe schema: the `data` section of each format it reads (`data_sections`) and its
    evaluation section `eval.<name>` (`eval_section`);
  - its data reader (each data section's `read`);
  - its checks on a whole recipe (`check`), reported together with every other recipe problem;
  - its evaluator and plots (`evaluate`), which read only the run folder;
  - its in-process predictor (`predict_file`) and its CLI commands (`commands`).

The contract is tuneforge.registry.Task; the built-in tasks are registered by
tuneforge.builtins.register_builtins(), and a new task is a subclass of Task plus one
`register_task(MyTask())` (tests/integration/test_task_interface.py registers one from a test file).
A task never imports another task. Task modules import torch or transformers only inside methods,
so `tuneforge --help` stays instant.
"""
