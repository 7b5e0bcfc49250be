"""One configuration of the training benchmark, trained and measured in a process of its own.

    python -m tuneforge.bench.train_worker CONFIG_JSON RESULT_FILE    (tuneforge/bench/train.py starts it)

Unsloth patches transformers on import, and peak memory must be each configuration's own, so every
configuration gets a fresh interpreter. The `tuneforge` path is the product's own trainer; the
`baseline` path is transformers + PEFT + TRL as their documentation shows them. The measures
(tokens/s, step time, peak memory, MFU) are described in tuneforge/bench/train.py.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from tuneforge.bench.train_inputs import Config, bench_data, bench_recipe, build_model
from tuneforge.builtins import register_builtins
from tuneforge.data.prepare import prepare_datasets
from tuneforge.data.rows import preference_rows
from tuneforge.data.splits import read_split_file
from tuneforge.models import resolve_model
from tuneforge.train.distributed import World
from tuneforge.train.engine import import_unsloth, sft_config, trainer_dataset, training_arguments
from tuneforge.train.finetune import assemble_trainer

# Dense (no sparsity) bf16 tensor-core peak, TFLOP/s, matched as a substring of the device name.
PEAK_TFLOPS = [
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H100", 989.4),
    ("H200", 989.4),
    ("GH200", 989.4),
    ("B200", 2250.0),
    ("A100", 312.0),
    ("L40S", 362.0),
    ("L40", 181.0),
    ("L4", 121.0),
    ("A10G", 70.0),
    ("A10", 125.0),
    ("RTX 4090", 165.2),
    ("RTX 3090", 71.0),
    ("V100", 125.0),
    ("T4", 65.0),
]


def tuneforge_trainer(recipe, work: Path):
    import_unsloth()
    return assemble_trainer(recipe, resolve_model(recipe.model.base), work, {})


def baseline_trainer(recipe, work: Path):
    """transformers + PEFT + TRL, configured as their documentation shows, on the samples our data
    pipeline made (the same tokens for SFT; the same rows, in the same order, for DPO)."""
    import torch
    from trl import SFTTrainer

    model, tokenizer = baseline_model(recipe)
    datasets, report = prepare_datasets(recipe.data, tokenizer, recipe.model.max_seq_length)
    if recipe.train.method == "dpo":
        return baseline_dpo_trainer(model, tokenizer, recipe, report.split_files, work)
    trainer_class = SFTTrainer if torch.cuda.is_available() else cpu_sft_trainer()
    return trainer_class(
        model=model,
        processing_class=tokenizer,
        args=sft_config(recipe, work / "checkpoints", False),
        train_dataset=trainer_dataset(datasets["train"]),
    )


def baseline_model(recipe):
    """AutoModelForCausalLM (4-bit NF4 on a GPU) + HF gradient checkpointing + peft.get_peft_model."""
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    gpu = torch.cuda.is_available()
    tokenizer = AutoTokenizer.from_pretrained(recipe.model.base)
    quantization = (
        BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        if gpu
        else None
    )
    model = AutoModelForCausalLM.from_pretrained(
        recipe.model.base,
        dtype=torch.bfloat16 if gpu else torch.float32,
        quantization_config=quantization,
        attn_implementation=attention(),
        device_map={"": 0} if gpu else None,
    )
    if gpu:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.enable_input_require_grads()
    lora = recipe.lora
    model = get_peft_model(
        model,
        LoraConfig(
            r=lora.r,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=lora.target_modules,
            bias=lora.bias,
            task_type="CAUSAL_LM",
        ),
    )
    return model, tokenizer


def baseline_dpo_trainer(model, tokenizer, recipe, split_files: Path, work: Path):
    """TRL's DPOTrainer with no reference model: TRL takes the reference from the PEFT model itself.
    The schedule, batch and max_length (= the sequence length) are the ones our path's config gets."""
    import torch
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    if not torch.cuda.is_available():
        cpu_log_probs()
    rows = preference_rows(read_split_file(split_files / "train.jsonl"))
    args = DPOConfig(
        **training_arguments(recipe, work / "checkpoints", False, World(), {}),
        beta=recipe.train.dpo.beta,
        loss_type=[recipe.train.dpo.loss_type],
    )
    return DPOTrainer(
        model=model, ref_model=None, processing_class=tokenizer, args=args, train_dataset=Dataset.from_list(rows)
    )


def cpu_sft_trainer():
    """TRL 1.15's SFTTrainer computes the loss through a Triton kernel (its fused LM head), which
    cannot run on a CPU; there the baseline takes the model's own loss (transformers' Trainer)."""
    from transformers import Trainer
    from trl import SFTTrainer

    class CpuSFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            return Trainer.compute_loss(self, model, inputs, return_outputs, num_items_in_batch)

    return CpuSFTTrainer


