"""`train.distributed.strategy`: what it becomes for this many processes, what the engines are told,
and a check that it really is what runs (no silent fallback).

- ddp: the Trainer's own DistributedDataParallel (accelerate wraps the model at train()).
- fsdp2: Unsloth's native FSDP2 (unsloth/models/fsdp2_native.py): torch's `fully_shard` per decoder
  block, applied when the Trainer is built, so accelerate sees an already sharded model and wraps
  nothing. Its checkpoints hold full state dicts (adapter and optimizer), which is what lets a run
  resume on another number of processes. It is used rather than accelerate's FSDP plugin because
  the plugin does not engage without a GPU (it silently trains as DDP there), while this path
  shards on a gloo CPU mesh as on GPUs.
- deepspeed: ZeRO through the Trainer's `deepspeed=` config (accelerate's DeepSpeed plugin); the
  config is generated from the recipe into the run folder. DeepSpeed's engine needs GPUs.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.files import write_json_atomic
from tuneforge.recipe.schema import DistributedSection
from tuneforge.train.distributed import World, backend

SINGLE = "single"  # one process: no strategy applies
DEEPSPEED_CONFIG = "deepspeed.json"


def resolve_strategy(section: DistributedSection, world: World) -> str:
    if world.size == 1:
        return SINGLE
    return "ddp" if section.strategy == "auto" else section.strategy


def check_available(strategy: str, gpus: int) -> None:
    """Refuse, before any process starts, a strategy this machine cannot run."""
    if strategy != "deepspeed":
        return
    if importlib.util.find_spec("deepspeed") is None:
        raise UserError(
            "train.distributed.strategy: deepspeed is not installed",
            fix="run `make setup-deepspeed`, or choose strategy ddp or fsdp2",
        )
    if gpus == 0:
        raise UserError(
            "train.distributed.strategy: DeepSpeed's ZeRO engine needs GPUs and this machine has none",
            fix="choose strategy fsdp2 (it shards on CPU processes too) or ddp",
        )


def engine_environment(strategy: str, section: DistributedSection) -> dict[str, str]:
    """Variables Unsloth and accelerate read when they are imported and when the Trainer is built."""
    import torch

    variables = {}
    if strategy != SINGLE and not torch.cuda.is_available():
        # accelerate names a CPU process's device "cpu:<rank>", which torch.load cannot map a
        # checkpoint onto (resuming a multi-process CPU run failed); plain "cpu" is the same device.
        variables["ACCELERATE_TORCH_DEVICE"] = "cpu"
    if strategy == "fsdp2":
        variables |= {"UNSLOTH_FSDP2": "1", "UNSLOTH_FSDP2_CPU_OFFLOAD": "1" if section.cpu_offload else "0"}
    return variables


def deepspeed_config(section: DistributedSection) -> dict:
    """A ZeRO config whose batch, accumulation and precision the Trainer fills in ("auto")."""
    zero: dict = {"stage": section.zero_stage, "overlap_comm": True, "contiguous_gradients": True}
    if section.cpu_offload:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
        if section.zero_stage == 3:
            zero["offload_param"] = {"device": "cpu", "pin_memory": True}
    if section.zero_stage == 3:
        zero["stage3_gather_16bit_weights_on_model_save"] = True  # the adapter is saved whole
    return {
        "train_micro_batch_size_per_gpu": "auto",
        "gradient_accumulation_steps": "auto",
        "gradient_clipping": "auto",
        "bf16": {"enabled": "auto"},
        "fp16": {"enabled": "auto"},
        "zero_optimization": zero,
    }


def write_engine_config(strategy: str, section: DistributedSection, world: World, run_dir: Path) -> dict:
    """The strategy's settings as the engines get them, saved in the run folder (distributed.json,
    and deepspeed.json for ZeRO); returns the trainer arguments that carry them."""
    record = {"strategy": strategy, "world_size": world.size, "nodes": world.nodes, "backend": backend()}
    record["environment"] = engine_environment(strategy, section)
    arguments: dict = {}
    if strategy == "deepspeed":
        path = run_dir / DEEPSPEED_CONFIG
        if world.is_main:
            write_json_atomic(path, deepspeed_config(section))
        arguments["deepspeed"] = str(path)
    if world.is_main:
        write_json_atomic(run_dir / "distributed.json", record)
    return arguments


def trainer_arguments(world: World, section: DistributedSection) -> dict:
    """TRL config settings for a run of more than one process (none for one process)."""
    if world.size == 1:
        return {}
    import torch

    return {
        "use_cpu": not torch.cuda.is_available(),
        "ddp_backend": backend(),
        "ddp_timeout": section.timeout_s,
        "disable_tqdm": not world.is_main,  # one progress bar, from rank 0
        "log_on_each_node": False,
    }


def sharding(model) -> dict:
    """How much of the trainable parameters this rank holds (1.0 unless they are sharded)."""
    from torch.distributed.tensor import DTensor

    full = local = sharded = 0
    for parameter in model.parameters():
        if not parameter.requires_grad:
            continue
        full += parameter.numel()
        if isinstance(parameter, DTensor):
            sharded += 1
            local += parameter.to_local().numel()
        else:
            local += parameter.numel()
    return {"sharded_parameters": sharded, "local_fraction": round(local / full, 4) if full else None}


def strategy_in_effect(trainer) -> str:
    """What the Trainer really runs, read from the model it trains."""
    from torch.nn.parallel import DistributedDataParallel

    if sharding(trainer.model)["sharded_parameters"]:
        return "fsdp2"
    if getattr(trainer, "is_deepspeed_enabled", False):
        return "deepspeed"
    if isinstance(trainer.model_wrapped, DistributedDataParallel):
        return "ddp"
    return SINGLE


def check_in_effect(requested: str, trainer) -> str:
    """Asking for one strategy and getting another is an error, never a silent fallback."""
    actual = strategy_in_effect(trainer)
    if actual != requested:
        raise UserError(
            f"train.distributed.strategy: {requested} was asked for, but training ran as {actual}",
            fix=_fallback_fix(requested),
        )
    return actual


def _fallback_fix(requested: str) -> str:
    if requested == "fsdp2":
        return "check that Unsloth's native FSDP2 is available (unsloth >= 2026.10) and UNSLOTH_FSDP2 is not overridden"
    return "see the log above for why the engine did not engage"


def apply_environment(strategy: str, section: DistributedSection) -> None:
    """Set before unsloth is imported: it reads these to decide how to shard."""
    os.environ.update(engine_environment(strategy, section))
