"""The Unsloth engine: load the base model, attach LoRA, and the settings every method's TRL config shares.

One code path for CPU and GPU. On a machine without a GPU, Unsloth (2026.10.9+) falls back
to the CPU by itself; nothing here branches on that except the optimizer and precision defaults.
`unsloth` is imported before transformers/trl/peft because it patches them on import.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.models import ResolvedModel
from tuneforge.recipe.schema import DEFAULT_GRAD_ACCUM, LoraSection, ModelSection, Recipe, TrainSection
from tuneforge.train.best_checkpoint import best_checkpoint_arguments
from tuneforge.train.distributed import World, backend
from tuneforge.train.strategy import trainer_arguments

log = logging.getLogger(__name__)


def import_unsloth():
    try:
        import unsloth  # noqa: F401 - must come first: it patches transformers, trl and peft
        from unsloth import FastLanguageModel
    except ImportError as exc:
        raise UserError(f"the training stack is not installed ({exc})", fix="run `make setup`") from None
    return FastLanguageModel


def torch_dtype(name: str):
    import torch

    return None if name == "auto" else getattr(torch, name)


def has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def effective_4bit(setting: str | bool) -> bool:
    return has_gpu() if setting == "auto" else setting


def effective_checkpointing(setting: str | bool) -> str | bool:
    return ("unsloth" if has_gpu() else False) if setting == "auto" else setting


def load_base(model_cfg: ModelSection, base: ResolvedModel):
    """FastLanguageModel (4-bit where the recipe asks) with the recipe's context length."""
    FastLanguageModel = import_unsloth()
    model, tokenizer = FastLanguageModel.from_pretrained(
        str(base.path),
        max_seq_length=model_cfg.max_seq_length,
        load_in_4bit=effective_4bit(model_cfg.load_in_4bit),
        dtype=torch_dtype(model_cfg.dtype),
        trust_remote_code=model_cfg.trust_remote_code,
        local_files_only=True,
    )
    if tokenizer.pad_token is None:  # batches need padding; the pad positions never carry loss
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def check_target_modules(model, wanted: list[str]) -> None:
    names = {name.rsplit(".", 1)[-1] for name, module in model.named_modules() if _is_linear(module)}
    missing = [name for name in wanted if name not in names]
    if missing:
        raise UserError(
            f"lora.target_modules names modules this model does not have: {missing}",
            fix=f"choose from: {', '.join(sorted(names - {'lm_head'}))}",
        )


def _is_linear(module) -> bool:
    return type(module).__name__ in ("Linear", "Linear4bit", "Linear8bitLt")


def attach_lora(model, lora: LoraSection, gradient_checkpointing: str | bool, seed: int):
    FastLanguageModel = import_unsloth()
    check_target_modules(model, lora.target_modules)
    return FastLanguageModel.get_peft_model(
        model,
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        bias=lora.bias,
        use_rslora=lora.use_rslora,
        use_gradient_checkpointing=effective_checkpointing(gradient_checkpointing),
        random_state=seed,
    )


