"""Training benchmark: our Unsloth path against plain transformers + PEFT + TRL, side by side.

    tuneforge bench train                                   # CPU smoke: tiny shape, seq 128, 3 steps
    tuneforge bench train --shape qwen3-0.6b,qwen3-1.7b --seq 1024,2048 --steps 30   # the GPU table
    tuneforge bench train --method dpo                      # CPU smoke of DPO (packing off)
    tuneforge bench train --method dpo --shape qwen3-0.6b,qwen3-1.7b --seq 1024,2048 --steps 30   # GPU, DPO

Both paths train the same random-weight model (a Qwen3 config built offline, saved as
safetensors with the embedded tokenizer), on the same synthetic data of varied length, with the
same sequence length, batch (2 × accumulation 4, as in Unsloth's claim), LoRA rank 32, optimizer
and steps:

- `tuneforge`: the product's real path, `tuneforge.train.finetune.assemble_trainer` with an
  in-memory recipe (Unsloth FastLanguageModel, 4-bit and Unsloth checkpointing on a GPU), which
  hands over to the method's module in train/methods/ for its TRL trainer.
- `baseline`: AutoModelForCausalLM (+ bitsandbytes 4-bit NF4 on a GPU; FlashAttention 2 when
  installed, else sdpa) + peft.get_peft_model + HF gradient checkpointing + the method's plain
  TRL trainer. It reads the same tokenized samples / preference rows our data pipeline produced,
  so only the training stack differs.

`--method` picks what both paths train:
- `sft` (default): ShareGPT conversations, TRL SFTTrainer.
- `dpo`: preference pairs {prompt, chosen, rejected}, chosen and rejected each as long as an SFT
  reply and drawn apart; `train.method: dpo` + `data.format: preference` on our side, TRL
  DPOTrainer(ref_model=None) with DPOConfig (beta 0.1, sigmoid loss, max_length = the sequence
  length) on the baseline's. Both trainers get a PEFT model, so TRL 1.15 copies its fresh
  adapter into a frozen "ref" adapter and runs the reference forward through that copy (a zero
  update: the base model's log-probabilities); the result's `reference` field says which way
  each path's trainer went. Packing does not apply to DPO (its collator pads chosen and rejected
  rows); `--method dpo --packing on` is refused, and `--packing` defaults to off there.

Every configuration runs in its own process (train_worker.py): Unsloth patches transformers on
import, and peak memory must be each configuration's own. The model and data come from
train_inputs.py; this module runs the sweep and writes the table. Reported per configuration:
non-padding tokens/s and seconds per optimizer step (warm-up steps excluded), peak memory
(torch.cuda.max_memory_allocated on a GPU, peak RSS on a CPU), MFU and whether packing was in effect.

Tokens are the Trainer's own non-padding count (`state.num_input_tokens_seen`, the sum of each
batch's attention mask). SFT's config turns it on; TRL 1.15's DPOConfig leaves it off (DPOTrainer
keeps a count of its own, logged as `num_tokens`), so the benchmark turns it on for both DPO
trainers. For DPO it counts every chosen and every rejected row, the prompt once in each: the
tokens the policy trains on. The result's `trl_num_tokens` is DPOTrainer's own count, for a check.

MFU = achieved model FLOP/s ÷ the GPU's dense bf16 peak (PEAK_TFLOPS). Training FLOPs per
non-padding token = 6·N + 12·L·H·D·T (the PaLM paper's appendix B convention): N the model's
parameters (tied embeddings counted once, which is the lm_head matmul), L layers, H query heads,
D head dim, T the sequence length. It counts no recomputation from gradient checkpointing, and it
counts the weight gradients of frozen base weights that LoRA never computes (so it is the usual
"model FLOPs" figure, not the work actually done; the real work is closer to 4·N per token).
DPO adds, per chosen or rejected token, the reference model's forward (no backward): one third
of the training figure, so 8·N + 16·L·H·D·T per token, same caveats. Comparing DPO's MFU with
SFT's says how well each uses the GPU, not how fast either learns.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from tuneforge.bench.train_inputs import DPO_BETA, Config

log = logging.getLogger(__name__)

PATHS = ["tuneforge", "baseline"]
METHOD_NOTES = {  # the Markdown's "Method:" line
    "sft": "sft (TRL SFTTrainer on both paths).",
    "dpo": f"dpo (TRL DPOTrainer on both paths, beta {DPO_BETA}, sigmoid loss, no packing). Tokens: the chosen and "
    "rejected rows, the prompt counted in each. MFU counts the policy's forward + backward and the reference "
    "forward on each of them: 8·N + 16·L·H·D·T per token.",
}


def configs(
    shapes: list[str],
    seqs: list[int],
    packing: list[bool],
    paths: list[str],
    steps: int,
    warmup: int,
    tokenizer: str = "",
    method: str = "sft",
) -> list[Config]:
    return [
        Config(path, shape, seq, pack, steps, warmup, tokenizer, method)
        for shape in shapes
        for seq in seqs
        for pack in packing
        for path in paths
    ]


def run_in_child(config: Config) -> dict:
    """One configuration in a fresh interpreter; its result comes back through a JSON file."""
    with tempfile.TemporaryDirectory(prefix="tuneforge-bench-") as scratch:
        result_file = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "tuneforge.bench.train_worker", json.dumps(asdict(config)), str(result_file)]
        log.info("training benchmark: %s", asdict(config))
        done = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
        )
        if done.returncode or not result_file.is_file():
            tail = "\n".join(done.stdout.splitlines()[-15:])
            log.error("configuration %s failed (exit %s):\n%s", asdict(config), done.returncode, tail)
            return {**asdict(config), "error": tail.splitlines()[-1] if tail else f"exit {done.returncode}"}
        return json.loads(result_file.read_text())


def bench_train(config_list: list[Config], budget_s: float | None = None, on_result=None) -> list[dict]:
    """Run each configuration in turn. With a time budget, a configuration starts only while the
    mean duration so far still fits, so one bounded command (a lent GPU's) ends with a table of the
    configurations that fitted and the rest marked skipped. `on_result(results)` sees each step."""
    results: list[dict] = []
    started = time.monotonic()
    for config in config_list:
        elapsed = time.monotonic() - started
        if budget_s is not None and results and elapsed + elapsed / len(results) > budget_s:
            results.append({**asdict(config), "skipped": f"time budget of {budget_s:.0f} s"})
        else:
            results.append(run_in_child(config))
        if on_result:
            on_result(results)
    return results


def markdown(results: list[dict], planned: int | None = None) -> str:
    """The table; while fewer than `planned` configurations have run it says so at the top, so a
    sweep cut short never reads as a whole one."""
    lines = (
        [f"**Partial: {len(results)} of {planned} configurations (the sweep was still running or was stopped).**\n"]
        if planned is not None and len(results) < planned
        else []
    )
    lines += [
        f"Method: {method_line(results)}\n",
        "| shape | seq | packing (asked → effective) | path | s/step | non-padding tok/s | peak memory (GiB) "
        "| model TFLOP/s | MFU | vs baseline tok/s | vs baseline memory |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        packing = f"{'on' if r['packing'] else 'off'} → {'on' if r.get('packing_effective') else 'off'}"
        if "skipped" in r:
            lines.append(
                f"| {r['shape']} | {r['seq']} | {'on' if r['packing'] else 'off'} | {r['path']} | "
                f"skipped: {r['skipped']} | | | | | | |"
            )
            continue
        if "error" in r:
            lines.append(
                f"| {r['shape']} | {r['seq']} | {'on' if r['packing'] else 'off'} | {r['path']} | "
                f"failed: {r['error'][:80]} | | | | | | |"
            )
            continue
        base = _baseline_of(r, results)
        speed = f"{r['tokens_per_s'] / base['tokens_per_s']:.2f}×" if base else ""
        memory = f"{r['peak_memory_gib'] / base['peak_memory_gib']:.2f}×" if base else ""
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "n/a (no GPU)"
        lines.append(
            f"| {r['shape']} | {r['seq']} | {packing} | {r['path']} | {r['step_s']} | {r['tokens_per_s']} | "
            f"{r['peak_memory_gib']} | {r['model_tflops']} | {mfu} | {speed} | {memory} |"
        )
    device = next((r["device"] for r in results if "device" in r), "?")
    memory_kind = next((r["memory_kind"] for r in results if "memory_kind" in r), "?")
    unit = " pairs" if any(r.get("method") == "dpo" for r in results) else ""
    return (
        "\n".join(lines) + f"\n\nDevice: {device}; memory: {memory_kind}; batch 2{unit} × accumulation 4, LoRA r=32.\n"
    )


def method_line(results: list[dict]) -> str:
    """What the table's rows trained, and what its token and MFU columns count (module docstring)."""
    return " ".join(METHOD_NOTES[m] for m in sorted({r.get("method", "sft") for r in results}))


def _baseline_of(result: dict, results: list[dict]) -> dict | None:
    if result["path"] == "baseline":
        return None
    return next(
        (
            r
            for r in results
            if r["path"] == "baseline" and "error" not in r and "skipped" not in r and _key(r) == _key(result)
        ),
        None,
    )


def _key(result: dict) -> tuple:
    return result.get("method", "sft"), result["shape"], result["seq"], result["packing"]
