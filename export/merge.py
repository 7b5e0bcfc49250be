"""Merged 16-bit weights: the run's LoRA folded into the full-precision base, saved as safetensors.

The adapter is merged into the base loaded in 16-bit from its original weights, never into
4-bit-dequantized ones. The folder carries the tokenizer, the chat template (as
chat_template.jinja and inside tokenizer_config.json) and a generation_config.json whose EOS is
the chat's end-of-turn token, so every runtime stops where the trained model stops.
"""

from __future__ import annotations

import json
from pathlib import Path

from tuneforge.files import atomic_folder
from tuneforge.models import load_with_adapter


def merge_adapter(
    run_dir: Path, manifest: dict, output: Path, dtype: str = "float16", trust_remote_code: bool = False
) -> Path:
    import torch

    adapted, tokenizer = load_with_adapter(run_dir, manifest, getattr(torch, dtype), trust_remote_code)
    merged = adapted.merge_and_unload()
    merged.generation_config.eos_token_id = tokenizer.eos_token_id
    merged.generation_config.pad_token_id = tokenizer.pad_token_id
    with atomic_folder(output) as staging:
        merged.save_pretrained(str(staging), safe_serialization=True, max_shard_size="2GB")
        tokenizer.save_pretrained(str(staging))
        embed_chat_template(staging, tokenizer.chat_template)
    return output


def embed_chat_template(folder: Path, template: str | None) -> None:
    """Older loaders read the template from tokenizer_config.json only; write it there too."""
    if not template:
        return
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["chat_template"] = template
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False))
    if not (folder / "chat_template.jinja").is_file():
        (folder / "chat_template.jinja").write_text(template)
