"""Tasks: what a recipe teaches and how it is measured. One package per task, one registry.

A task owns everything about itself, so that "everything about translation" is one folder:
  - its recipe schema: the `data` section of each format it reads (`data_sections`) and its
    evaluation section `eval.<name>` (`eval_section`);
  - its data reader (each data section's `read`);
  - its checks on a whole recipe (`check`), reported together with every other recipe problem;
  - its evaluator and plots (`evaluate`), which read only the run folder;
  - its in-process predictor (`predict_file`) and its CLI commands (`commands`).

A new task is a subclass of `Task` plus `register(MyTask())`; recipe.py, cli.py and eval/ stay
as they are (tests/integration/test_task_interface.py registers one from a test file). Task
modules import pydantic, torch or transformers only inside methods, so `tuneforge --help`
stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import click

    from tuneforge.recipe import DataSection, Recipe, Section
    from tuneforge.runs import RunFolder


class Task:
    """The contract between a task and the core. Override what the task has; the defaults say "none"."""

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

    def evaluate(self, run: RunFolder, out_dir: Path) -> tuple[dict, str]:
        """(results for results.json, a Markdown section); files (PNG, CSV) go to out_dir."""
        raise NotImplementedError(f"task {self.name!r} has no evaluation")

    def artifact_metric(self, run: RunFolder, answerer: Any) -> dict | None:
        """The task's metric measured through an answerer (tuneforge.eval.answerers: the adapter in
        process, or an exported artifact behind an OpenAI-compatible server), as
        tuneforge.eval.artifact.task_metric builds it; None: this task cannot measure artifacts."""
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


_registry: dict[str, Task] = {}
_version = [0]  # bumped on every registration: recipe.recipe_model() rebuilds its schema then


def register(task: Task) -> Task:
    """Add a task; its formats and eval section become valid recipe keys at once."""
    if task.name in _registry:
        raise ValueError(f"a task named {task.name!r} is already registered")
    # Two tasks claiming one format are refused when the recipe schema is built (recipe.recipe_model),
    # which imports the schemas; here that would put pydantic on `tuneforge --help`'s path.
    _registry[task.name] = task
    _version[0] += 1
    return task


def unregister(name: str) -> None:
    """Remove a task (tests that register their own use this to clean up)."""
    del _registry[name]
    _version[0] += 1


def registry_version() -> int:
    return _version[0]


def registered() -> list[Task]:
    return list(_registry.values())


def formats_of(task: Task) -> list[str]:
    return [fmt for section in task.data_sections() for fmt in section.formats()]


def task_commands(parent: str | None) -> dict[str, Any]:
    """Every registered task's commands that belong under `parent` (None: the top level), by name."""
    return {command.name: command for task in registered() for group, command in task.commands() if group == parent}


def in_process_predictor(recipe: Recipe) -> Task | None:
    return next((task for task in registered() if task.predicts_in_process(recipe)), None)


def _register_builtins() -> None:
    # The built-in tasks, in the order their evaluations run and appear in the report.
    from tuneforge.tasks.classification import ClassificationTask
    from tuneforge.tasks.conversation import ConversationTask
    from tuneforge.tasks.domain import DomainTask
    from tuneforge.tasks.persona import PersonaTask
    from tuneforge.tasks.preference import PreferenceTask
    from tuneforge.tasks.prompts import PromptsTask
    from tuneforge.tasks.style import StyleTask
    from tuneforge.tasks.translation import TranslationTask

    builtins = (ConversationTask(), PersonaTask(), ClassificationTask(), DomainTask(), StyleTask(), TranslationTask())
    for task in (*builtins, PreferenceTask(), PromptsTask()):
        register(task)


_register_builtins()
