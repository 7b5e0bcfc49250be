"""What a run trains with beyond its recipe, recorded in its manifest (`trained_with`) when each training
session starts, before any step, so that even a run killed without a word has it: the base model's identity,
the tokenizer, the content of the data, the batch of one optimizer step, the number of processes and the
distributed strategy in effect. `tuneforge train --resume` compares it with the same facts now
(tuneforge.train.resume_changes): the recipe can name the same file while its content changed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tuneforge.data.sources import Source, source_sha256
from tuneforge.data.splits import SPLITS
from tuneforge.files import sha256_file
from tuneforge.models import ResolvedModel
from tuneforge.recipe.schema import Recipe
from tuneforge.train.distributed import World
from tuneforge.train.engine import accumulation

# The files transformers builds a tokenizer and its chat template from. Hashed as files, not as a loaded
# tokenizer: the run folder is chosen before the model loads, and a transformers upgrade that serializes a
# tokenizer differently must not make an interrupted run look like it changed.
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "tokenizer.model",
    "chat_template.jinja",
    "chat_template.json",
)


def training_fingerprint(recipe: Recipe, base: ResolvedModel, world: World, strategy: str) -> dict:
    """The facts of this session, as flat keys (each compared as one value)."""
    steps_accumulated = accumulation(recipe.train, world.size)
    return {
        "base_model": base_model_digest(base),
        "tokenizer_sha256": tokenizer_sha256(base.path),
        **{f"data_sha256.{part}": data_sha256(getattr(recipe.data, part)) for part in SPLITS},
        "global_batch": recipe.train.batch_size * steps_accumulated * world.size,
        "world_size": world.size,
        "strategy": strategy,
    }


def base_model_digest(base: ResolvedModel) -> str:
    """The model's reference and a digest of its identity (tuneforge.models: config and weight files, a hub
    revision, the embedded package's integrity list): a folder replaced under the same name differs."""
    identity = json.dumps(base.identity, sort_keys=True).encode()
    return f"{base.ref} (identity {hashlib.sha256(identity).hexdigest()[:16]})"


def tokenizer_sha256(model_dir: Path) -> str:
    """One sha256 over the tokenizer files the model folder has, by name."""
    listing = "".join(
        f"{name}\t{sha256_file(model_dir / name)}\n" for name in TOKENIZER_FILES if (model_dir / name).is_file()
    )
    return hashlib.sha256(listing.encode()).hexdigest()


def data_sha256(sources: list[Source]) -> str | None:
    """One sha256 over the content of a part's sources (data.train, data.val or data.test), in recipe order;
    None when the part names none."""
    if not sources:
        return None
    return hashlib.sha256("".join(f"{source_sha256(source)}\n" for source in sources).encode()).hexdigest()
