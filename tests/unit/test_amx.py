"""llama.cpp and the CPU it runs on: AMX repacking is turned off on CPUs with AMX, where its batched
matmul segfaults (serve/llamacpp.py), and the native build is cached per CPU. Whether this machine
has AMX, and its flags, are patched both ways, since no one machine has both kinds of CPU."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("amx", [True, False])
def test_llama_loads_without_repacking_only_on_amx_cpus(monkeypatch, amx):
    import llama_cpp.llama_cpp as binding

    from tuneforge.serve import llamacpp

    monkeypatch.setattr(llamacpp, "cpu_has_amx", lambda: amx)
    original = binding.llama_model_default_params
    with llamacpp.llama_without_amx_repack():
        assert binding.llama_model_default_params().use_extra_bufts is (not amx)
    assert binding.llama_model_default_params is original
    assert original().use_extra_bufts is True


def test_cpu_has_amx_reads_the_amx_int8_flag(tmp_path):
    from tuneforge.serve.llamacpp import cpu_has_amx

    with_amx, without = tmp_path / "with", tmp_path / "without"
    with_amx.write_text("flags\t\t: fpu avx2 avx512f amx_bf16 amx_tile amx_int8 arch_perfmon\n")
    without.write_text("flags\t\t: fpu avx2 avx512f avx512_vnni\n")
    assert cpu_has_amx(with_amx) is True
    assert cpu_has_amx(without) is False
    assert cpu_has_amx(tmp_path / "missing") is False  # no /proc (another OS): repacking stays on


def test_cpu_flags_read_the_x86_and_the_arm_line(tmp_path):
    from tuneforge.serve.llamacpp import cpu_flags

    x86, arm = tmp_path / "x86", tmp_path / "arm"
    x86.write_text(
        "processor\t: 0\nflags\t\t: fpu avx2 sse4_2\nbugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: fpu\n"
    )
    arm.write_text("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd sve\n")
    assert cpu_flags(x86) == {"fpu", "avx2", "sse4_2"}  # the first core's line; bugs are not flags
    assert cpu_flags(arm) == {"fp", "asimd", "sve"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


def test_the_native_build_is_cached_per_cpu(monkeypatch):
    """llama-server is built with -DGGML_NATIVE (this CPU's instructions): a cache folder shared with a
    CPU of other flags must not hand over a binary that CPU cannot run."""
    from tuneforge.serve import native

    folders = []
    for flags in (["fpu", "avx2"], ["fpu", "avx2", "avx512f"], ["avx2", "fpu"]):
        monkeypatch.setattr(native, "cpu_flags", lambda flags=flags: frozenset(flags))
        folders.append(native.native_dir())
    assert folders[0] == folders[2] != folders[1]  # other flags, another folder; their order does not matter
    assert folders[0].parent == folders[1].parent == native.cache_root()


def test_every_in_process_llama_load_goes_through_load_llama():
    """A plain `Llama(...)` crashes the process on an AMX CPU's first batch, and the machine a change is
    made on may lack AMX where CI has it, so the source itself is checked."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    allowed = {root / "serve" / "llamacpp.py", Path(__file__).resolve()}
    direct = re.compile(r"\bLlama\(|from llama_cpp import .*\bLlama\b")
    sources = [
        path
        for folder in ("tuneforge", "train", "export", "serve", "recipes", "scripts", "tests")
        for path in (root / folder).rglob("*.py")
        if path not in allowed
    ]
    assert len(sources) > 50
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if direct.search(line)
    ]
    assert offenders == [], "load with tuneforge.serve.llamacpp.load_llama instead"
