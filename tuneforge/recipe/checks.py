"""Problems of a recipe that span sections, found once each section validated on its own.

The core's checks, then the training method's (its settings go with it alone, it trains on the data it
can train on), then every task's: all reported together, each as "key.path: what is wrong and the fix".
"""

from __future__ import annotations

import importlib.util

from tuneforge.recipe.schema import TRACKERS, RecipeBase, TrainSection
from tuneforge.registry import Method, get_method, registered_methods, registered_tasks


def recipe_problems(recipe: RecipeBase) -> list[str]:
    """Checks that span sections: the core's, the method's, then every task's (all reported together)."""
    split, problems = recipe.data.split, []
    if split.val + split.test >= 0.9:
        problems.append("data.split: val + test must leave at least 10% for training")
    if recipe.eval.held_out_loss and not recipe.data.has_split("val"):
        problems.append(
            "eval.held_out_loss: needs a validation split; set data.split.val > 0, data.val to a file, "
            "or eval.held_out_loss: false"
        )
    problems += batch_problems(recipe.train)
    problems += best_checkpoint_problems(recipe)
    problems += method_problems(recipe)
    problems += length_grouping_problems(recipe)
    for task in registered_tasks():
        problems += task.check(recipe)
    return problems


def method_problems(recipe: RecipeBase) -> list[str]:
    """The method's settings go with it alone, it trains on the recipe's data format, its required settings
    are there, and then its own checks (which may rely on its settings being there)."""
    method = get_method(recipe.train.method)  # the schema admits registered names only
    problems = [
        f"train.{other.name}: settings of train.method {other.name}, but this recipe's method is {method.name}"
        for other in registered_methods()
        if other.name != method.name
        and other.settings is not None
        and getattr(recipe.train, other.name, None) is not None
    ]
    problems += format_problems(method, recipe.data.format)
    missing = missing_settings(method, recipe)
    return problems + (missing or method.check(recipe))


def format_problems(method: Method, data_format: str) -> list[str]:
    """A format that some methods list is for them alone; a method that lists formats and does not also
    train on the tasks' data takes only those."""
    if data_format in method.formats:
        return []
    if not method.trains_on_task_data:
        return [f"train.method: {method.name} trains on data.format {' or '.join(method.formats)}, not {data_format}"]
    users = [other.name for other in registered_methods() if data_format in other.formats]
    if users:
        return [f"data.format: {data_format} needs train.method {' or '.join(users)}, not {method.name}"]
    return []


def missing_settings(method: Method, recipe: RecipeBase) -> list[str]:
    """A method whose settings have required keys needs its section: one problem per required key."""
    if not method.settings_required or getattr(recipe.train, method.name, None) is not None:
        return []
    required = [name for name, field in method.settings.model_fields.items() if field.is_required()]
    return [
        f"train.{method.name}.{key}: required key is missing (train.method {method.name} needs train.{method.name})"
        for key in required
    ]


def batch_problems(train: TrainSection) -> list[str]:
    if train.global_batch_size is None:
        return []
    if train.grad_accum is not None:
        return ["train.global_batch_size: grad_accum is derived from it; remove train.grad_accum (or set it to null)"]
    if train.global_batch_size % train.batch_size:
        return [
            f"train.global_batch_size: {train.global_batch_size} is not a multiple of "
            f"train.batch_size ({train.batch_size})"
        ]
    return []


def best_checkpoint_problems(recipe: RecipeBase) -> list[str]:
    """train.early_stopping and train.keep_best judge checkpoints by the held-out measure, so it must be taken
    during training; keep_best needs a checkpoint at every step it may pick (transformers refuses otherwise, but
    only once the model is loaded)."""
    train, problems = recipe.train, []
    switched_on = [
        key for key, setting in (("early_stopping", train.early_stopping), ("keep_best", train.keep_best)) if setting
    ]
    for key in switched_on:
        if not recipe.data.has_split("val"):
            problems.append(
                f"train.{key}: needs a validation split to measure; set data.split.val > 0 or data.val to a file, "
                f"or turn train.{key} off"
            )
        if train.eval_steps is None:
            problems.append(
                f"train.{key}: needs train.eval_steps (the held-out measure is taken every eval_steps); "
                f"set it, e.g. train.eval_steps: {train.save_steps}"
            )
    if train.keep_best and train.eval_steps is not None and train.save_steps % train.eval_steps:
        save, measure = train.save_steps, train.eval_steps
        problems.append(
            f"train.keep_best: train.save_steps ({save}) must be a multiple of train.eval_steps ({measure}): each "
            f"checkpoint is judged by the measure taken at its step (transformers requires it); set "
            f"train.save_steps: {save // measure * measure or measure}, or train.eval_steps to a divisor of {save}"
        )
    return problems


def length_grouping_problems(recipe: RecipeBase) -> list[str]:
    """Length grouping orders SFT's tokenized samples; packed sequences have no lengths left to group, and the
    other methods' trainers tokenize rows themselves (GRPO and KTO keep an order of their own)."""
    if not recipe.data.group_by_length:
        return []
    if recipe.data.packing:
        return ["data.group_by_length: packed batches carry no padding to save; set data.packing: false or drop it"]
    if recipe.train.method != "sft":
        return [f"data.group_by_length: only with train.method sft, not {recipe.train.method}"]
    return []


def tracker_problems(train: TrainSection) -> list[str]:
    """Each tracker in train.report_to is installed (a module check; nothing is imported). Checked when training
    starts, not with the recipe's other checks: a finished run evaluates and exports on machines without its
    trackers."""
    return [
        f"train.report_to: {name} is not installed; install its extra into this environment: "
        f"pip install -e '.[{TRACKERS[name]}]' (a shipped install: pip install 'tuneforge[{TRACKERS[name]}]')"
        for name in dict.fromkeys(train.report_to)
        if importlib.util.find_spec(name) is None
    ]
