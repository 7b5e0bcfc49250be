"""Where the records of every record-based format come from, and the one reader they all share.

A source (an entry of data.train, data.val or data.test) is one of:
- a JSON lines file (`.jsonl`, `.ndjson`), read here in one streaming pass, line by line;
- a JSON file (`.json`) holding a list of records (parsed whole: a JSON array cannot be streamed);
- a `.parquet`, `.csv` or `.tsv` file, streamed through the `datasets` library;
- a folder written by `datasets`' `save_to_disk` (memory-mapped); for a DatasetDict folder,
  `folder:split` picks a split (it resolves to the split's own folder, `folder/split`);
- `hub:owner/name` or `hub:owner/name:split`, a dataset repository of the Hugging Face Hub, taken from
  the local cache (downloaded only when the machine is online, like a hub model).

`read_records` yields (where, record): where is "file:N" for line N of a JSON lines file, "file:item N"
for a JSON list, and "source:row N" (counted from 1, a CSV header is not a row) for the rest. The
recipe's `data.columns` renames the user's columns to the format's field names before any format reads
a record. Local sources are checked when the recipe is validated (`resolve_source`; a finished run's
recipe only resolves them); hub sources when they are read (the cache may change between the two).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tuneforge.errors import ProblemCollector, UserError
from tuneforge.files import sha256_path
from tuneforge.models import hub_snapshot

JSON_LINES = (".jsonl", ".ndjson")
TABULAR = {".parquet": "parquet", ".csv": "csv", ".tsv": "csv"}  # suffix -> the datasets builder
SUFFIXES = (*JSON_LINES, ".json", *TABULAR)
HUB_PREFIX = "hub:"
HUB_ID = re.compile(r"hub:(?P<repo>[\w.-]+(?:/[\w.-]+)?)(?::(?P<split>[\w.-]+))?")
DATASET_FILES = ("dataset_info.json", "state.json")  # what save_to_disk writes for one Dataset
DATASET_DICT_FILE = "dataset_dict.json"  # ... and for a DatasetDict, beside one folder per split
MAX_LISTED = 10  # records listed for one repeated problem of a source; the rest are counted
SPLIT_SYNTAX = "name a split as FOLDER:SPLIT (or hub:owner/name:SPLIT)"

Source = Path | str  # a local file or save_to_disk folder, or a "hub:owner/name[:split]" id


def is_hub(source: Source) -> bool:
    return isinstance(source, str)


# ---------------------------------------------------------------- validation (recipe load)


def resolve_source(value: Any, base_dir: Path, must_exist: bool = True) -> Source:
    """A recipe entry as a source: a hub id (syntax checked), or an existing local file or folder that
    one of the readers reads (resolved against the recipe's folder). ValueError says what is wrong.
    `must_exist` False: only resolved (a finished run's recipe names what it was trained on, which may be
    gone since; the run holds its own copy of the samples)."""
    text = str(value)
    if text.startswith(HUB_PREFIX):
        if not HUB_ID.fullmatch(text):
            raise ValueError(f"{text!r} is not a hub dataset id; write hub:owner/name or hub:owner/name:split")
        return text
    path = Path(text).expanduser()
    path = (path if path.is_absolute() else base_dir / path).resolve()
    if not must_exist:
        return path
    if path.is_file():
        return _readable_file(path)
    if path.is_dir():
        return _dataset_folder(path)
    folder, colon, split = str(path).rpartition(":")
    if colon and (Path(folder) / DATASET_DICT_FILE).is_file():
        return _dict_split(Path(folder), split)
    raise ValueError(f"file not found: {path}")


def _readable_file(path: Path) -> Path:
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(
            f"{path}: unsupported file type {path.suffix or '(no extension)'!r}; "
            f"the readers take {', '.join(SUFFIXES)} files and datasets' save_to_disk folders"
        )
    return path


def _dataset_folder(path: Path) -> Path:
    if all((path / name).is_file() for name in DATASET_FILES):
        return path
    if (path / DATASET_DICT_FILE).is_file():
        raise ValueError(
            f"{path} holds a DatasetDict with the splits {', '.join(dict_splits(path))}; {SPLIT_SYNTAX}, "
            f"e.g. {path}:{dict_splits(path)[0]}"
        )
    raise ValueError(f"{path} is a folder, but not one written by datasets' save_to_disk (no {DATASET_FILES[0]})")


def _dict_split(folder: Path, split: str) -> Path:
    splits = dict_splits(folder)
    if split not in splits:
        raise ValueError(f"{folder} has no split {split!r}; its splits: {', '.join(splits)}")
    return folder / split  # save_to_disk writes each split as a Dataset folder of its own


def dict_splits(folder: Path) -> list[str]:
    return list(json.loads((folder / DATASET_DICT_FILE).read_text(encoding="utf-8"))["splits"])


# ---------------------------------------------------------------- reading


def read_records(
    source: Source, problems: ProblemCollector, columns: dict[str, str] | None = None
) -> Iterator[tuple[str, dict]]:
    """Yield (where, record) for every record of a source, renamed by `columns` ({field: column});
    every problem goes to `problems` (the caller reports them together)."""
    lacking = 0  # records without a mapped column: in a table that is every row, so only the first few are listed
    for where, record in _raw_records(source, problems):
        if not isinstance(record, dict):
            problems.add(f"{where}: expected a JSON object, got {type(record).__name__}")
        elif not columns:
            yield where, record
        elif missing := [column for column in columns.values() if column not in record]:
            lacking += 1
            if lacking <= MAX_LISTED:
                problems.add(missing_columns(where, record, missing, columns))
        else:
            kept = {key: value for key, value in record.items() if key not in columns.values()}
            yield where, kept | {field: record[column] for field, column in columns.items()}
    if lacking > MAX_LISTED:
        problems.add(f"{source}: {lacking - MAX_LISTED} more records lack a column that data.columns names")


def missing_columns(where: str, record: dict, missing: list[str], columns: dict[str, str]) -> str:
    fields = {column: field for field, column in columns.items()}
    named = ", ".join(f"{column!r} (data.columns.{fields[column]})" for column in missing)
    return f"{where}: no column {named}; the record has {', '.join(map(repr, list(record)[:12])) or 'none'}"


def _raw_records(source: Source, problems: ProblemCollector) -> Iterator[tuple[str, Any]]:
    if not is_hub(source) and not source.exists():  # validated when the recipe loaded, gone since
        problems.add(f"{source}: not found")
        return iter(())
    if is_hub(source) or source.is_dir() or source.suffix.lower() in TABULAR:
        return _dataset_rows(source, problems)
    if source.suffix.lower() == ".json":
        return _json_array(source, problems)
    return _json_lines(source, problems)


def _json_lines(path: Path, problems: ProblemCollector) -> Iterator[tuple[str, Any]]:
    """One pass over the bytes, one line in memory at a time (a file of any size reads in bounded memory)."""
    empty = True
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            empty = False
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                problems.add(f"{path}:{number}: not valid UTF-8 ({exc.reason}); re-save the file as UTF-8")
                continue
            try:
                yield f"{path}:{number}", json.loads(line)
            except json.JSONDecodeError as exc:
                problems.add(f"{path}:{number}: invalid JSON ({exc.msg} at column {exc.colno})")
    if empty:
        problems.add(f"{path}: the file is empty")


def read_utf8(path: Path, problems: ProblemCollector, encoding: str = "utf-8") -> str | None:
    """The file's text, or None with a file:line problem where it is not valid UTF-8."""
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        problems.add(f"{path}:{line}: not valid UTF-8 ({exc.reason}); re-save the file as UTF-8")
        return None


def _json_array(path: Path, problems: ProblemCollector) -> Iterator[tuple[str, Any]]:
    text = read_utf8(path, problems)
    if text is None:
        return
    if not text.strip():
        problems.add(f"{path}: the file is empty")
        return
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.add(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})")
        return
    if not isinstance(items, list):
        problems.add(f"{path}: a .json data file must hold a list of records")
        return
    yield from ((f"{path}:item {index}", item) for index, item in enumerate(items))


