"""llama.cpp in this process (llama-cpp-python), with weight repacking off on CPUs with AMX, where
llama.cpp's AMX matmul crashes (cpu_has_amx). `load_llama` loads a model; run as a module
(`python -m tuneforge.serve.llamacpp`, llama_cpp.server's arguments) it is llama-cpp-python's
server, which has no option for it. Standard library only at import: export's tokenizer worker and
the server process start with it."""

from __future__ import annotations

import contextlib
import functools
import runpy
from pathlib import Path


@functools.cache
def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (x86's "flags", Arm's "Features" line); none without /proc (another OS)."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return frozenset()
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@functools.cache
def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU has Intel AMX. llama.cpp repacks quantized weights into its AMX buffer there,
    and its AMX matmul segfaults on batches of two tokens or more (measured with llama-cpp-python
    0.3.36 on a Q8_0 GGUF; llama.cpp#20824), so repacking is turned off on such CPUs."""
    return "amx_int8" in cpu_flags(cpuinfo)


@contextlib.contextmanager
def llama_without_amx_repack():
    """Inside it, llama-cpp-python's `Llama` loads weights without repacking (use_extra_bufts off) when
    the CPU has AMX: the binding has no argument for it, so its default model parameters are wrapped."""
    if not cpu_has_amx():
        yield
        return
    import llama_cpp.llama_cpp as binding

    default = binding.llama_model_default_params

    def no_repack():
        params = default()
        params.use_extra_bufts = False
        return params

    binding.llama_model_default_params = no_repack
    try:
        yield
    finally:
        binding.llama_model_default_params = default


def load_llama(model_path, **options):
    """llama-cpp-python's `Llama`, loaded without weight repacking on CPUs with AMX (cpu_has_amx).
    Every in-process load goes through here: a plain `Llama(...)` on such a CPU crashes the process
    on its first batch."""
    from llama_cpp import Llama

    with llama_without_amx_repack():
        return Llama(model_path=str(model_path), **options)


if __name__ == "__main__":
    with llama_without_amx_repack():
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
