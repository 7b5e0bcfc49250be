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
  hands over to train/methods.py for the method's TRL trainer.
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

Every configuration runs in its own process: Unsloth patches transformers on import, and peak
memory must be each configuration's own. Reported per configuration: non-padding tokens/s and
seconds per optimizer step (warm-up steps excluded), peak memory (torch.cuda.max_memory_allocated
on a GPU, peak RSS on a CPU), MFU and whether packing was in effect.

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
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PATHS = ["tuneforge", "baseline"]
DPO_BETA = 0.1
METHOD_NOTES = {  # the Markdown's "Method:" line
    "sft": "sft (TRL SFTTrainer on both paths).",
    "dpo": f"dpo (TRL DPOTrainer on both paths, beta {DPO_BETA}, sigmoid loss, no packing). Tokens: the chosen and "
           "rejected rows, the prompt counted in each. MFU counts the policy's forward + backward and the reference "
           "forward on each of them: 8·N + 16·L·H·D·T per token.",
}
QWEN3_COMMON = {"vocab_size": 151936, "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
                "num_hidden_layers": 28, "max_position_embeddings": 40960, "rope_theta": 1000000.0,
                "rms_norm_eps": 1e-6, "tie_word_embeddings": True}
# The real Qwen/Qwen3-0.6B and Qwen/Qwen3-1.7B config.json values that set the compute.
SHAPES = {
    "smoke": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "head_dim": 16, "vocab_size": None, "tie_word_embeddings": True},
    "qwen3-0.6b": {**QWEN3_COMMON, "hidden_size": 1024, "intermediate_size": 3072},
    "qwen3-1.7b": {**QWEN3_COMMON, "hidden_size": 2048, "intermediate_size": 6144},
}
# Dense (no sparsity) bf16 tensor-core peak, TFLOP/s, matched as a substring of the device name.
PEAK_TFLOPS = [("H100 PCIe", 756.0), ("H100 NVL", 835.0), ("H100", 989.4), ("H200", 989.4), ("GH200", 989.4),
               ("B200", 2250.0), ("A100", 312.0), ("L40S", 362.0), ("L40", 181.0), ("L4", 121.0),
               ("A10G", 70.0), ("A10", 125.0), ("RTX 4090", 165.2), ("RTX 3090", 71.0), ("V100", 125.0),
               ("T4", 65.0)]
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
    from tuneforge.models import cache_root

    return cache_root() / "bench"


# ---------------------------------------------------------------- model and data

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

    from tuneforge.models import resolve_model

    source = tokenizer_dir or str(resolve_model("embedded:smollm2-135m-instruct").path)
    tokenizer = AutoTokenizer.from_pretrained(source)
    values = {**SHAPES[shape]}
    values["vocab_size"] = values["vocab_size"] or len(tokenizer)  # ids stay below it in every shape
    config = Qwen3Config(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, **values)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16 if shape != "smoke" else torch.float32)
    staging = folder.with_name(folder.name + ".tmp")
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    params = sum(p.numel() for p in model.parameters())  # tied embeddings counted once
    (staging / "params.json").write_text(json.dumps({"params": params, **values}))
    staging.rename(folder)


WORDS = ("the", "of", "and", "to", "in", "is", "was", "for", "on", "that", "with", "as", "by", "at", "from", "ship",
         "sail", "wind", "harbor", "map", "star", "tide", "rope", "deck", "captain", "crew", "island", "storm",
         "compass", "lantern", "anchor", "chart", "voyage", "coast", "reef", "gull", "cargo", "mast", "keel")


