"""The built-in tasks and training methods, registered by the front ends (the CLI, the benchmarks) and the tests.

Nothing registers at import: the core's registries (tuneforge.registry) know no concrete task or method,
and a program that wants others registers them the same way, with register_task / register_method.
"""

from __future__ import annotations

from tuneforge.registry import Method, Task, register_method, register_task, registered_methods, registered_tasks
from tuneforge.tasks.classification import ClassificationTask
from tuneforge.tasks.conversation import ConversationTask
from tuneforge.tasks.domain import DomainTask
from tuneforge.tasks.persona import PersonaTask
from tuneforge.tasks.preference import PreferenceTask
from tuneforge.tasks.prompts import PromptsTask
from tuneforge.tasks.style import StyleTask
from tuneforge.tasks.translation import TranslationTask
from tuneforge.train.methods.dpo import DPO
from tuneforge.train.methods.grpo import GRPO
from tuneforge.train.methods.kto import KTO
from tuneforge.train.methods.orpo import ORPO
from tuneforge.train.methods.sft import SFT

# In the order their evaluations run and appear in the report (tasks), and their help lists them (methods).
BUILTIN_TASKS: tuple[type[Task], ...] = (
    ConversationTask,
    PersonaTask,
    ClassificationTask,
    DomainTask,
    StyleTask,
    TranslationTask,
    PreferenceTask,
    PromptsTask,
)
BUILTIN_METHODS: tuple[type[Method], ...] = (SFT, DPO, ORPO, KTO, GRPO)


def register_builtins() -> None:
    """Register each built-in task and method that is not registered yet (calling it again changes nothing)."""
    tasks = {task.name for task in registered_tasks()}
    for task_class in BUILTIN_TASKS:
        if task_class.name not in tasks:
            register_task(task_class())
    methods = {method.name for method in registered_methods()}
    for method_class in BUILTIN_METHODS:
        if method_class.name not in methods:
            register_method(method_class())
