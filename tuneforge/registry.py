"""The task and method registries: the contract between the core and what it trains and measures.

A **task** (tuneforge/tasks/<name>/) owns a kind of data and its measure: the `data` section of each
format it reads, its `eval.<name>` section, its evaluator, its artifact metric, its predictor and
its commands. A **method** (tuneforge/train/methods/<name>.py) owns a way of training: its
`train.<name>` settings section, the data formats it trains on, its rows, its TRL trainer and its
held-out measure.

This module knows no concrete task or method and imports nothing of ours at run time: the recipe
schema is assembled from what is registered here (tuneforge/recipe/assemble.py), so the registries
sit below the schema. The front ends register the built-ins (tuneforge/builtins.py); a new task or
method is one module plus one `register_task(...)` / `register_method(...)` line, and a test can
register its own (tests/integration/test_task_interface.py, test_method_interface.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import click

    from tuneforge.eval.items import ItemResults
    from tuneforge.recipe.schema import DataSection, Recipe, Section
    from tuneforge.run_folder import RunFolder
    from tuneforge.train.job import TrainingJob

HELD_OUT_LOSS = ("held_out_loss", "eval_loss")  # (metrics key prefix, the Trainer's log key)


class Task:
    """What a recipe teaches and how it is measured. Override what the task has; the defaults say "none"."""

    name: ClassVar[str]  # also the key of its evaluation section, recipe.eval.<name>

    def data_sections(self) -> tuple[type[DataSection], ...]:
        """The `data` section classes of the formats this task reads, one per `format` value."""
        return ()

    def eval_section(self) -> type[Section] | None:
        """The class of recipe.eval.<name>; None when the task adds no evaluation."""
        return None

    def check(self, recipe: Recipe) -> list[str]:
        """Problems of a valid-looking recipe that span sections, each as "key.path: what and the fix"."""
        return []

    def run_inputs(self, recipe: Recipe) -> dict[str, Path]:
        """Files or folders besides the data splits that this task's evaluation reads (an author's corpus,
        probe prompts), by name. Training copies them into the run (RunFolder.input(name)), so that a
        finished run never needs the user's files again."""
        return {}

    def evaluate(self, run: RunFolder, out_dir: Path) -> tuple[dict, str]:
        """(results for results.json, a Markdown section); files (PNG, CSV) go to out_dir."""
        raise NotImplementedError(f"task {self.name!r} has no evaluation")

    def headline(self, results: dict) -> list[tuple[str, Any, Any]]:
        """The few numbers `tuneforge eval` prints from this task's results: (metric, base, tuned) rows."""
        return []

    def artifact_metric(self, run: RunFolder, answerer: Any) -> dict | None:
        """The task's metric measured through an answerer (tuneforge.eval.answerers: the adapter in
        process, or an exported artifact behind an OpenAI-compatible server), as
        tuneforge.eval.kit.task_metric builds it; None: this task cannot measure artifacts."""
        return None

    def compared_items(self, recipe: Recipe, results: dict, eval_dir: Path, artifact: str | None) -> ItemResults | None:
        """This task's evaluation item by item, for `tuneforge compare` (tuneforge.eval.items): `results` is its
        section of RUN/eval/results.json (artifact None) or of RUN/eval/artifacts/<artifact>.json, and
        `eval_dir` the run's eval folder with the task's own files. None: the comparison shows the headline
        numbers alone."""
        return None

    def commands(self) -> list[tuple[str | None, click.Command]]:
        """(parent group name or None for the top level, command) pairs added to `tuneforge`."""
        return []

    def predicts_in_process(self, recipe: Recipe) -> bool:
        """True when `tuneforge predict` on a run of this recipe should call predict_file, not a server."""
        return False

    def predict_file(self, run_dir: Path, input_path: Path, output_path: Path) -> dict:
        raise NotImplementedError(f"task {self.name!r} has no in-process predictor")

    def evaluates(self, recipe: Recipe) -> bool:
        return self.eval_section() is not None and getattr(recipe.eval, self.name, None) is not None


