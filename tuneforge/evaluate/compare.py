"""`tuneforge compare RUN_A RUN_B`: what changed between two runs, setting by setting and item by item.

    tuneforge compare runs/sentiment/<run-a> runs/sentiment/<run-b> [--artifact gguf:q8_0]

Reads each run's resolved recipe and manifest, and what `tuneforge eval` wrote (RUN/eval/results.json and
each task's per-item files) or, with an artifact, what `tuneforge eval --artifact` wrote
(RUN/eval/artifacts/<artifact>.json). Each task reads its own items (Task.compared_items,
tuneforge/tasks/<task>/compare.py), so nothing here knows a task. The comparison is a JSON-ready dict
(its shape: docs/evaluation.md); compare_report.py renders it as Markdown.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.eval.items import ComparedItem, ItemMetric, ItemResults
from tuneforge.evaluate.artifact import parse_artifact
from tuneforge.evaluate.bootstrap import LEVEL, RESAMPLES, SEED, Interval, paired_interval
from tuneforge.evaluate.compare_report import comparison_markdown
from tuneforge.files import write_json_atomic, write_text_atomic
from tuneforge.recipe.loading import read_yaml
from tuneforge.recipe.schema import Recipe
from tuneforge.registry import HELD_OUT_LOSS, Task, get_method, registered_tasks
from tuneforge.run_folder import load_run
from tuneforge.runs import RESOLVED_RECIPE

log = logging.getLogger(__name__)
SCHEMA = "tuneforge.compare/1"
COMPARE_DIR = "compare"  # RUN_B/compare/<recipe-a>--<run-a-id>[--<artifact>]/: compare.json, compare.md
CHANGED_ITEMS = 10  # per direction and task, by default
DIFFERENT_ITEMS = "not paired: the runs were evaluated on different items"
NO_HELD_OUT_ITEMS = "measured during training on the validation split; per-sample values are not kept"


@dataclass
class Side:
    """One run as compared: its recipe (as validated and as written), manifest and evaluation results."""

    path: Path
    recipe: Recipe
    raw_recipe: dict
    manifest: dict
    results: dict = field(default_factory=dict)  # RUN/eval/results.json, or RUN/eval/artifacts/<artifact>.json
    results_path: Path | None = None

    @property
    def tasks(self) -> list[Task]:
        return [task for task in registered_tasks() if task.evaluates(self.recipe)]

    def task_results(self, task: Task, artifact: str | None) -> dict:
        found = self.results.get(task.name) if artifact is None else self.results.get("tasks", {}).get(task.name)
        if found is None:
            raise UserError(f"{self.results_path} holds no {task.name} results", fix=evaluate_fix(self.path, artifact))
        return found


def evaluate_fix(run_dir: Path, artifact: str | None) -> str:
    return f"run `tuneforge eval {run_dir}" + (f" --artifact {artifact}`" if artifact else "`") + " first"


def read_side(run_dir: Path) -> Side:
    """A complete run (refused otherwise, by load_run), its evaluation not read yet."""
    recipe, manifest = load_run(run_dir)
    return Side(run_dir, recipe, read_yaml(run_dir / RESOLVED_RECIPE), manifest)


def read_results(side: Side, artifact: str | None) -> None:
    """The run's evaluation (of the artifact, where one is named); refused where there is none, naming the
    command that makes it."""
    eval_dir = side.path / "eval"
    path = eval_dir / "results.json" if artifact is None else eval_dir / "artifacts" / f"{artifact_stem(artifact)}.json"
    if not path.is_file():
        what = "has not been evaluated" if artifact is None else f"has no measurement of the {artifact} artifact"
        raise UserError(f"{side.path} {what} (no {path.relative_to(side.path)})", fix=evaluate_fix(side.path, artifact))
    side.results, side.results_path = json.loads(path.read_text(encoding="utf-8")), path


def artifact_stem(artifact: str) -> str:
    return parse_artifact(artifact).file_stem


def check_same_tasks(a: Side, b: Side) -> None:
    """Runs of different tasks have no metric in common: refused."""
    tasks_a, tasks_b = [t.name for t in a.tasks], [t.name for t in b.tasks]
    if tasks_a != tasks_b:
        raise UserError(
            "the runs are of different tasks, so their results cannot be compared:",
            [
                f"{a.path}: {', '.join(tasks_a) or 'no task evaluation'}",
                f"{b.path}: {', '.join(tasks_b) or 'no task evaluation'}",
            ],
            fix="compare two runs whose recipes have the same eval sections",
        )


def compare_runs(run_a: Path, run_b: Path, artifact: str | None = None, changed: int = CHANGED_ITEMS) -> dict:
    """The comparison of run B with run A (B - A), ready for JSON."""
    artifact = parse_artifact(artifact).key if artifact else None
    a, b = read_side(Path(run_a)), read_side(Path(run_b))
    check_same_tasks(a, b)
    for side in (a, b):
        read_results(side, artifact)
    comparison = {
        "schema": SCHEMA,
        "artifact": artifact,
        "a": run_facts(a),
        "b": run_facts(b),
        "settings": settings_section(a, b),
        "bootstrap": {
            "method": "paired percentile bootstrap over the test items both runs answered",
            "resamples": RESAMPLES,
            "level": LEVEL,
            "seed": SEED,
        },
        "metrics": held_out_rows(a, b),
        "tasks": {},
    }
    for task in b.tasks:
        found_a = task_items(task, a, artifact)
        found_b = task_items(task, b, artifact)
        rows, comparison["tasks"][task.name] = compare_task(found_a, found_b, changed)
        comparison["metrics"] += [{"task": task.name, **row} for row in rows]
    return comparison


def default_folder(comparison: dict) -> Path:
    """Where a comparison goes unless told: inside run B, named after run A (and the artifact)."""
    a, artifact = comparison["a"], comparison["artifact"]
    name = f"{a['recipe']}--{a['run_id']}" + (f"--{artifact_stem(artifact)}" if artifact else "")
    return Path(comparison["b"]["run"]) / COMPARE_DIR / name


def write_comparison(comparison: dict, json_path: Path | None = None, markdown_path: Path | None = None):
    """compare.json and compare.md (each written whole or not at all); returns their paths."""
    json_path = json_path or default_folder(comparison) / "compare.json"
    markdown_path = markdown_path or default_folder(comparison) / "compare.md"
    write_json_atomic(json_path, comparison)
    write_text_atomic(markdown_path, comparison_markdown(comparison))
    log.debug("comparison written to %s and %s", json_path, markdown_path)
    return json_path, markdown_path


def run_facts(side: Side) -> dict:
    base = side.manifest.get("base_model", {})
    return {
        "run": str(side.path),
        "recipe": side.recipe.name,
        "run_id": side.path.name,
        "base_model": base.get("ref"),
        "base_model_identity": base.get("identity"),
        "method": side.recipe.train.method,
        "data_sha256": {split: entry["sha256"] for split, entry in side.manifest.get("data_splits", {}).items()},
        "results": str(side.results_path),
    }


# ---------------------------------------------------------------- settings


def flatten(tree: dict, prefix: str = "") -> dict:
    """Dotted keys of every leaf (a list is one leaf; an empty section is a leaf {})."""
    flat = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def settings_differences(a: dict, b: dict) -> list[dict]:
    """The dotted keys whose values differ, in the recipes' order; a key one recipe lacks has no value on
    that side."""
    flat_a, flat_b = flatten(a), flatten(b)
    differences = []
    for key in dict.fromkeys([*flat_a, *flat_b]):
        if key not in flat_a or key not in flat_b or flat_a[key] != flat_b[key]:
            differences.append({"key": key, **{side: f[key] for side, f in (("a", flat_a), ("b", flat_b)) if key in f}})
    return differences


def settings_section(a: Side, b: Side) -> dict:
    facts_a, facts_b = run_facts(a), run_facts(b)
    splits = dict.fromkeys([*facts_a["data_sha256"], *facts_b["data_sha256"]])
    return {
        "differences": settings_differences(a.raw_recipe, b.raw_recipe),
        "base_model": side_by_side(facts_a["base_model"], facts_b["base_model"]),
        "method": side_by_side(facts_a["method"], facts_b["method"]),
        "data_sha256": {
            split: side_by_side(facts_a["data_sha256"].get(split), facts_b["data_sha256"].get(split))
            for split in splits
        },
    }


def side_by_side(a, b) -> dict:
    return {"a": a, "b": b, "same": a == b}


# ---------------------------------------------------------------- metrics


def held_out_rows(a: Side, b: Side) -> list[dict]:
    """The held-out measure of each run's method after training (the loss always), from the manifests: taken
    during training, without per-item values, so without an interval."""
    methods = [get_method(a.recipe.train.method), get_method(b.recipe.train.method)]
    keys = dict.fromkeys([HELD_OUT_LOSS[0], *(method.held_out[0] for method in methods)])
    direction = {method.held_out[0]: method.held_out_higher_is_better for method in methods}
    rows = []
    for key in keys:
        values = [side.manifest.get("metrics", {}).get(f"{key}_after") for side in (a, b)]
        if values != [None, None]:
            metric = ItemMetric(key, None, direction.get(key, False))
            rows.append({"task": "held-out", **metric_row(metric, *values, None, NO_HELD_OUT_ITEMS)})
    return rows


def task_items(task: Task, side: Side, artifact: str | None) -> ItemResults:
    """The task's own reading of its results; its headline numbers where it has no item-by-item reading."""
    results = side.task_results(task, artifact)
    found = task.compared_items(side.recipe, results, side.path / "eval", artifact)
    if found is not None:
        return found
    if artifact is not None:
        metrics = [ItemMetric(results["metric"], results["value"], results["higher_is_better"])]
    else:
        metrics = [ItemMetric(name, tuned, None) for name, _, tuned in task.headline(results)]
    return ItemResults(metrics=metrics, missing=f"{task.name} keeps no per-item results")