def cpu_log_probs() -> None:
    """TRL 1.15's DPOTrainer scores tokens through its fused LM head, whose Triton kernel cannot run
    on a CPU; there the baseline gets the same per-token values from full logits in plain torch
    (small at the smoke shape). Unsloth swaps in a kernel of its own, so our path needs nothing."""
    import torch
    import trl.trainer.utils as trl_utils

    class FullLogits:
        @staticmethod
        def apply(hidden, weight, bias, targets, temperature, chunk_size, softcap=None, logit_scale=1.0, outputs=()):
            logits = torch.nn.functional.linear(hidden, weight, bias).float() * logit_scale
            logits = (softcap * torch.tanh(logits / softcap) if softcap else logits) / temperature
            log_probs = logits.log_softmax(-1)
            values = {
                "entropy": -(log_probs.exp() * log_probs).sum(-1),
                "log_sum_sq_probs": torch.logsumexp(2 * log_probs, -1),
                "mean_logits": logits.mean(-1),
                "is_top1": logits.argmax(-1) == targets,
            }  # the kernel's optional outputs, in its order
            picked = log_probs.gather(-1, targets[:, None]).squeeze(-1)
            return picked, *(values[name] if name in outputs else None for name in values)

    trl_utils._ChunkedLogProbFunction = FullLogits


def attention() -> str:
    import importlib.util

    import torch

    return "flash_attention_2" if torch.cuda.is_available() and importlib.util.find_spec("flash_attn") else "sdpa"


def step_timer():
    """A TrainerCallback recording, at each optimizer step's end, the time and tokens seen."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.marks: list[tuple[float, int]] = []

        def on_step_begin(self, args, state, control, **kwargs):
            if not self.marks:
                self.marks.append((time.perf_counter(), state.num_input_tokens_seen))

        def on_step_end(self, args, state, control, **kwargs):
            self.marks.append((time.perf_counter(), state.num_input_tokens_seen))

    return StepTimer()


def run_config(config: Config) -> dict:
    """Train one configuration in this process and measure it."""
    import torch

    model_dir = build_model(config.shape, config.tokenizer)
    recipe = bench_recipe(config, model_dir, bench_data(config))
    work = Path(tempfile.mkdtemp(prefix="tuneforge-bench-train-"))
    trainer = (tuneforge_trainer if config.path == "tuneforge" else baseline_trainer)(recipe, work)
    # DPOConfig leaves the Trainer's token count off; the Trainer reads this flag at every micro-batch,
    # so setting it here counts both DPO paths' tokens as SFT's are counted (module docstring).
    trainer.args.include_num_input_tokens_seen = "non_padding"
    timer = step_timer()
    trainer.add_callback(timer)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    return measure(config, trainer, timer.marks, json.loads((model_dir / "params.json").read_text()))


def measure(config: Config, trainer, marks: list, shape: dict) -> dict:
    import torch

    (t0, n0), (t1, n1) = marks[config.warmup], marks[-1]
    steps = len(marks) - 1 - config.warmup
    gpu = torch.cuda.is_available()
    tokens_per_s = (n1 - n0) / (t1 - t0)
    flops_per_token = model_flops_per_token(shape, config.seq, config.method)
    peak = peak_tflops(torch.cuda.get_device_name()) if gpu else None
    return {
        **asdict(config),
        "timed_steps": steps,
        "step_s": round((t1 - t0) / steps, 3),
        "tokens_per_s": round(tokens_per_s, 1),
        "non_padding_tokens": int(n1 - n0),
        "peak_memory_gib": round((torch.cuda.max_memory_allocated() if gpu else peak_rss()) / 2**30, 3),
        "memory_kind": "cuda max_memory_allocated" if gpu else "peak RSS",
        "packing_effective": bool(getattr(trainer.args, "packing", False)),
        "params": shape["params"],
        "model_tflops": round(tokens_per_s * flops_per_token / 1e12, 3),
        "mfu": round(tokens_per_s * flops_per_token / (peak * 1e12), 4) if peak else None,
        "device": torch.cuda.get_device_name() if gpu else "cpu",
        "attention": attention(),
        "unsloth_loaded": "unsloth" in sys.modules,
        **dpo_facts(config, trainer, n1),
    }


def model_flops_per_token(shape: dict, seq: int, method: str) -> int:
    """Model FLOPs per non-padding token (module docstring): training's 6·N + 12·L·H·D·T, plus for
    DPO the reference forward on the same token, a third of that again."""
    training = (
        6 * shape["params"] + 12 * shape["num_hidden_layers"] * shape["num_attention_heads"] * shape["head_dim"] * seq
    )
    return training + training // 3 if method == "dpo" else training


def dpo_facts(config: Config, trainer, tokens_seen: int) -> dict:
    """Which reference DPO's trainer used, and its own token count beside the Trainer's (they count
    the same attention masks, so they agree unless a count is wrong)."""
    if config.method != "dpo":
        return {}
    unwrapped = trainer.accelerator.unwrap_model(trainer.model)
    logged = [entry["num_tokens"] for entry in trainer.state.log_history if "num_tokens" in entry]
    reference = (
        "ref adapter (copy of the fresh adapter)"
        if "ref" in getattr(unwrapped, "peft_config", {})
        else "adapter disabled"
        if trainer.ref_model is None
        else "separate model"
    )
    return {
        "reference": reference,
        "trl_num_tokens": int(logged[-1]) if logged else None,
        "trainer_tokens_seen": int(tokens_seen),
    }


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def peak_tflops(device_name: str) -> float | None:
    return next((peak for name, peak in PEAK_TFLOPS if name in device_name), None)


def main() -> None:
    """Child entry point: `python -m tuneforge.bench.train CONFIG_JSON RESULT_FILE`."""
    config = Config(**json.loads(sys.argv[1]))
    if config.path == "tuneforge":
        import_unsloth()  # before transformers, as in `tuneforge train`
    register_builtins()  # the recipe is built from the registered tasks and methods
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    result = run_config(config)
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
