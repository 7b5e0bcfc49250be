"""The training benchmark's inputs: random-weight Qwen3-shaped models and synthetic data, built offline.

Both paths of `tuneforge bench train` (tuneforge/bench/train.py) train the same model on the same
data from the same in-memory recipe: a Qwen3 config of the chosen shape with random weights, saved as
safetensors with the embedded tokenizer, and ShareGPT conversations (or, for DPO, preference pairs)
whose replies range from short to about the sequence length, so padding and packing make a difference.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from tuneforge.models import cache_root, resolve_model
from tuneforge.recipe.assemble import recipe_model
from tuneforge.recipe.schema import LoraSection, ModelSection
from tuneforge.tasks.conversation.schema import ConversationSection
from tuneforge.tasks.preference.schema import PreferenceSection
from tuneforge.train.methods.dpo import DPOSection

DPO_BETA = 0.1
QWEN3_COMMON = {
    "vocab_size": 151936,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "num_hidden_layers": 28,
    "max_position_embeddings": 40960,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
}
# The real Qwen/Qwen3-0.6B and Qwen/Qwen3-1.7B config.json values that set the compute.
SHAPES = {
    "smoke": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "vocab_size": None,
        "tie_word_embeddings": True,
    },
    "qwen3-0.6b": {**QWEN3_COMMON, "hidden_size": 1024, "intermediate_size": 3072},
    "qwen3-1.7b": {**QWEN3_COMMON, "hidden_size": 2048, "intermediate_size": 6144},
}
SAMPLES_PER_STEP_MARGIN = 12  # packing folds several samples into one row: generate enough for it
PAIRS_PER_STEP_MARGIN = 2  # DPO never packs: two epochs' worth of pairs is plenty


@dataclass(frozen=True)
class Config:
    path: str  # tuneforge | baseline
    shape: str
    seq: int
    packing: bool
    steps: int
    warmup: int
    tokenizer: str = ""  # a tokenizer folder; empty: the embedded model's
    method: str = "sft"  # sft | dpo


def bench_dir() -> Path:
    return cache_root() / "bench"


def build_model(shape: str, tokenizer_dir: str = "") -> Path:
    """The shape's random-weight Qwen3 model + a tokenizer (the embedded model's unless a folder is
    given: a GPU machine gets only its tokenizer files, not the 98 MB package), built once and cached."""
    from filelock import FileLock

    folder = bench_dir() / "models" / shape
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if not (folder / "params.json").is_file():
            _write_model(shape, folder, tokenizer_dir)
    return folder


def _write_model(shape: str, folder: Path, tokenizer_dir: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen3Config

    source = tokenizer_dir or str(resolve_model("embedded:smollm2-135m-instruct").path)
    tokenizer = AutoTokenizer.from_pretrained(source)
    values = {**SHAPES[shape]}
    values["vocab_size"] = values["vocab_size"] or len(tokenizer)  # ids stay below it in every shape
    config = Qwen3Config(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **values,
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16 if shape != "smoke" else torch.float32)
    staging = folder.with_name(folder.name + ".tmp")
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    params = sum(p.numel() for p in model.parameters())  # tied embeddings counted once
    (staging / "params.json").write_text(json.dumps({"params": params, **values}))
    staging.rename(folder)


WORDS = (
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "that",
    "with",
    "as",
    "by",
    "at",
    "from",
    "ship",
    "sail",
    "wind",
    "harbor",
    "map",
    "star",
    "tide",
    "rope",
    "deck",
    "captain",
    "crew",
    "island",
    "storm",
    "compass",
    "lantern",
    "anchor",
    "chart",
    "voyage",
    "coast",
    "reef",
    "gull",
    "cargo",
    "mast",
    "keel",
)


def random_reply(rng: random.Random, seq: int) -> str:
    """A reply of short to about `seq` tokens (0.6·seq words, about one token each)."""
    words = rng.randint(max(4, seq // 16), max(8, int(seq * 0.6)))
    return " ".join(rng.choice(WORDS) for _ in range(words))


def write_data(path: Path, count: int, seq: int, seed: int = 0) -> Path:
    """`count` ShareGPT conversations whose replies range from short to about `seq` tokens, so
    padding and packing make a difference."""
    rng = random.Random(seed)
    lines = [
        json.dumps(
            {
                "conversations": [
                    {"from": "human", "value": f"Tell me about voyage {index}."},
                    {"from": "gpt", "value": random_reply(rng, seq)},
                ]
            }
        )
        for index in range(count)
    ]
    return write_lines(path, lines)


def write_pairs(path: Path, count: int, seq: int, seed: int = 0) -> Path:
    """`count` preference pairs whose chosen and rejected replies are each drawn like write_data's
    (so padding between a pair's two rows, and across the batch, makes a difference), and differ:
    an identical pair would be dropped by the preference reader."""
    rng = random.Random(seed)
    lines = []
    for index in range(count):
        chosen, rejected = random_reply(rng, seq), random_reply(rng, seq)
        while rejected == chosen:
            rejected = random_reply(rng, seq)
        lines.append(json.dumps({"prompt": f"Tell me about voyage {index}.", "chosen": chosen, "rejected": rejected}))
    return write_lines(path, lines)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bench_data(config: Config) -> Path:
    """The configuration's synthetic data file (cached by kind, length and count)."""
    if config.method == "dpo":
        pairs = config.steps * 8 * PAIRS_PER_STEP_MARGIN
        return write_pairs(bench_dir() / "data" / f"pairs-{config.seq}-{pairs}.jsonl", pairs, config.seq)
    samples = config.steps * 8 * SAMPLES_PER_STEP_MARGIN
    return write_data(bench_dir() / "data" / f"sharegpt-{config.seq}-{samples}.jsonl", samples, config.seq)


def bench_recipe(config: Config, model_dir: Path, data_file: Path):
    """The in-memory recipe both paths train from (the baseline reads its settings from it too)."""
    train = {
        "max_steps": config.steps,
        "batch_size": 2,
        "grad_accum": 4,
        "logging_steps": 1,
        "eval_steps": None,
        "save_steps": 10**6,
        "warmup_ratio": 0.0,
        "method": config.method,
    }
    if config.method == "dpo":  # train.dpo exists once the dpo method is registered: the section is a dict here
        train["dpo"] = DPOSection(beta=DPO_BETA, loss_type="sigmoid")
    return recipe_model()(
        name="bench",
        model=ModelSection(base=str(model_dir), max_seq_length=config.seq),
        lora=LoraSection(r=32, alpha=32),
        data=bench_data_section(config, data_file),
        train=train,
        eval={"held_out_loss": False},
    )


def bench_data_section(config: Config, data_file: Path) -> PreferenceSection | ConversationSection:
    """Overlength samples are kept and cut (DPO: TRL's collator cuts each row to max_length), so
    every configuration trains on all of its data."""
    if config.method == "dpo":
        return PreferenceSection(
            format="preference", train=[data_file], split={"val": 0.0}, filter={"overlength": "truncate"}
        )
    return ConversationSection(
        format="sharegpt",
        train=[data_file],
        split={"val": 0.0},
        packing=config.packing,
        filter={"overlength": "truncate"},
    )