def _dataset_rows(source: Source, problems: ProblemCollector) -> Iterator[tuple[str, Any]]:
    """Rows of a Parquet/CSV/TSV file, a save_to_disk folder or a hub dataset, through `datasets`."""
    dataset = open_dataset(source, problems)
    if dataset is None:
        return
    rows = 0
    try:
        for rows, row in enumerate(dataset, start=1):  # noqa: B007 - `rows` counts what was read
            yield f"{source}:row {rows}", row
    except Exception as exc:  # noqa: BLE001 - pyarrow/pandas parse errors: the file is malformed
        problems.add(f"{source}: unreadable after row {rows}: {type(exc).__name__}: {_first_line(exc)}")
        return
    if rows == 0:
        problems.add(f"{source}: holds no rows")


def open_dataset(source: Source, problems: ProblemCollector):
    """An iterable of row dicts (a streaming IterableDataset, or a memory-mapped Dataset); None with a
    problem when the source cannot be opened."""
    try:
        if is_hub(source):
            return _hub_dataset(source, problems)
        if source.is_dir():
            from datasets import load_from_disk

            return load_from_disk(str(source))
        return _tabular_file(source)
    except Exception as exc:  # noqa: BLE001 - a corrupt file or folder is the user's to fix, named here
        if isinstance(exc, UserError):
            raise
        problems.add(f"{source}: cannot be read: {type(exc).__name__}: {_first_line(exc)}")
        return None


def _tabular_file(path: Path):
    from datasets import load_dataset

    builder = TABULAR[path.suffix.lower()]
    options: dict[str, Any] = {}
    if builder == "csv":
        # Only an empty cell is missing: pandas would otherwise read the texts "NA", "null" or "None" as missing.
        options = {"sep": "\t" if path.suffix.lower() == ".tsv" else ",", "keep_default_na": False, "na_values": [""]}
    return load_dataset(builder, data_files=str(path), split="train", streaming=True, **options)


def _hub_dataset(source: str, problems: ProblemCollector):
    from datasets import load_dataset

    match = HUB_ID.fullmatch(source)
    folder = hub_dataset_folder(match["repo"])
    splits = load_dataset(str(folder), streaming=True)  # the data files of the cached snapshot
    split = match["split"] or (next(iter(splits)) if len(splits) == 1 else None)
    if split not in splits:
        wanted = f"has no split {split!r}" if split else "has several splits"
        example = f"{HUB_PREFIX}{match['repo']}:{next(iter(splits))}"
        problems.add(f"{source}: {wanted}; its splits: {', '.join(splits)} ({SPLIT_SYNTAX}, e.g. {example})")
        return None
    return splits[split]


def hub_dataset_folder(repo_id: str) -> Path:
    """The dataset repository's snapshot in the local Hugging Face cache, by the rule a hub model follows."""
    fix = (
        f"on a machine with network run `hf download --repo-type dataset {repo_id}` (or set HF_HOME to a "
        f"cache that has it), or point the data at a local file"
    )
    return hub_snapshot(repo_id, fix, repo_type="dataset")


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


# ---------------------------------------------------------------- identity


def source_sha256(source: Source) -> str:
    """The source's content hash for the data report and the tokenized cache key (a folder's: over its files)."""
    if is_hub(source):
        return sha256_path(hub_dataset_folder(HUB_ID.fullmatch(source)["repo"]))
    return sha256_path(source)