def pair_items(a: list[ComparedItem], b: list[ComparedItem]) -> tuple[list[int], list[int]] | None:
    """(positions in A, positions in B) of the same items, in B's order; None unless both runs answered
    exactly the same items (a key that repeats pairs occurrence by occurrence)."""
    order_a, order_b = occurrences(a), occurrences(b)
    if not order_b or order_a.keys() != order_b.keys():
        return None
    return [order_a[key] for key in order_b], list(order_b.values())


def occurrences(items: list[ComparedItem]) -> dict[tuple[str, int], int]:
    seen: Counter = Counter()
    found = {}
    for position, item in enumerate(items):
        found[item.key, seen[item.key]] = position
        seen[item.key] += 1
    return found


def compare_task(a: ItemResults, b: ItemResults, changed: int) -> tuple[list[dict], dict]:
    """(the task's metric rows, its section: pairing and the items whose result changed)."""
    paired = pair_items(a.items, b.items)
    unpaired = (
        None if paired else (f"not paired: {a.missing or b.missing}" if a.missing or b.missing else DIFFERENT_ITEMS)
    )
    section = {
        "paired": paired is not None,
        "items": {"a": len(a.items), "b": len(b.items)},
        "note": unpaired,
        "score": b.score_name,
        "higher_is_better": b.higher_is_better,
        "right_or_wrong": b.right_or_wrong,
        **changed_items(a, b, paired, changed),
    }
    return metric_rows(a.metrics, b.metrics, paired, unpaired), section


