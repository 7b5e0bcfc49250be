"""The exact train/val/test samples of a run, as JSONL files in its folder (RUN/data/<split>.jsonl).

Training writes them; evaluation, the export fidelity pass and prediction read only them, so a
data file edited after training can never leak training items into a "held-out" split. Each line
is one normalized sample: {"messages", "source" (file:line or file:row N), "group", "meta"}, where meta holds
what the task's metrics need (a label, a reference, the writing template).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from tuneforge.data.formats import Sample
from tuneforge.errors import UserError

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")
SPLITS_DIR = "data"


def sample_line(sample: Sample) -> str:
    record = {"messages": sample.messages, "source": sample.source, "group": sample.group, "meta": sample.meta}
    return json.dumps(record, ensure_ascii=False) + "\n"


def write_split_files(folder: Path, splits: dict[str, list[Sample]]) -> None:
    """One JSONL file per split, written aside and renamed into place as a whole folder."""
    staging = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in SPLITS:
        (staging / f"{name}.jsonl").write_text("".join(map(sample_line, splits.get(name, []))), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)


def copy_split_files(source: Path, run_dir: Path) -> dict:
    """Copies a split folder into the run; returns the manifest entry (file, samples, sha256 per split)."""
    from tuneforge.models import sha256_file

    target = run_dir / SPLITS_DIR
    staging = run_dir / f".{SPLITS_DIR}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
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


def run_splits(run_dir: Path, recipe, manifest: dict) -> dict[str, list[Sample]]:
    """The run's own splits, checked against the sha256 in its manifest. A run made before runs carried
    their splits gets them recomputed from the source data, only while those files are unchanged."""
    from tuneforge.models import sha256_file

    entries = manifest.get("data_splits")
    if entries is None:
        return recomputed_splits(run_dir, recipe, manifest)
    splits = {}
    for name, entry in entries.items():
        path = run_dir / entry["file"]
        if not path.is_file() or sha256_file(path) != entry["sha256"]:
            raise UserError(
                f"{path}: missing or changed since training (sha256 differs from the manifest)",
                fix="restore the run folder from a copy, or train again",
            )
        splits[name] = read_split_file(path)
    return splits


def recomputed_splits(run_dir: Path, recipe, manifest: dict) -> dict[str, list[Sample]]:
    from tuneforge.data.prepare import split_as_trained

    changed = changed_sources(recipe, manifest)
    if changed:
        raise UserError(
            f"{run_dir} has no split files ({SPLITS_DIR}/*.jsonl), and its training data changed since "
            "training, so its held-out split cannot be rebuilt",
            changed,
            fix="restore the data files as they were, or train again (new runs carry their splits)",
        )
    log.warning("%s has no split files; recomputing the split from the unchanged source data", run_dir)
    return split_as_trained(recipe.data)


def changed_sources(recipe, manifest: dict) -> list[str]:
    """The data sources (train, val and test files, folders, hub datasets) whose sha256 differs from the
    manifest's data report."""
    from tuneforge.data.prepare import all_sources
    from tuneforge.data.sources import is_hub, source_sha256

    recorded = manifest.get("data", {}).get("files", {})
    problems = []
    for source in all_sources(recipe.data):
        if str(source) not in recorded:
            problems.append(f"{source}: not in the run's data report")
        elif (not is_hub(source) and not source.exists()) or source_sha256(source) != recorded[str(source)]:
            problems.append(f"{source}: changed since training (sha256 differs)")
    return problems
