"""The one llama.cpp build for real: llama-server and llama-cpp-python, in every process of the venv,
run on the same shared libraries from the cached build (serve/native.py), and nothing else of llama.cpp
is loaded. Where setup had to fall back (llama-cpp-python compiled its own copy) this is skipped, except
in CI, which must have the shared build."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tuneforge.serve import native

pytestmark = pytest.mark.integration
LOADED = """
import llama_cpp, llama_cpp.mtmd_cpp
maps = open('/proc/self/maps').read().split()
print('\\n'.join(sorted({p for p in maps if '/lib' in p and ('llama' in p or 'ggml' in p or 'mtmd' in p)})))
"""


@pytest.fixture(scope="module")
def build_folder() -> Path:
    folder = native.native_dir()
    hook = Path(sysconfig.get_paths()["purelib"]) / native.PTH_FILE
    if native.cached_binary(folder) is None or not hook.is_file():
        if os.environ.get("CI"):
            pytest.fail("llama.cpp's shared build is missing (make setup should have built it)")
        pytest.skip("setup fell back to llama-cpp-python's own compiled copy on this machine")
    return folder


def test_a_plain_python_in_the_venv_loads_llama_cpp_from_the_build(build_folder):
    env = {k: v for k, v in os.environ.items() if k not in ("LLAMA_CPP_LIB_PATH", "MTMD_CPP_LIB")}
    out = subprocess.run([sys.executable, "-c", LOADED], env=env, capture_output=True, text=True, check=True)
    loaded = [Path(line) for line in out.stdout.split()]
    names = {path.name for path in loaded}
    assert any(name.startswith("libllama.so") for name in names)
    assert any(name.startswith("libmtmd.so") for name in names)
    assert any(name.startswith("libggml-cpu.so") for name in names)
    assert {path.parent for path in loaded} == {build_folder.resolve()}, loaded


def test_llama_server_links_the_same_libraries(build_folder):
    linked = subprocess.run(["ldd", str(build_folder / "llama-server")], capture_output=True, text=True, check=True)
    libllama = [line for line in linked.stdout.splitlines() if "libllama.so" in line]
    assert libllama and all(str(build_folder) in line for line in libllama), linked.stdout
    assert "not found" not in linked.stdout