def metric_rows(a: list[ItemMetric], b: list[ItemMetric], paired, unpaired: str | None) -> list[dict]:
    """Every metric of either run side by side (matched by name), with its paired interval where it has one."""
    found_a, found_b = {m.name: m for m in a}, {m.name: m for m in b}
    rows = []
    for name in dict.fromkeys([*found_a, *found_b]):
        metric_a, metric_b = found_a.get(name), found_b.get(name)
        shown = metric_b or metric_a
        interval = interval_of(metric_a, metric_b, paired)
        note = None if interval else shown.note or unpaired or "no interval: undefined on every resample"
        values = [metric.value if metric else None for metric in (metric_a, metric_b)]
        rows.append(metric_row(shown, *values, interval, note))
    return rows


def interval_of(metric_a: ItemMetric | None, metric_b: ItemMetric | None, paired) -> Interval | None:
    measured = [m for m in (metric_a, metric_b) if m and m.value is not None and m.on_items]
    if paired is None or len(measured) < 2:
        return None
    return paired_interval(metric_a.on_items, metric_b.on_items, *paired)


def metric_row(metric: ItemMetric, value_a, value_b, interval: Interval | None, note: str | None) -> dict:
    """One metric side by side: both values, B - A, and the paired interval of B - A (or why there is none)."""
    return {
        "metric": metric.name,
        "a": value_a,
        "b": value_b,
        "difference": None if value_a is None or value_b is None else value_b - value_a,
        "higher_is_better": metric.higher_is_better,
        "interval": interval.to_json() if interval else None,
        "excludes_zero": interval.excludes_zero if interval else None,
        "note": note,
    }


# ---------------------------------------------------------------- items


def changed_items(a: ItemResults, b: ItemResults, paired, limit: int) -> dict:
    """The paired items whose score moved: improved (wrong -> right) and worsened (right -> wrong), each the
    `limit` that moved most, with the counts of all."""
    if paired is None:
        return {"improved_count": None, "worsened_count": None, "unchanged_count": None, "improved": [], "worsened": []}
    sign = 1 if b.higher_is_better else -1
    moved = [
        (a.items[i], b.items[j], sign * (b.items[j].score - a.items[i].score))
        for i, j in zip(*paired)
        if a.items[i].score is not None and b.items[j].score is not None
    ]
    improved = sorted((m for m in moved if m[2] > 0), key=lambda m: -m[2])  # stable: ties keep the items' order
    worsened = sorted((m for m in moved if m[2] < 0), key=lambda m: m[2])
    return {
        "improved_count": len(improved),
        "worsened_count": len(worsened),
        "unchanged_count": len(moved) - len(improved) - len(worsened),
        "improved": [item_json(x, y) for x, y, _ in improved[:limit]],
        "worsened": [item_json(x, y) for x, y, _ in worsened[:limit]],
    }


def item_json(a: ComparedItem, b: ComparedItem) -> dict:
    return {
        "key": b.key,
        "group": b.group,
        "prompt": b.prompt,
        "reference": b.reference,
        "a": {"output": a.output, "score": a.score},
        "b": {"output": b.output, "score": b.score},
        "change": b.score - a.score,
    }
