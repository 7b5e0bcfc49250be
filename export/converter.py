"""llama.cpp's own HF→GGUF converter, fetched once through the package registry.

The converter (convert_hf_to_gguf.py, its `conversion` package, convert_lora_to_gguf.py and
gguf-py) ships in llama-cpp-python's source distribution but not in its wheel. `make setup`
runs `python -m tuneforge.export.converter`, which downloads that sdist with pip (the version
the project pins), extracts only those files into the tuneforge cache, and records their
sha256. Export then runs it offline; nothing is cloned or built at export time, and no
llama.cpp code lives in this repository.
"""

from __future__ import annotations

import json
import logging
import tarfile
import tempfile
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.files import copy_folder_atomic, sha256_file
from tuneforge.llamacpp_sdist import LLAMA_CPP_PYTHON, download_sdist
from tuneforge.models import cache_root

log = logging.getLogger(__name__)
WANTED = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "conversion/", "gguf-py/")
RECORD = "tuneforge-converter.json"


def converter_dir() -> Path:
    return cache_root() / f"llama.cpp-from-llama-cpp-python-{LLAMA_CPP_PYTHON}"


def converter_script(name: str = "convert_hf_to_gguf.py") -> Path:
    """The extracted converter, checked against its record; a clear error if setup did not fetch it."""
    folder = converter_dir()
    record = folder / RECORD
    if not record.is_file():
        raise UserError(
            f"llama.cpp's converter is not in {folder}",
            fix="run `make setup` (it fetches llama-cpp-python's sdist through pip once)",
        )
    expected = json.loads(record.read_text())["files"]
    if sha256_file(folder / name) != expected[name]:
        raise UserError(
            f"{folder / name} does not match its recorded sha256", fix=f"delete {folder} and run `make setup` again"
        )
    return folder / name


def fetch() -> Path:
    """Download the sdist with pip and extract the converter files (idempotent)."""
    folder = converter_dir()
    if (folder / RECORD).is_file():
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        sdist = download_sdist(Path(tmp))
        staging = Path(tmp) / "converter"
        extract_converter(sdist, staging)
        files = {str(p.relative_to(staging)): sha256_file(p) for p in sorted(staging.rglob("*")) if p.is_file()}
        (staging / RECORD).write_text(json.dumps({"source": sdist.name, "files": files}, indent=2))
        copy_folder_atomic(staging, folder)
    return folder


def extract_converter(sdist: Path, destination: Path) -> None:
    prefix = f"{sdist.name.removesuffix('.tar.gz')}/vendor/llama.cpp/"
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            relative = member.name.removeprefix(prefix)
            if member.isfile() and member.name.startswith(prefix) and relative.startswith(WANTED):
                member.name = relative
                archive.extract(member, destination, filter="data")


if __name__ == "__main__":
    print(fetch())  # noqa: T201 (the script's output: the converter's path, for shell callers)
