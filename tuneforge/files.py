"""Writing files and folders so that a reader never sees half of one, and their checksums.

Every output of tuneforge (a run's adapter, an evaluation, an export, a cache entry) is written under a
temporary name next to its final place and renamed into place once complete: an interrupted write
leaves a hidden `.NAME.tmp-PID` behind, never a file or folder that looks finished.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def staging_path(final: Path) -> Path:
    """The temporary sibling that `final` is written under (hidden, and unique to this process)."""
    return final.with_name(f".{final.name}.tmp-{os.getpid()}")


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary name and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(path)
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


def write_json_atomic(path: Path, payload: dict) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")


@contextmanager
def atomic_folder(final: Path, keep: tuple[str, ...] = ()) -> Iterator[Path]:
    """Yield an empty staging folder; when the block succeeds, it replaces `final` (the entries named in
    `keep` move over from the old `final` first). When the block fails, the staging folder is removed
    and `final` is left as it was."""
    staging = staging_path(final)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for name in keep:
        if (final / name).exists() and not (staging / name).exists():
            (final / name).rename(staging / name)
    replace_folder(staging, final)


def replace_folder(source: Path, final: Path) -> None:
    """Put the folder `source` where `final` is, removing the old `final` (rename: same file system)."""
    if final.exists():
        retired = final.with_name(f".{final.name}.old-{os.getpid()}")
        shutil.rmtree(retired, ignore_errors=True)
        final.rename(retired)
        source.rename(final)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        source.rename(final)


def copy_folder_atomic(source: Path, final: Path) -> None:
    """A copy of the folder `source` at `final`, complete or not there at all."""
    with atomic_folder(final) as staging:
        shutil.copytree(source, staging, dirs_exist_ok=True)


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    """The file's sha256, read once per version of the file in this process: a training session hashes its
    data for the resume fingerprint and again for the data report, and an export checks the same weights
    more than once. A rewrite (in place or by rename) changes the size, mtime or inode, and is read again."""
    found = os.stat(path)
    return _sha256_of(os.path.realpath(path), found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, chunk)


@functools.lru_cache(maxsize=4096)
def _sha256_of(path: str, device: int, inode: int, size: int, mtime_ns: int, chunk: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_path(path: Path) -> str:
    """A file's sha256, or for a folder one over every file's relative name and sha256."""
    if path.is_file():
        return sha256_file(path)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    listing = "".join(f"{p.relative_to(path).as_posix()}\t{sha256_file(p)}\n" for p in files)
    return hashlib.sha256(listing.encode()).hexdigest()
