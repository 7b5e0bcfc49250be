"""Runs one of llama.cpp's converters in a child process that imports before it is needed.

    python -m tuneforge.export.convert_worker SCRIPT [WARM_MODEL_DIR]  < '["model_dir", "--outfile", ...]'

Three quarters of a conversion of the embedded model is imports (torch, transformers and the
model-specific config modules that AutoConfig pulls in lazily; about 5 s on 2 cores), so the
export starts this child before it merges the adapter: the imports overlap the merge. The child
then reads the converter's arguments as a JSON list from stdin and runs the script as `__main__`,
exactly as `python SCRIPT ARGS` would, with the modules already loaded.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path


def preload(script: Path, warm_model_dir: str | None) -> None:
    """The converter's imports, with sys.path as the script sets it (its folder for `conversion`,
    then its bundled gguf-py unless NO_LOCAL_GGUF is set, as the script itself does)."""
    sys.path.insert(0, str(script.parent))
    if "NO_LOCAL_GGUF" not in os.environ:
        sys.path.insert(1, str(script.parent / "gguf-py"))
    import conversion  # noqa: F401 (imports torch, transformers and gguf)

    if warm_model_dir:
        import contextlib

        from transformers import AutoConfig

        # Only a warm-up: loads the config module of the architecture about to be converted.
        with contextlib.suppress(OSError, ValueError, KeyError):
            AutoConfig.from_pretrained(warm_model_dir)


def main() -> None:
    script = Path(sys.argv[1])
    preload(script, sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None)
    arguments = json.loads(sys.stdin.read() or "null")
    if arguments is None:  # the export did not need this converter after all (stdin closed)
        return
    sys.argv = [str(script), *arguments]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