def random_reply(rng: random.Random, seq: int) -> str:
    """A reply of short to about `seq` tokens (0.6·seq words, about one token each)."""
    words = rng.randint(max(4, seq // 16), max(8, int(seq * 0.6)))
    return " ".join(rng.choice(WORDS) for _ in range(words))


def write_data(path: Path, count: int, seq: int, seed: int = 0) -> Path:
    """`count` ShareGPT conversations whose replies range from short to about `seq` tokens, so
    padding and packing make a difference."""
    rng = random.Random(seed)
    lines = [json.dumps({"conversations": [{"from": "human", "value": f"Tell me about voyage {index}."},
                                           {"from": "gpt", "value": random_reply(rng, seq)}]})
             for index in range(count)]
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
    from tuneforge.recipe import DPOSection, LoraSection, ModelSection, TrainSection, recipe_model

    dpo = DPOSection(beta=DPO_BETA, loss_type="sigmoid") if config.method == "dpo" else None
    return recipe_model()(name="bench", model=ModelSection(base=str(model_dir), max_seq_length=config.seq),
                  lora=LoraSection(r=32, alpha=32), data=bench_data_section(config, data_file),
                  train=TrainSection(max_steps=config.steps, batch_size=2, grad_accum=4, logging_steps=1,
                                     eval_steps=None, save_steps=10 ** 6, warmup_ratio=0.0,
                                     method=config.method, dpo=dpo),
                  eval={"held_out_loss": False})


def bench_data_section(config: Config, data_file: Path):
    """Overlength samples are kept and cut (DPO: TRL's collator cuts each row to max_length), so
    every configuration trains on all of its data."""
    if config.method == "dpo":
        from tuneforge.tasks.preference.schema import PreferenceSection

        return PreferenceSection(format="preference", train=[data_file], split={"val": 0.0},
                                 filter={"overlength": "truncate"})
    from tuneforge.tasks.conversation.schema import ConversationSection

    return ConversationSection(format="sharegpt", train=[data_file], split={"val": 0.0}, packing=config.packing,
                               filter={"overlength": "truncate"})


# ---------------------------------------------------------------- one configuration (child process)

def tuneforge_trainer(recipe, work: Path):
    from tuneforge.models import resolve_model
    from tuneforge.train.engine import import_unsloth
    from tuneforge.train.finetune import assemble_trainer

    import_unsloth()
    return assemble_trainer(recipe, resolve_model(recipe.model.base), work, {})


def baseline_trainer(recipe, work: Path):
    """transformers + PEFT + TRL, configured as their documentation shows, on the samples our data
    pipeline made (the same tokens for SFT; the same rows, in the same order, for DPO)."""
    import torch
    from trl import SFTTrainer

    from tuneforge.data.prepare import prepare_datasets
    from tuneforge.train.engine import sft_config, trainer_dataset

    model, tokenizer = baseline_model(recipe)
    datasets, report = prepare_datasets(recipe.data, tokenizer, recipe.model.max_seq_length)
    if recipe.train.method == "dpo":
        return baseline_dpo_trainer(model, tokenizer, recipe, report.split_files, work)
    trainer_class = SFTTrainer if torch.cuda.is_available() else cpu_sft_trainer()
    return trainer_class(model=model, processing_class=tokenizer, args=sft_config(recipe, work / "checkpoints", False),
                      train_dataset=trainer_dataset(datasets["train"]))


def baseline_model(recipe):
    """AutoModelForCausalLM (4-bit NF4 on a GPU) + HF gradient checkpointing + peft.get_peft_model."""
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    gpu = torch.cuda.is_available()
    tokenizer = AutoTokenizer.from_pretrained(recipe.model.base)
    quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                      bnb_4bit_compute_dtype=torch.bfloat16) if gpu else None
    model = AutoModelForCausalLM.from_pretrained(recipe.model.base, dtype=torch.bfloat16 if gpu else torch.float32,
                                                 quantization_config=quantization, attn_implementation=attention(),
                                                 device_map={"": 0} if gpu else None)
    if gpu:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.enable_input_require_grads()
    lora = recipe.lora
    model = get_peft_model(model, LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                             target_modules=lora.target_modules, bias=lora.bias, task_type="CAUSAL_LM"))
    return model, tokenizer


def baseline_dpo_trainer(model, tokenizer, recipe, split_files: Path, work: Path):
    """TRL's DPOTrainer with no reference model: TRL takes the reference from the PEFT model itself.
    The schedule, batch and max_length (= the sequence length) are the ones our path's config gets."""
    import torch
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from tuneforge.data.splits import read_split_file
    from tuneforge.tasks.preference.data import preference_rows
    from tuneforge.train.distributed import World
    from tuneforge.train.engine import training_arguments

    if not torch.cuda.is_available():
        cpu_log_probs()
    rows = preference_rows(read_split_file(split_files / "train.jsonl"))
    args = DPOConfig(**training_arguments(recipe, work / "checkpoints", False, World(), {}),
                     beta=recipe.train.dpo.beta, loss_type=[recipe.train.dpo.loss_type])
    return DPOTrainer(model=model, ref_model=None, processing_class=tokenizer, args=args,
                      train_dataset=Dataset.from_list(rows))


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
            values = {"entropy": -(log_probs.exp() * log_probs).sum(-1),
                      "log_sum_sq_probs": torch.logsumexp(2 * log_probs, -1), "mean_logits": logits.mean(-1),
                      "is_top1": logits.argmax(-1) == targets}  # the kernel's optional outputs, in its order
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
    return {**asdict(config), "timed_steps": steps, "step_s": round((t1 - t0) / steps, 3),
            "tokens_per_s": round(tokens_per_s, 1), "non_padding_tokens": int(n1 - n0),
            "peak_memory_gib": round((torch.cuda.max_memory_allocated() if gpu else peak_rss()) / 2 ** 30, 3),
            "memory_kind": "cuda max_memory_allocated" if gpu else "peak RSS",
            "packing_effective": bool(getattr(trainer.args, "packing", False)), "params": shape["params"],
            "model_tflops": round(tokens_per_s * flops_per_token / 1e12, 3),
            "mfu": round(tokens_per_s * flops_per_token / (peak * 1e12), 4) if peak else None,
            "device": torch.cuda.get_device_name() if gpu else "cpu", "attention": attention(),
            "unsloth_loaded": "unsloth" in sys.modules, **dpo_facts(config, trainer, n1)}


