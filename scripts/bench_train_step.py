"""Side-by-side training-step cost of the loading options, on the same real batches.

    .venv/bin/python scripts/bench_train_step.py [--recipe quickstart] [--steps 3]

For each configuration (4-bit or full precision, Unsloth gradient checkpointing on or off) it
loads the recipe's base model through the real engine, attaches the recipe's LoRA, and times
forward + backward + optimizer step on the same first batches of the recipe's training data.
It prints a Markdown table (seconds per step, non-padding tokens/s, peak RSS) for BENCHMARKS.md.
This is what chose `load_in_4bit: auto` and `gradient_checkpointing: auto` for CPUs.
Unsloth against a plain transformers + PEFT + TRL baseline is `tuneforge bench train`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tuneforge.train.engine import import_unsloth

CONFIGS = [
    ("4-bit, unsloth checkpointing", True, "unsloth"),
    ("4-bit, no checkpointing", True, False),
    ("full precision, unsloth checkpointing", False, "unsloth"),
    ("full precision, no checkpointing", False, False),
]


def time_config(recipe_ref: str, load_in_4bit: bool, checkpointing, steps: int) -> tuple[float, float]:
    import torch

    from tuneforge.builtins import register_builtins
    from tuneforge.models import resolve_model
    from tuneforge.recipe.loading import load_recipe
    from tuneforge.train.finetune import assemble_trainer

    register_builtins()
    recipe, _ = load_recipe(
        recipe_ref,
        [
            f"model.load_in_4bit={str(load_in_4bit).lower()}",
            f"train.gradient_checkpointing={str(checkpointing).lower()}",
        ],
    )
    scratch = Path(tempfile.mkdtemp(prefix="bench-train-step-"))  # the trainer's run folder; nothing kept
    trainer = assemble_trainer(recipe, resolve_model(recipe.model.base), scratch, {})
    model = trainer.model
    batches = iter(trainer.get_train_dataloader())
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    model.train()
    seconds, tokens = [], 0
    for index in range(steps + 1):  # the first step warms up and is not counted
        batch = next(batches)
        started = time.perf_counter()
        model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]
        ).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if index:
            seconds.append(time.perf_counter() - started)
            tokens += int(batch["attention_mask"].sum())
    return sum(seconds) / len(seconds), tokens / sum(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="quickstart")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--config", type=int, help="run only this CONFIGS index (used internally)")
    args = parser.parse_args()
    if args.config is not None:  # one configuration per process, so peak RSS is its own
        import_unsloth()
        _, four_bit, checkpointing = CONFIGS[args.config]
        step, rate = time_config(args.recipe, four_bit, checkpointing, args.steps)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(json.dumps({"step": step, "rate": rate, "rss": rss}))
        return
    print("| configuration | s/step | non-padding tokens/s | peak RSS (GiB) |\n|---|---|---|---|")
    for index, (name, _, _) in enumerate(CONFIGS):
        output = subprocess.run(
            [sys.executable, __file__, "--recipe", args.recipe, "--steps", str(args.steps), "--config", str(index)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(output.strip().splitlines()[-1])
        print(f"| {name} | {result['step']:.2f} | {result['rate']:.0f} | {result['rss']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
