"""The one llama.cpp build (serve/native.py): the .pth hook that points every Python process of the venv
at it, the cached folder's integrity record, and the CUDA build where a GPU is there. The build itself
and llama-cpp-python loading it are tested for real in tests/integration/test_llama_cpp_shared.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tuneforge.serve import native

READ_HOOK = "import site, os, sys; site.addsitedir(sys.argv[1]); print(os.environ.get('LLAMA_CPP_LIB_PATH'), os.environ.get('MTMD_CPP_LIB'))"


def run_with_site(site_dir, **env):
    """A fresh interpreter that processes SITE_DIR's .pth files as site-packages' are at startup; -S keeps
    this venv's own hook (set up by make setup) out of it."""
    clean = {k: v for k, v in os.environ.items() if k not in ("LLAMA_CPP_LIB_PATH", "MTMD_CPP_LIB")}
    out = subprocess.run(
        [sys.executable, "-S", "-c", READ_HOOK, str(site_dir)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def test_the_hook_points_llama_cpp_python_at_the_build_and_the_users_own_value_wins(tmp_path):
    folder = tmp_path / "cache" / "llama-cpp-0.3.36-abc"
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    pth = native.install_library_hook(folder, site_dir)
    assert pth.name == native.PTH_FILE
    assert run_with_site(site_dir) == [str(folder), str(folder)]
    assert run_with_site(site_dir, LLAMA_CPP_LIB_PATH="/own/build") == ["/own/build", str(folder)]


def fake_build(bin_dir):
    bin_dir.mkdir()
    (bin_dir / "llama-server").write_bytes(b"server")
    (bin_dir / "libllama.so.0.5.0").write_bytes(b"llama")
    (bin_dir / "libllama.so.0").symlink_to("libllama.so.0.5.0")
    (bin_dir / "libllama.so").symlink_to("libllama.so.0")
    (bin_dir / "libggml-cpu.so").write_bytes(b"ggml-cpu")
    (bin_dir / "llama-cli").write_bytes(b"not needed")


def test_the_cached_build_keeps_the_version_links_and_is_refused_once_a_file_changes(tmp_path):
    fake_build(tmp_path / "bin")
    folder = tmp_path / "cached"
    folder.mkdir()
    files = native.copy_build(tmp_path / "bin", folder)
    assert set(files) == {"llama-server", "libllama.so.0.5.0", "libggml-cpu.so"}  # links are not files
    assert os.readlink(folder / "libllama.so") == "libllama.so.0"
    assert not (folder / "llama-cli").exists()
    assert native.cached_binary(folder) is None  # no record yet: a half-copied build is never used
    (folder / native.RECORD).write_text(json.dumps({"files": files}))
    assert native.cached_binary(folder) == folder / "llama-server"
    (folder / "libggml-cpu.so").write_bytes(b"another ggml")
    assert native.cached_binary(folder) is None


def test_a_gpu_machine_gets_a_cuda_build_in_a_folder_of_its_own(monkeypatch):
    """No GPU here: has_cuda is patched (the CUDA build itself is untested on these machines)."""
    folders = {}
    for cuda in (False, True):
        monkeypatch.setattr(native, "has_cuda", lambda cuda=cuda: cuda)
        assert ("-DGGML_CUDA=ON" in native.build_flags()) is cuda
        folders[cuda] = native.native_dir()
    assert folders[False] != folders[True]


def test_no_gpu_means_no_cuda_build(monkeypatch):
    monkeypatch.setattr(native.shutil, "which", lambda tool: None)
    native.has_cuda.cache_clear()
    try:
        assert native.has_cuda() is False
    finally:
        native.has_cuda.cache_clear()