class Method:
    """A way of training (`train.method: <name>`). Everything around the trainer (model, LoRA, data, run
    folder, resume, devices, export) is shared; a method adds its settings, its data and its trainer."""

    name: ClassVar[str]
    settings: ClassVar[type[Section] | None] = None
    """The class of recipe.train.<name> (its docstring is the section's help); None: no settings."""
    settings_required: ClassVar[bool] = False
    """True when the section has required keys (GRPO's rewards): an absent section is then an error."""
    formats: ClassVar[tuple[str, ...]] = ()
    """Data formats made for this kind of training (preference, kto, prompts): a recipe with one of them must
    use a method that lists it."""
    trains_on_task_data: ClassVar[bool] = False
    """Also trains on every format that no method lists (the tasks' chat-shaped samples): sft, grpo."""
    held_out: ClassVar[tuple[str, str]] = HELD_OUT_LOSS
    """(metrics key prefix, Trainer log key) of the measure on the validation split before and after."""
    held_out_higher_is_better: ClassVar[bool] = False
    """The direction of that measure (a loss falls, a reward rises), for train.early_stopping and train.keep_best."""
    held_out_title: ClassVar[str] = "Held-out loss (assistant tokens, validation split)"
    """The heading of that measure in the evaluation report."""

    def settings_of(self, recipe: Recipe) -> Section | None:
        """recipe.train.<name>, or the section's defaults where the recipe leaves it out."""
        given = getattr(recipe.train, self.name, None)
        return given if given is not None or self.settings is None else self.settings()

    def check(self, recipe: Recipe) -> list[str]:
        """Problems of a recipe that uses this method, beyond its section's own validation."""
        return []

    def preflight(self, recipe: Recipe, samples: list) -> None:
        """Checks on the read samples before any run folder exists (raise UserError)."""

    def build_trainer(self, job: TrainingJob):
        """The TRL trainer (as Unsloth patches it) for one training session."""
        raise NotImplementedError(f"method {self.name!r} has no trainer")


_tasks: dict[str, Task] = {}
_methods: dict[str, Method] = {}
_version = [0]  # bumped on every change: the recipe schema is rebuilt then (tuneforge/recipe/assemble.py)


def _add(table: dict, kind: str, item) -> None:
    if item.name in table:
        raise ValueError(f"a {kind} named {item.name!r} is already registered")
    table[item.name] = item
    _version[0] += 1


def _remove(table: dict, name: str) -> None:
    del table[name]
    _version[0] += 1


def register_task(task: Task) -> Task:
    """Add a task; its formats and eval section become valid recipe keys at once."""
    _add(_tasks, "task", task)
    return task


def unregister_task(name: str) -> None:
    """Remove a task (tests that register their own use this to clean up)."""
    _remove(_tasks, name)


def register_method(method: Method) -> Method:
    """Add a training method; `train.method: <name>` and its `train.<name>` section become valid at once."""
    _add(_methods, "method", method)
    return method


def unregister_method(name: str) -> None:
    _remove(_methods, name)


def registry_version() -> int:
    return _version[0]


def registered_tasks() -> list[Task]:
    return list(_tasks.values())


def registered_methods() -> list[Method]:
    return list(_methods.values())


def get_method(name: str) -> Method:
    return _methods[name]


def formats_of(task: Task) -> list[str]:
    return [fmt for section in task.data_sections() for fmt in section.formats()]


def task_commands(parent: str | None) -> dict[str, Any]:
    """Every registered task's commands that belong under `parent` (None: the top level), by name."""
    return {command.name: command for task in _tasks.values() for group, command in task.commands() if group == parent}


def in_process_predictor(recipe: Recipe) -> Task | None:
    return next((task for task in _tasks.values() if task.predicts_in_process(recipe)), None)
