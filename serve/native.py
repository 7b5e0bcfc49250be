"""llama.cpp built once at setup: llama-server and the shared libraries llama-cpp-python loads.

    python -m tuneforge.serve.native          # (make setup runs it) build, or find the cached build,
                                              # and point this venv's llama-cpp-python at it

The source is the pinned llama-cpp-python sdist's vendor/llama.cpp, fetched through pip; nothing is
cloned and nothing is downloaded at build time (the web UI, its prebuilt download and HTTPS are off).
One cmake build makes llama-server and the libraries it links (libllama, libggml*, libmtmd: the
multimodal library) as shared objects that find each other beside them ($ORIGIN). Setup installs
llama-cpp-python without compiling anything (CMAKE_ARGS=-DLLAMA_BUILD=OFF), and a .pth file in the venv
(PTH_FILE, run by Python at every start) sets LLAMA_CPP_LIB_PATH and MTMD_CPP_LIB to this folder, so
`import llama_cpp` anywhere in the venv (the in-process quantizer and evaluator, `python -m` servers, the
tests, a user's own `python -c "import llama_cpp"`) loads the very libllama that llama-server runs on: one
ABI by construction. A variable set by the user wins.

The build is cached under the tuneforge cache in a folder keyed by the pinned version, the build flags,
the compiler and the CPU's feature flags (the build uses every instruction this CPU has, so a cache
shared with another CPU must not hand it a binary it cannot run), so a second setup on the same machine
finds it at once. Where an NVIDIA GPU and CUDA's nvcc are present it is a CUDA build (GGML_CUDA, for
this GPU's architecture only), so both llama-server and llama-cpp-python run on the GPU. A machine where
it cannot be built gets the slower path from setup: llama-cpp-python compiles its own copy, and serving
uses llama-cpp-python's server (`tuneforge serve --help`).

`TUNEFORGE_LLAMA_SERVER=/path/to/llama-server` serves with a binary of the user's own instead of the
cached one.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import sysconfig
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
# Shared libraries beside the server ($ORIGIN, so the folder can move into the cache), server and tools
# only, no web UI (its prebuilt assets would be downloaded), no OpenSSL (plain HTTP on loopback, like
# every backend here), native CPU kernels for this machine.
CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=ON",
    "-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON",
    "-DCMAKE_INSTALL_RPATH=$ORIGIN",
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
# Only where a GPU is there to run it: untested on the CPU machines this suite is built on.
CUDA_FLAGS = ["-DGGML_CUDA=ON", "-DCMAKE_CUDA_ARCHITECTURES=native"]
# llama-server, and what llama-cpp-python loads: libllama (with libggml*, its dependencies) and libmtmd.
TARGETS = ["llama-server", "llama", "mtmd"]
PTH_FILE = "tuneforge-llama-cpp.pth"


@functools.cache  # nvidia-smi is a subprocess; serve looks the build up at every start
def has_cuda() -> bool:
    """An NVIDIA GPU (nvidia-smi lists one) and CUDA's compiler: then the build is a CUDA build."""
    if not (shutil.which("nvcc") and shutil.which("nvidia-smi")):
        return False
    listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    return listed.returncode == 0 and "GPU" in listed.stdout


def build_flags() -> list[str]:
    return CMAKE_FLAGS + (CUDA_FLAGS if has_cuda() else [])


