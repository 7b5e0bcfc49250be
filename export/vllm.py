"""A vLLM bundle: the merged model plus launch specs that the serve stage (or a person) runs.

    export/vllm/
      model/               the merged 16-bit folder (hard links where the filesystem allows)
      adapter/             the LoRA adapter, for the base + adapter variant
      launch.json          served name, max-model-len, chat template, dtype → merged model
      launch-lora.json     base model + --enable-lora --lora-modules --max-lora-rank
      docker-compose.yml   the merged model in vLLM's official GPU image (`docker compose up`)
      README.md            the exact commands and a smoke request

vLLM rejects adapters whose rank exceeds --max-lora-rank (default 16), so the LoRA variant sets
it to the smallest rank vLLM accepts that is at least the adapter's.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import yaml

from tuneforge.errors import UserError
from tuneforge.files import atomic_folder
from tuneforge.serve.vllm import ENTRYPOINT, launch_args

VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
VLLM_VERSION = "0.32.0"  # the version requirements/vllm.txt pins (a test keeps them equal): the image's tag


def vllm_lora_rank(rank: int) -> int:
    """The smallest --max-lora-rank vLLM accepts that fits an adapter of this rank."""
    fitting = [allowed for allowed in VLLM_LORA_RANKS if allowed >= rank]
    if not fitting:
        raise UserError(
            f"lora.r={rank} is above vLLM's largest --max-lora-rank ({VLLM_LORA_RANKS[-1]})",
            fix="use the merged model in vLLM instead of the adapter variant",
        )
    return fitting[0]


def link_tree(source: Path, destination: Path) -> None:
    """Hard-link a folder's files (no extra disk), copying where links are not possible."""
    destination.mkdir(parents=True)
    for item in source.iterdir():
        try:
            os.link(item, destination / item.name)
        except OSError:
            shutil.copy2(item, destination / item.name)


def write_bundle(
    folder: Path,
    merged: Path,
    adapter: Path,
    base_dir: Path,
    name: str,
    max_len: int,
    lora_rank: int,
    dtype: str = "float16",
) -> Path:
    """folder/: the merged model and the adapter (linked), their launch specs, a compose file and a README."""
    common = {
        "served_model_name": name,
        "max_model_len": max_len,
        "dtype": dtype,
        "chat_template": "model/chat_template.jinja",
    }
    merged_spec = {"model": "model", **common}
    lora_spec = {
        "model": str(base_dir),
        **common,
        "lora_modules": {name: "adapter"},
        "max_lora_rank": vllm_lora_rank(lora_rank),
    }
    with atomic_folder(folder) as staging:
        link_tree(merged, staging / "model")
        link_tree(adapter, staging / "adapter")
        for file_name, spec in (("launch.json", merged_spec), ("launch-lora.json", lora_spec)):
            (staging / file_name).write_text(json.dumps({**spec, "args": launch_args(spec)}, indent=2) + "\n")
        (staging / "docker-compose.yml").write_text(compose_file(merged_spec))
        (staging / "README.md").write_text(bundle_readme(name, merged_spec, lora_spec))
    return folder


def compose_file(spec: dict) -> str:
    """docker compose for the merged model: the bundle mounted read-only at /bundle (the spec's
    relative paths hold there), every GPU, and the port published on the host's loopback only.
    vLLM requires a key when VLLM_API_KEY is set in the environment `docker compose` runs in."""
    service = {
        "image": f"vllm/vllm-openai:v{VLLM_VERSION}",
        "entrypoint": ["python3", *ENTRYPOINT[1:]],
        "command": [*launch_args(spec)[len(ENTRYPOINT) :], "--host", "0.0.0.0", "--port", "8000"],
        "working_dir": "/bundle",
        "volumes": ["./:/bundle:ro"],
        "ports": ["127.0.0.1:8000:8000"],
        "environment": ["VLLM_API_KEY", "HF_HUB_OFFLINE=1"],
        "ipc": "host",  # ipc: PyTorch's shared memory
        "deploy": {
            "resources": {"reservations": {"devices": [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]}}
        },
    }
    header = (
        "# vLLM's official image serving this bundle's merged model on NVIDIA GPUs: `docker compose up`\n"
        "# from this folder. Published on 127.0.0.1:8000 only; export VLLM_API_KEY first to require a key.\n"
    )
    return header + yaml.safe_dump({"services": {"vllm": service}}, sort_keys=False)


def bundle_readme(name: str, merged_spec: dict, lora_spec: dict) -> str:
    return f"""# vLLM bundle: {name}

Run from this folder (paths are relative to it). On a GPU machine install `vllm`; on a CPU,
`make vllm-env` builds vLLM's CPU build in its own environment.

Merged model:

    {" ".join(launch_args(merged_spec))} --host 127.0.0.1 --port 8000

Base model + adapter (the base path is where it was on the exporting machine; adjust it):

    {" ".join(launch_args(lora_spec))} --host 127.0.0.1 --port 8000

Or with Docker on a GPU machine (vLLM's official image `vllm/vllm-openai:v{VLLM_VERSION}`; the
port is published on 127.0.0.1 only, and `export VLLM_API_KEY=...` first requires a key):

    docker compose up

Smoke request:

    curl -s http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\
      -d '{{"model": "{name}", "messages": [{{"role": "user", "content": "Hello!"}}], "max_tokens": 32}}'
"""