def model_flops_per_token(shape: dict, seq: int, method: str) -> int:
    """Model FLOPs per non-padding token (module docstring): training's 6·N + 12·L·H·D·T, plus for
    DPO the reference forward on the same token, a third of that again."""
    training = 6 * shape["params"] + 12 * shape["num_hidden_layers"] * shape["num_attention_heads"] \
        * shape["head_dim"] * seq
    return training + training // 3 if method == "dpo" else training


def dpo_facts(config: Config, trainer, tokens_seen: int) -> dict:
    """Which reference DPO's trainer used, and its own token count beside the Trainer's (they count
    the same attention masks, so they agree unless a count is wrong)."""
    if config.method != "dpo":
        return {}
    unwrapped = trainer.accelerator.unwrap_model(trainer.model)
    logged = [entry["num_tokens"] for entry in trainer.state.log_history if "num_tokens" in entry]
    reference = "ref adapter (copy of the fresh adapter)" if "ref" in getattr(unwrapped, "peft_config", {}) \
        else "adapter disabled" if trainer.ref_model is None else "separate model"
    return {"reference": reference, "trl_num_tokens": int(logged[-1]) if logged else None,
            "trainer_tokens_seen": int(tokens_seen)}


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def peak_tflops(device_name: str) -> float | None:
    return next((peak for name, peak in PEAK_TFLOPS if name in device_name), None)


# ---------------------------------------------------------------- the sweep (parent process)

def configs(shapes: list[str], seqs: list[int], packing: list[bool], paths: list[str], steps: int,
            warmup: int, tokenizer: str = "", method: str = "sft") -> list[Config]:
    return [Config(path, shape, seq, pack, steps, warmup, tokenizer, method)
            for shape in shapes for seq in seqs for pack in packing for path in paths]


def run_in_child(config: Config) -> dict:
    """One configuration in a fresh interpreter; its result comes back through a JSON file."""
    with tempfile.TemporaryDirectory(prefix="tuneforge-bench-") as scratch:
        result_file = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "tuneforge.bench.train", json.dumps(asdict(config)), str(result_file)]
        log.info("training benchmark: %s", asdict(config))
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
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
    lines = [f"**Partial: {len(results)} of {planned} configurations (the sweep was still running or was "
             "stopped).**\n"] if planned is not None and len(results) < planned else []
    lines += [f"Method: {method_line(results)}\n",
              "| shape | seq | packing (asked → effective) | path | s/step | non-padding tok/s | peak memory (GiB) "
             "| model TFLOP/s | MFU | vs baseline tok/s | vs baseline memory |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        packing = f"{'on' if r['packing'] else 'off'} → {'on' if r.get('packing_effective') else 'off'}"
        if "skipped" in r:
            lines.append(f"| {r['shape']} | {r['seq']} | {'on' if r['packing'] else 'off'} | {r['path']} | "
                         f"skipped: {r['skipped']} | | | | | | |")
            continue
        if "error" in r:
            lines.append(f"| {r['shape']} | {r['seq']} | {'on' if r['packing'] else 'off'} | {r['path']} | "
                         f"failed: {r['error'][:80]} | | | | | | |")
            continue
        base = _baseline_of(r, results)
        speed = f"{r['tokens_per_s'] / base['tokens_per_s']:.2f}×" if base else ""
        memory = f"{r['peak_memory_gib'] / base['peak_memory_gib']:.2f}×" if base else ""
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "n/a (no GPU)"
        lines.append(f"| {r['shape']} | {r['seq']} | {packing} | {r['path']} | {r['step_s']} | {r['tokens_per_s']} | "
                     f"{r['peak_memory_gib']} | {r['model_tflops']} | {mfu} | {speed} | {memory} |")
    device = next((r["device"] for r in results if "device" in r), "?")
    memory_kind = next((r["memory_kind"] for r in results if "memory_kind" in r), "?")
    unit = " pairs" if any(r.get("method") == "dpo" for r in results) else ""
    return "\n".join(lines) + f"\n\nDevice: {device}; memory: {memory_kind}; batch 2{unit} × accumulation 4, LoRA r=32.\n"


def method_line(results: list[dict]) -> str:
    """What the table's rows trained, and what its token and MFU columns count (module docstring)."""
    return " ".join(METHOD_NOTES[m] for m in sorted({r.get("method", "sft") for r in results}))


def _baseline_of(result: dict, results: list[dict]) -> dict | None:
    if result["path"] == "baseline":
        return None
    return next((r for r in results if r["path"] == "baseline" and "error" not in r and "skipped" not in r and
                 _key(r) == _key(result)), None)


def _key(result: dict) -> tuple:
    return result.get("method", "sft"), result["shape"], result["seq"], result["packing"]


def main() -> None:
    """Child entry point: `python -m tuneforge.bench.train CONFIG_JSON RESULT_FILE`."""
    config = Config(**json.loads(sys.argv[1]))
    if config.path == "tuneforge":
        from tuneforge.train.engine import import_unsloth

        import_unsloth()  # before transformers, as in `tuneforge train`
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    result = run_config(config)
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