def continue_adapter(model, adapter_dir: Path):
    """Load a run's adapter onto the base model, trainable, to train it further."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=True)


def precision_flags(precision: str) -> dict[str, bool]:
    """auto: bf16 on GPUs that have it, else fp16 on GPU, fp32 on CPU."""
    import torch

    if precision == "auto":
        if not has_gpu():
            precision = "fp32"
        else:
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def optimizer_name(optim: str) -> str:
    """auto: 8-bit AdamW on a GPU (bitsandbytes), plain AdamW on a CPU."""
    if optim != "auto":
        return optim
    return "adamw_8bit" if has_gpu() else "adamw_torch"


def accumulation(train: TrainSection, world_size: int) -> int:
    """Forward passes per optimizer step: train.grad_accum, or derived from train.global_batch_size
    so that the effective batch does not depend on the number of processes."""
    if train.global_batch_size is None:
        return train.grad_accum or DEFAULT_GRAD_ACCUM
    per_pass = train.batch_size * world_size
    if train.global_batch_size % per_pass:
        raise UserError(
            f"train.global_batch_size: {train.global_batch_size} does not divide into {world_size} process(es) "
            f"x batch_size {train.batch_size} = {per_pass} samples per forward pass",
            fix=f"make it a multiple of {per_pass}, or change train.batch_size or the number of devices",
        )
    return train.global_batch_size // per_pass


def training_arguments(
    recipe: Recipe, checkpoints_dir: Path, has_val: bool, world: World, engine_arguments: dict
) -> dict:
    """The settings every method's TRL config shares: schedule, optimizer, checkpoints, logging, devices, and
    the held-out measure's judgement of checkpoints (early stopping, keep_best)."""
    train = recipe.train
    evaluate = has_val and train.eval_steps is not None
    return dict(
        output_dir=str(checkpoints_dir),
        num_train_epochs=train.epochs,
        max_steps=train.max_steps or -1,
        per_device_train_batch_size=train.batch_size,
        per_device_eval_batch_size=train.batch_size,
        gradient_accumulation_steps=accumulation(train, world.size),
        learning_rate=train.lr,
        lr_scheduler_type=train.lr_scheduler,
        warmup_steps=train.warmup_ratio,
        weight_decay=train.weight_decay,
        max_grad_norm=train.max_grad_norm,
        optim=optimizer_name(train.optim),
        seed=train.seed,
        data_seed=train.seed,
        logging_steps=train.logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=train.eval_steps if evaluate else None,
        save_strategy="steps",
        save_steps=train.save_steps,
        save_total_limit=train.save_total_limit,
        max_length=recipe.model.max_seq_length,
        # train.report_to: transformers' own tracker callbacks (rank 0 logs); tuneforge.train.tracking places them
        report_to=list(dict.fromkeys(train.report_to)) or "none",
        run_name=checkpoints_dir.parent.name,  # the run folder's id, as the trackers' run name
        project=recipe.name,  # trackio's project
        dataloader_num_workers=0,
        **precision_flags(train.precision),
        **trainer_arguments(world, train.distributed),
        **best_checkpoint_arguments(recipe, evaluate),
        **engine_arguments,
    )


def sft_config(
    recipe: Recipe, checkpoints_dir: Path, has_val: bool, world: World = World(), engine_arguments: dict | None = None
):
    from trl import SFTConfig

    return SFTConfig(
        **training_arguments(recipe, checkpoints_dir, has_val, world, engine_arguments or {}),
        packing=recipe.data.packing,
        include_num_input_tokens_seen="non_padding",
        **sampling_strategy(recipe.data.group_by_length),
    )


def sampling_strategy(group_by_length: bool) -> dict:
    """data.group_by_length: transformers' LengthGroupedSampler (batches of similar lengths, random between
    groups); otherwise the config's own default order."""
    return {"train_sampling_strategy": "group_by_length"} if group_by_length else {}


def trainer_dataset(dataset):
    """Only the columns the trainer consumes; `labels` already masks non-assistant tokens."""
    return dataset.select_columns(["input_ids", "labels"])


def effective_settings(recipe: Recipe, world: World, strategy: str) -> dict:
    """What the "auto" settings became on this machine and this many processes, for the manifest
    and the log."""
    train = recipe.train
    accumulate = accumulation(train, world.size)
    settings = {
        "method": train.method,
        "world_size": world.size,
        "nodes": world.nodes,
        "strategy": strategy,
        "backend": backend() if world.size > 1 else None,
        "per_device_batch": train.batch_size,
        "grad_accum": accumulate,
        "global_batch": train.batch_size * accumulate * world.size,
        "gpu": has_gpu(),
        "load_in_4bit": effective_4bit(recipe.model.load_in_4bit),
        "gradient_checkpointing": effective_checkpointing(recipe.train.gradient_checkpointing),
        "optim": optimizer_name(recipe.train.optim),
        **precision_flags(recipe.train.precision),
    }
    log.info("effective settings on this machine: %s", settings)
    return settings