@functools.cache  # a subprocess; serve looks the build up at every start
def compiler_identity() -> str:
    try:
        return subprocess.run(["c++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "no c++ compiler"


def build_key() -> str:
    machine = [os.uname().machine, sorted(cpu_flags())]  # -DGGML_NATIVE builds for this CPU's instructions
    text = json.dumps([LLAMA_CPP_PYTHON, build_flags(), compiler_identity(), *machine])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def native_dir() -> Path:
    return cache_root() / f"llama-cpp-{LLAMA_CPP_PYTHON}-{build_key()}"


def cached_binary(folder: Path) -> Path | None:
    """The cached llama-server if its record is there and every file still matches it."""
    record = folder / RECORD
    if not record.is_file():
        return None
    files = json.loads(record.read_text()).get("files", {})
    intact = files and all(
        (folder / name).is_file() and sha256_file(folder / name) == digest for name, digest in files.items()
    )
    return folder / "llama-server" if intact else None


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
    """cmake configure + build of TARGETS into LOG_FILE, with a progress bar from cmake's [ NN%] on a terminal."""
    with open(log_file, "w") as output:
        subprocess.run(
            ["cmake", "-S", str(source), "-B", str(build), *build_flags()],
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
        )
        process = subprocess.Popen(
            ["cmake", "--build", str(build), "--target", *TARGETS, "-j", str(jobs)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        with build_progress(f"building llama.cpp ({jobs} jobs)") as show:
            for line in process.stdout:
                output.write(line)
                done = re.match(r"\[\s*(\d+)%\]", line)
                if done:
                    show(int(done.group(1)))
        if process.wait():
            raise subprocess.CalledProcessError(process.returncode, "cmake --build")


@contextlib.contextmanager
def build_progress(label: str):
    """A progress bar on a terminal; nothing where the output is a log (setup starts the build before the
    training stack, and rich with it, is installed)."""
    if not sys.stdout.isatty():
        yield lambda percent: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task(label, total=100)
        yield lambda percent: progress.update(task, completed=percent)


def build(jobs: int | None = None) -> Path:
    """Build llama.cpp into the cache (idempotent); returns the folder of llama-server and its libraries."""
    folder = native_dir()
    if cached_binary(folder):
        return folder
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed")
    jobs = jobs or len(os.sched_getaffinity(0))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tuneforge-llama-cpp-") as tmp:
        sdist = download_sdist(Path(tmp))
        source = extract_llama_cpp(sdist, Path(tmp) / "llama.cpp")
        log_file = cache_root() / "llama-cpp-build.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log.info("building llama.cpp from %s (about 8 minutes on 2 cores; log: %s)", sdist.name, log_file)
        try:
            run_build(source, Path(tmp) / "build", log_file, jobs)
        except subprocess.CalledProcessError as error:
            tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(f"{error.cmd} failed (exit {error.returncode}):\n{tail}") from None
        with atomic_folder(folder) as staging:  # the record and the files appear together, never half a build
            files = copy_build(Path(tmp) / "build" / "bin", staging)
            record = build_record(sdist, jobs, started, files)
            (staging / RECORD).write_text(json.dumps(record, indent=2) + "\n")
    log.info("llama.cpp built in %.0f s: %s", record["build_seconds"], folder)
    return folder


def copy_build(bin_dir: Path, staging: Path) -> dict[str, str]:
    """llama-server and every shared library (with their version symlinks) into STAGING; {file: sha256}."""
    files = {}
    for path in sorted([bin_dir / "llama-server", *bin_dir.glob("lib*.so*")]):
        if path.is_symlink():
            (staging / path.name).symlink_to(os.readlink(path))
        else:
            shutil.copy2(path, staging / path.name)
            files[path.name] = sha256_file(path)
    return files


def build_record(sdist: Path, jobs: int, started: float, files: dict[str, str]) -> dict:
    """What the cached build was made from, and each file's sha256 (cached_binary checks them at every start)."""
    return {
        "llama_cpp_python": LLAMA_CPP_PYTHON,
        "sdist": sdist.name,
        "sdist_sha256": sha256_file(sdist),
        "cmake_flags": build_flags(),
        "compiler": compiler_identity(),
        "jobs": jobs,
        "build_seconds": round(time.perf_counter() - started, 1),
        "files": files,
    }


def library_hook(folder: Path) -> str:
    """The .pth line that points llama-cpp-python at FOLDER in every Python process of the venv."""
    paths = {variable: str(folder) for variable in ("LLAMA_CPP_LIB_PATH", "MTMD_CPP_LIB")}
    settings = "; ".join(f"os.environ.setdefault({name!r}, {value!r})" for name, value in paths.items())
    return f"import os; {settings}\n"


def install_library_hook(folder: Path, site_packages: Path) -> Path:
    """Writes PTH_FILE into SITE_PACKAGES (Python runs a .pth file's import lines at every start)."""
    pth = site_packages / PTH_FILE
    pth.write_text(library_hook(folder))
    return pth


def main() -> int:
    """Build (or find) llama.cpp and point this interpreter's site-packages at it; exit 1 where it cannot
    be built (setup then falls back to llama-cpp-python's own compiled copy)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    site_packages = Path(sysconfig.get_paths()["purelib"])
    try:
        folder = build()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
        (site_packages / PTH_FILE).unlink(missing_ok=True)
        log.error("llama.cpp could not be built: %s", error)
        return 1
    install_library_hook(folder, site_packages)
    print(folder)  # noqa: T201 (the script's output: the build's folder, for setup.sh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
