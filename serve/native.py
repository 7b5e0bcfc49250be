"""llama.cpp's own `llama-server`, built once at setup from the pinned llama-cpp-python sdist.

    python -m tuneforge.serve.native          # (make setup runs it) build, or find the cached build

The source is the sdist's vendor/llama.cpp, the same tree the in-process quantizer and the
converter come from, fetched through pip; nothing is cloned and nothing is downloaded at build
time (the web UI, its prebuilt download and HTTPS are off). The binary is cached under the
tuneforge cache in a folder keyed by the pinned version, the build flags, the compiler and the
CPU's feature flags (the build uses every instruction this CPU has, so a cache shared with another
CPU must not hand it a binary it cannot run), so a second setup on the same machine finds it at once. A machine where
it cannot be built serves with llama-cpp-python's server instead (`tuneforge serve --help`).

`TUNEFORGE_LLAMA_SERVER=/path/to/llama-server` serves with a binary of the user's own (a CUDA
build, say) instead of the cached one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from tuneforge.files import atomic_folder, sha256_file
from tuneforge.llamacpp_sdist import LLAMA_CPP_PYTHON, download_sdist
from tuneforge.models import cache_root
from tuneforge.serve.llamacpp import cpu_flags

log = logging.getLogger(__name__)
RECORD = "tuneforge-llama-server.json"
ENV_BINARY = "TUNEFORGE_LLAMA_SERVER"
# Static, server only, no web UI (its prebuilt assets would be downloaded), no OpenSSL (plain HTTP on
# loopback, like every backend here), native CPU kernels for this machine.
CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_SERVER=ON",
    "-DLLAMA_BUILD_TOOLS=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_APP=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DGGML_NATIVE=ON",
    "-DGGML_CCACHE=OFF",
]


@functools.cache  # a subprocess; serve looks the build up at every start
def compiler_identity() -> str:
    try:
        return subprocess.run(["c++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "no c++ compiler"


def build_key() -> str:
    machine = [os.uname().machine, sorted(cpu_flags())]  # -DGGML_NATIVE builds for this CPU's instructions
    text = json.dumps([LLAMA_CPP_PYTHON, CMAKE_FLAGS, compiler_identity(), *machine])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def native_dir() -> Path:
    return cache_root() / f"llama-server-{LLAMA_CPP_PYTHON}-{build_key()}"


def cached_binary(folder: Path) -> Path | None:
    """The cached llama-server if its record is there and the binary still matches it."""
    record = folder / RECORD
    if not record.is_file():
        return None
    binary = folder / "llama-server"
    expected = json.loads(record.read_text())["sha256"]
    return binary if binary.is_file() and sha256_file(binary) == expected else None


def find_native_server() -> Path | None:
    """The llama-server to serve with, or None (then llama-cpp-python's server is used)."""
    own = os.environ.get(ENV_BINARY)
    if own:
        return Path(own)
    return cached_binary(native_dir())


def extract_llama_cpp(sdist: Path, destination: Path) -> Path:
    prefix = f"{sdist.name.removesuffix('.tar.gz')}/vendor/llama.cpp/"
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(prefix)]
        for member in members:
            member.name = member.name.removeprefix(prefix)
        archive.extractall(destination, members=[m for m in members if m.name], filter="data")
    return destination


def run_build(source: Path, build: Path, log_file: Path, jobs: int) -> None:
    """cmake configure + build of the llama-server target, with a progress bar from cmake's [ NN%]."""
    from rich.progress import Progress

    with open(log_file, "w") as output:
        subprocess.run(
            ["cmake", "-S", str(source), "-B", str(build), *CMAKE_FLAGS],
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
        )
        with Progress(transient=True) as progress:
            task = progress.add_task(f"building llama-server ({jobs} jobs)", total=100)
            process = subprocess.Popen(
                ["cmake", "--build", str(build), "--target", "llama-server", "-j", str(jobs)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for line in process.stdout:
                output.write(line)
                done = re.match(r"\[\s*(\d+)%\]", line)
                if done:
                    progress.update(task, completed=int(done.group(1)))
            if process.wait():
                raise subprocess.CalledProcessError(process.returncode, "cmake --build")


def build(jobs: int | None = None) -> Path:
    """Build llama-server into the cache (idempotent); returns the binary's path."""
    folder = native_dir()
    binary = cached_binary(folder)
    if binary:
        return binary
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed")
    jobs = jobs or len(os.sched_getaffinity(0))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tuneforge-llama-server-") as tmp:
        sdist = download_sdist(Path(tmp))
        source = extract_llama_cpp(sdist, Path(tmp) / "llama.cpp")
        log_file = cache_root() / "llama-server-build.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log.info("building llama.cpp's server from %s (about 7 minutes on 2 cores; log: %s)", sdist.name, log_file)
        try:
            run_build(source, Path(tmp) / "build", log_file, jobs)
        except subprocess.CalledProcessError as error:
            tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(f"{error.cmd} failed (exit {error.returncode}):\n{tail}") from None
        with atomic_folder(folder) as staging:  # the record and binary appear together, never half a build
            shutil.copy2(Path(tmp) / "build" / "bin" / "llama-server", staging / "llama-server")
            record = build_record(sdist, jobs, started, staging / "llama-server")
            (staging / RECORD).write_text(json.dumps(record, indent=2) + "\n")
    log.info("llama-server built in %.0f s: %s", record["build_seconds"], folder / "llama-server")
    return folder / "llama-server"


def build_record(sdist: Path, jobs: int, started: float, binary: Path) -> dict:
    """What the cached binary was built from, and its sha256 (cached_binary checks it at every start)."""
    return {
        "llama_cpp_python": LLAMA_CPP_PYTHON,
        "sdist": sdist.name,
        "sdist_sha256": sha256_file(sdist),
        "cmake_flags": CMAKE_FLAGS,
        "compiler": compiler_identity(),
        "jobs": jobs,
        "build_seconds": round(time.perf_counter() - started, 1),
        "sha256": sha256_file(binary),
    }


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        print(build())  # noqa: T201 (the script's output: the binary's path, for setup.sh)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
        log.error(
            "llama-server could not be built: %s\ntuneforge serve will use llama-cpp-python's server "
            "(one request at a time).",
            error,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
