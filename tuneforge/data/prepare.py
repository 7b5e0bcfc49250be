"""Recipe data → filtered, split, tokenized datasets, with a report of every dropped sample.

The tokenized result is cached (Arrow, via `datasets`) under a key made of the data sources'
content (train, val and test), the data section, the tokenizer and the sequence length, so a re-run skips the work
and any change to those rebuilds it. The cache also keeps the split samples themselves
(splits/<split>.jsonl, tuneforge.data.splits), which training copies into the run folder.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tuneforge.data.formats import Sample
from tuneforge.data.sources import source_sha256
from tuneforge.data.splits import SPLITS, all_sources, write_split_files
from tuneforge.data.tokenize import dataset_features, encode_samples, tokenizer_fingerprint
from tuneforge.errors import ProblemCollector, UserError
from tuneforge.files import atomic_folder
from tuneforge.models import cache_root

if TYPE_CHECKING:
    from tuneforge.recipe.schema import DataSection

log = logging.getLogger(__name__)
SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}
CACHE_VERSION = 2  # bump when the cached layout changes (2: the split samples are kept too)


@dataclass
class DataReport:
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256
    loaded: int = 0
    filtered: Counter = field(default_factory=Counter)  # reason -> count of dropped samples
    truncated: Counter = field(default_factory=Counter)  # split -> count of samples cut to fit (kept)
    splits: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    split_files: Path | None = None  # the folder of the split samples' JSONL files (not part of the report)

    def to_json(self) -> dict:
        return {
            "files": self.files,
            "loaded": self.loaded,
            "filtered": dict(self.filtered),
            "kept": self.loaded - sum(self.filtered.values()),
            "truncated": dict(self.truncated),
            "splits": self.splits,
            "tokens": self.tokens,
        }


def read_parts(data: DataSection, report: DataReport) -> dict[str, list[Sample]]:
    """The samples of data.train, data.val and data.test (empty where no files are named), every malformed
    record of every source reported together (exit 2 if any)."""
    problems = ProblemCollector("the data has malformed records")
    parts = {
        part: [sample for source in getattr(data, part) for sample in data.read(source, problems)] for part in SPLITS
    }
    renamed = ", ".join(f"{field} <- {column}" for field, column in data.columns.items())
    problems.raise_if_any(
        fix=f"correct those records; the expected layout is the '{data.format}' format (see docs/data-formats.md)"
        + (f", after data.columns renames {renamed}" if renamed else "")
    )
    for part in SPLITS:
        if getattr(data, part) and not parts[part]:
            raise UserError(f"no {SPLIT_NAMES[part]} samples in {', '.join(map(str, getattr(data, part)))}")
    report.loaded = sum(map(len, parts.values()))
    return parts


def read_conversations(data: DataSection, report: DataReport) -> list[Sample]:
    """The training samples (every source of every part is read and checked, so problems come all at once)."""
    return read_parts(data, report)["train"]


def sample_key(sample: Sample) -> bytes:
    """What makes two samples the same, as a 16-byte digest (the set of every sample's key stays small). A
    preference prompt may come with several rejected replies: each pair is its own sample."""
    text = json.dumps([sample.messages, sample.meta.get("rejected")], sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def filter_samples(samples: list[Sample], data: DataSection, report: DataReport) -> list[Sample]:
    """Drop empty, too short, too long and duplicate conversations, counting each reason."""
    kept, seen = [], set()
    for sample in samples:
        reason = _rejection_reason(sample, data)
        key = sample_key(sample)
        if reason is None and key in seen:
            reason = "duplicate"
        if reason:
            report.filtered[reason] += 1
            continue
        seen.add(key)
        kept.append(sample)
    return kept


def _rejection_reason(sample: Sample, data: DataSection) -> str | None:
    if reason := data.rejection_reason(sample):
        return reason
    replies = [m["content"].strip() for m in sample.messages if m["role"] == "assistant"]
    if not replies:  # a prompt for GRPO (format: prompts): the model writes the replies
        return None
    if not all(replies):
        return "empty_response"
    if min(map(len, replies)) < data.filter.min_response_chars:
        return "response_shorter_than_min_chars"
    if data.filter.max_response_chars and max(map(len, replies)) > data.filter.max_response_chars:
        return "response_longer_than_max_chars"
    return None


def split_samples(samples: list[Sample], data: DataSection) -> dict[str, list[Sample]]:
    """Seeded shuffle, then carve off test and val; `subset` thins the train split only."""
    rng = random.Random(data.split.seed)
    shuffled, ends = _shuffled_groups(samples, rng)
    n_test = _at_group_end(_split_size(len(shuffled), data.split.test), ends, 0)
    n_val = _at_group_end(n_test + _split_size(len(shuffled), data.split.val), ends, n_test) - n_test
    splits = {"test": shuffled[:n_test], "val": shuffled[n_test : n_test + n_val], "train": shuffled[n_test + n_val :]}
    if data.subset < 1.0:
        splits["train"] = splits["train"][: max(1, round(len(splits["train"]) * data.subset))]
    if not splits["train"]:
        raise UserError(
            f"no samples left for training after the split ({len(samples)} kept)",
            fix="add data or lower data.split.val / data.split.test",
        )
    return splits


def carve_splits(data: DataSection, report: DataReport) -> dict[str, list[Sample]]:
    """Read, filter and split: the seeded random split of the training data, where data.val / data.test
    files (filtered the same way, without the records that are also training records) take the place of
    their part's fraction."""
    parts = read_parts(data, report)
    train = filter_samples(parts["train"], data, report)
    splits = split_samples(train, data)
    held_out_files = [part for part in ("val", "test") if getattr(data, part)]
    train_keys = {sample_key(sample) for sample in train} if held_out_files else set()
    for part in held_out_files:
        splits[part] = _held_out_file_samples(parts[part], train_keys, data, report, part)
    return splits


def _held_out_file_samples(
    samples: list[Sample], train_keys: set[bytes], data: DataSection, report: DataReport, part: str
) -> list[Sample]:
    """A val/test file's samples, filtered, minus those a training record repeats (a model is not evaluated
    on what it trained on), in a seeded shuffle: an evaluation's max_samples then takes a random subset,
    not the file's first records (files are often sorted by label, source or date)."""
    kept = filter_samples(samples, data, report)
    random.Random(f"{data.split.seed}:{part}").shuffle(kept)
    unique = [sample for sample in kept if sample_key(sample) not in train_keys]
    if len(unique) < len(kept):
        report.filtered["duplicate_of_train"] += len(kept) - len(unique)
        log.warning(
            "data.%s: dropped %d of its %d records, identical to training records (duplicate_of_train in the "
            "data report)",
            part,
            len(kept) - len(unique),
            len(kept),
        )
    if not unique:
        raise UserError(
            f"data.{part}: no {SPLIT_NAMES[part]} samples left after the filter and the removal of records "
            f"that the training data repeats ({len(samples)} read)",
            fix=f"name {SPLIT_NAMES[part]} files that hold records of their own",
        )
    return unique


def _shuffled_groups(samples: list[Sample], rng: random.Random) -> tuple[list[Sample], list[int]]:
    """Seeded shuffle that keeps each `group` together (no split sees text of another split's
    article); returns the samples and the index after each group. Ungrouped samples are each their
    own group, so data without groups is shuffled exactly as before."""
    if all(sample.group is None for sample in samples):
        shuffled = samples[:]
        rng.shuffle(shuffled)
        return shuffled, list(range(1, len(shuffled) + 1))
    groups: dict[str, list[Sample]] = {}
    for index, sample in enumerate(samples):
        groups.setdefault(sample.group if sample.group is not None else f"\0{index}", []).append(sample)
    order = list(groups.values())
    rng.shuffle(order)
    return [sample for group in order for sample in group], list(itertools.accumulate(map(len, order)))


def _at_group_end(count: int, ends: list[int], start: int) -> int:
    """The group boundary nearest to `count` samples, past `start` when the split is not empty
    (a split takes whole groups; ungrouped samples end a group each, so this is `count` itself)."""
    later = [end for end in ends if end > start]
    return start if count <= start or not later else min(later, key=lambda end: abs(end - count))


def _split_size(total: int, fraction: float) -> int:
    return 0 if fraction == 0 else max(1, round(total * fraction))


def cache_key(data: DataSection, tokenizer, max_seq_length: int, report: DataReport) -> str:
    parts = {
        "version": CACHE_VERSION,
        "files": report.files,
        "max_seq_length": max_seq_length,
        "data": data.model_dump(mode="json", exclude={"train"}),
        "tokenizer": tokenizer_fingerprint(tokenizer),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def prepare_datasets(data: DataSection, tokenizer, max_seq_length: int):
    """Return ({split: datasets.Dataset}, DataReport), from the cache when nothing changed. The
    report's split_files names the folder of the split samples (copied into the run by training)."""
    report = DataReport(files={str(source): source_sha256(source) for source in all_sources(data)})
    folder = cache_root() / "datasets" / cache_key(data, tokenizer, max_seq_length, report)
    if (folder / "report.json").is_file():
        log.info("tokenized data from cache %s", folder)
        report = _load_report(folder / "report.json")
        report.split_files = folder / "splits"
        return {split: _load_split(folder / split) for split in SPLITS}, report
    splits = carve_splits(data, report)
    datasets = encode_splits(splits, tokenizer, data, max_seq_length, report)
    if len(datasets["train"]) == 0:
        raise UserError(
            "every training sample was dropped while tokenizing",
            [json.dumps(report.to_json())],
            fix="raise model.max_seq_length or set data.filter.overlength: truncate",
        )
    _write_cache(folder, datasets, report, splits)
    report.split_files = folder / "splits"
    return datasets, report


def encode_splits(
    splits: dict[str, list[Sample]], tokenizer, data: DataSection, max_seq_length: int, report: DataReport | None = None
) -> dict:
    """{split: datasets.Dataset} of split samples (a run's own, or freshly carved)."""
    report = report or DataReport()
    return {
        name: encode_samples(samples, tokenizer, data, max_seq_length, report, name) for name, samples in splits.items()
    }


def _write_cache(folder: Path, datasets: dict, report: DataReport, splits: dict[str, list[Sample]]) -> None:
    with atomic_folder(folder) as staging:
        for name, dataset in datasets.items():
            if len(dataset):  # datasets cannot load an empty split back from disk; absent means empty
                dataset.save_to_disk(str(staging / name))
        write_split_files(staging / "splits", splits)
        (staging / "report.json").write_text(json.dumps(report.to_json(), indent=2))


def _load_split(folder: Path):
    from datasets import Dataset, load_from_disk

    if folder.is_dir():
        return load_from_disk(str(folder))
    features = dataset_features()
    return Dataset.from_dict({name: [] for name in features}, features=features)


def _load_report(path: Path) -> DataReport:
    raw = json.loads(path.read_text())
    return DataReport(
        files=raw["files"],
        loaded=raw["loaded"],
        filtered=Counter(raw["filtered"]),
        truncated=Counter(raw["truncated"]),
        splits=raw["splits"],
        tokens=raw["tokens"],
    )
