"""llama-cpp-python's pinned source distribution, fetched through pip.

Its vendor/llama.cpp is the one source of llama.cpp's HF->GGUF converter (tuneforge.export.converter) and
of the one llama.cpp build for llama-server and llama-cpp-python (tuneforge.serve.native); nothing of llama.cpp
is kept in this repository.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LLAMA_CPP_PYTHON = "0.3.36"  # keep equal to the pin in scripts/setup.sh


def download_sdist(folder: Path) -> Path:
    """llama-cpp-python's pinned sdist, through pip (its HTTP cache makes a second download cheap).
    Its vendor/llama.cpp is the one source of the converter and of the native server."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"llama-cpp-python=={LLAMA_CPP_PYTHON}",
            "-d",
            str(folder),
        ],
        check=True,
    )
    (sdist,) = Path(folder).glob("llama_cpp_python-*.tar.gz")
    return sdist
