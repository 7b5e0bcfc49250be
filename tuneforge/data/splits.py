"""The exact train/val/test samples of a run, as JSONL files in its folder (RUN/data/<split>.jsonl).

Training writes them; evaluation, the export fidelity pass and prediction read only them, so a
data file edited after training can never leak training items into a "held-out" split. Each line
is one normalized sample: {"messages", "source" (file:line or file:row N), "group", "meta"}, where meta holds
what the task's metrics need (a label, a reference, the writing template).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from tuneforge.data.formats import Sample
from tuneforge.data.sources import Source, is_hub, source_sha256
from tuneforge.errors import UserError
from tuneforge.files import atomic_folder, copy_folder_atomic, sha256_file

if TYPE_CHECKING:
    from tuneforge.recipe.schema import DataSection, Recipe

SPLITS = ("train", "val", "test")
SPLITS_DIR = "data"


def sample_line(sample: Sample) -> str:
    record = {"messages": sample.messages, "source": sample.source, "group": sample.group, "meta": sample.meta}
    return json.dumps(record, ensure_ascii=False) + "\n"


def write_split_files(folder: Path, splits: dict[str, list[Sample]]) -> None:
    """One JSONL file per split, written aside and renamed into place as a whole folder."""
    with atomic_folder(folder) as staging:
        for name in SPLITS:
            (staging / f"{name}.jsonl").write_text("".join(map(sample_line, splits.get(name, []))), encoding="utf-8")


def copy_split_files(source: Path, run_dir: Path) -> dict:
    """Copies a split folder into the run; returns the manifest entry (file, samples, sha256 per split)."""
    target = run_dir / SPLITS_DIR
    copy_folder_atomic(source, target)
    return {
        name: {
            "file": f"{SPLITS_DIR}/{name}.jsonl",
            "sha256": sha256_file(target / f"{name}.jsonl"),
            "samples": count_lines(target / f"{name}.jsonl"),
        }
        for name in SPLITS
    }


def count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


def read_split_file(path: Path) -> list[Sample]:
    samples = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            samples.append(Sample(record["messages"], record["source"], record["group"], record["meta"]))
    return samples


def read_run_split(run_dir: Path, manifest: dict, name: str) -> list[Sample]:
    """One split of a run, from its own file, checked against the sha256 in its manifest."""
    entries = manifest.get("data_splits")
    if entries is None:
        raise UserError(
            f"{run_dir} has no split files ({SPLITS_DIR}/*.jsonl): an older version of tuneforge trained it",
            fix=f"train it again with this version: tuneforge train {manifest.get('recipe', 'RECIPE')}",
        )
    path = run_dir / entries[name]["file"]
    if not path.is_file() or sha256_file(path) != entries[name]["sha256"]:
        raise UserError(
            f"{path}: missing or changed since training (sha256 differs from the manifest)",
            fix="restore the run folder from a copy, or train again",
        )
    return read_split_file(path)


def all_sources(data: DataSection) -> list[Source]:
    """Every source of the data (train, val, test), each once, in recipe order."""
    return list(dict.fromkeys(source for part in SPLITS for source in getattr(data, part)))


def changed_sources(recipe: Recipe, manifest: dict) -> list[str]:
    """The data sources (train, val and test files, folders, hub datasets) whose sha256 differs from the
    manifest's data report."""
    recorded = manifest.get("data", {}).get("files", {})
    problems = []
    for source in all_sources(recipe.data):
        if str(source) not in recorded:
            problems.append(f"{source}: not in the run's data report")
        elif (not is_hub(source) and not source.exists()) or source_sha256(source) != recorded[str(source)]:
            problems.append(f"{source}: changed since training (sha256 differs)")
    return problems
