"""`tuneforge train`: recipe → run folder with an adapter, metrics, a loss curve and a manifest.

tuneforge train quickstart                     # a shipped recipe, by name
tuneforge train my.yaml -o train.lr=1e-4       # a file, with overrides
tuneforge train quickstart --resume auto       # continue an interrupted run
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from tuneforge.data.prepare import DataReport, prepare_datasets, read_conversations
from tuneforge.data.splits import copy_split_files
from tuneforge.models import ResolvedModel, resolve_model
from tuneforge.recipe import Recipe, recipe_to_yaml
from tuneforge.runs import (
    MANIFEST,
    RESOLVED_RECIPE,
    create_run_dir,
    git_commit,
    latest_checkpoint,
    machine_description,
    package_versions,
    read_manifest,
    write_json_atomic,
    write_text_atomic,
)
from tuneforge.train.resume import select_resume

log = logging.getLogger(__name__)
ADAPTER_DIR = "adapter"


def start_manifest(run_dir: Path, recipe: Recipe, source: Path) -> dict:
    manifest = {
        "status": "running",
        "recipe": recipe.name,
        "recipe_source": str(source),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "packages": package_versions(),
        "machine": machine_description(),
    }
    write_json_atomic(run_dir / MANIFEST, manifest)
    return manifest


def open_run(recipe: Recipe, source: Path, runs_root: Path, resume: str, run_id: str | None):
    """Returns (run folder, checkpoint to resume or None, manifest)."""
    resolved_yaml = recipe_to_yaml(recipe)
    found = select_resume(resume, runs_root, recipe.name, resolved_yaml)
    if found:
        run_dir, checkpoint = found
        log.info("resuming %s from %s", run_dir, checkpoint.name)
        manifest = read_manifest(run_dir) | {"status": "running"}
        write_json_atomic(run_dir / MANIFEST, manifest)
        return run_dir, checkpoint, manifest
    run_dir = create_run_dir(runs_root, recipe.name, run_id)
    write_text_atomic(run_dir / RESOLVED_RECIPE, resolved_yaml)
    return run_dir, None, start_manifest(run_dir, recipe, source)


def save_adapter(model, tokenizer, run_dir: Path) -> Path:
    """Adapter weights (safetensors) and tokenizer, written aside and renamed into place."""
    final = run_dir / ADAPTER_DIR
    staging = run_dir / f".{ADAPTER_DIR}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(str(staging), safe_serialization=True)
    tokenizer.save_pretrained(str(staging))
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    return final


def held_out_loss(trainer, has_val: bool) -> float | None:
    return trainer.evaluate()["eval_loss"] if has_val else None


def train_recipe(
    recipe: Recipe, source: Path, runs_root: Path = Path("runs"), resume: str = "auto", run_id: str | None = None
) -> Path:
    """Train one recipe; returns the completed run folder."""
    from tuneforge.train.engine import import_unsloth

    import_unsloth()  # before transformers: Unsloth patches it on import
    from tuneforge.train.callbacks import plot_loss

    base = preflight(recipe)
    run_dir, checkpoint, manifest = open_run(recipe, source, runs_root, resume, run_id)
    log.info("run folder: %s\n%s", run_dir, recipe_to_yaml(recipe))
    with failure_recorded(run_dir, manifest, source):
        trainer = assemble_trainer(recipe, base, run_dir, manifest)
        fit(trainer, recipe, checkpoint, manifest.setdefault("metrics", {}))
        save_adapter(trainer.model, trainer.processing_class, run_dir)
        plot_loss(run_dir / "metrics.jsonl", run_dir / "loss.png")
    manifest.update(status="complete", finished=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    write_json_atomic(run_dir / MANIFEST, manifest)
    log.info("done: %s\n%s", run_dir, json.dumps(manifest["metrics"], indent=2))
    return run_dir


def preflight(recipe: Recipe) -> ResolvedModel:
    """Checks that need no weights, before any run folder exists: the base model resolves and
    every data record parses (all problems reported together)."""
    base = resolve_model(recipe.model.base)
    read_conversations(recipe.data, DataReport())
    return base


def assemble_trainer(recipe: Recipe, base: ResolvedModel, run_dir: Path, manifest: dict):
    """Base model, data and LoRA, handed to TRL's SFTTrainer; records what it used in the manifest."""
    from transformers import set_seed

    from tuneforge.train.callbacks import MetricsFile
    from tuneforge.train.engine import attach_lora, build_trainer, effective_settings, load_base

    set_seed(recipe.train.seed)
    manifest["base_model"] = base.to_manifest()
    manifest["effective"] = effective_settings(recipe)
    model, tokenizer = load_base(recipe.model, base)
    datasets, report = prepare_datasets(recipe.data, tokenizer, recipe.model.max_seq_length)
    manifest["data"] = report.to_json()
    manifest["data_splits"] = copy_split_files(report.split_files, run_dir)  # later stages read only these
    write_json_atomic(run_dir / "data_report.json", report.to_json())
    model = attach_lora(model, recipe.lora, recipe.train.gradient_checkpointing, recipe.train.seed)
    trainer = build_trainer(model, tokenizer, recipe, datasets, run_dir, [MetricsFile(run_dir / "metrics.jsonl")])
    manifest["effective"]["packing"] = bool(trainer.args.packing)
    if recipe.data.packing and not trainer.args.packing:
        # Unsloth refuses packing where attention cannot keep packed samples apart (on a CPU:
        # no FlashAttention); training goes on with padded batches, and the manifest says so.
        log.warning("data.packing was requested but Unsloth turned it off on this machine; training unpacked")
    return trainer


def fit(trainer, recipe: Recipe, checkpoint: Path | None, metrics: dict) -> None:
    """Train (or continue), measuring held-out loss before and after."""
    has_val = trainer.eval_dataset is not None and recipe.eval.held_out_loss
    if checkpoint is None:
        metrics["held_out_loss_before"] = held_out_loss(trainer, has_val)
    tokens_before = tokens_seen_before(checkpoint)  # read now: checkpoint rotation may delete it
    started = time.time()
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    metrics.update(train_metrics(result, time.time() - started, trainer, tokens_before))
    metrics["held_out_loss_after"] = held_out_loss(trainer, has_val)


@contextmanager
def failure_recorded(run_dir: Path, manifest: dict, source: Path):
    """Any exit other than success leaves the manifest saying so (failed / interrupted)."""
    try:
        yield
    except BaseException as exc:
        manifest["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        manifest["error"] = f"{type(exc).__name__}: {exc}"
        write_json_atomic(run_dir / MANIFEST, manifest)
        if latest_checkpoint(run_dir):
            log.error(
                "run %s %s; `tuneforge train %s --resume auto` continues from its last checkpoint",
                run_dir,
                manifest["status"],
                source,
            )
        raise


def tokens_seen_before(checkpoint: Path | None) -> int:
    if checkpoint is None:
        return 0
    return json.loads((checkpoint / "trainer_state.json").read_text()).get("num_input_tokens_seen", 0)


def train_metrics(result, seconds: float, trainer, tokens_before: int) -> dict:
    """Throughput of this session of training (a resumed run counts only its own part).

    Tokens are non-padding input tokens, so padding never inflates the rate."""
    tokens = trainer.state.num_input_tokens_seen - tokens_before
    return {
        "global_step": trainer.state.global_step,
        "train_loss": result.training_loss,
        "train_seconds": round(seconds, 1),
        "input_tokens_this_session": tokens,
        "tokens_per_second": round(tokens / seconds, 1) if seconds else None,
    }
