"""`tuneforge train`: recipe → run folder with an adapter, metrics, a loss curve and a manifest.

tuneforge train quickstart                     # a shipped recipe, by name
tuneforge train my.yaml -o train.lr=1e-4       # a file, with overrides
tuneforge train quickstart --resume auto       # continue an interrupted run
tuneforge train translation --devices 2        # two processes (tuneforge.train.launch)

Under torchrun every process runs this; rank 0 alone writes the run folder (tuneforge.train.distributed).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from tuneforge.console import during_data_step, quiet_progress
from tuneforge.data.prepare import DataReport, prepare_datasets, read_conversations
from tuneforge.data.splits import copy_split_files
from tuneforge.errors import StopRequested, UserError
from tuneforge.files import atomic_folder, sha256_file, write_json_atomic
from tuneforge.models import ResolvedModel, resolve_model
from tuneforge.process import die_with_parent
from tuneforge.recipe.checks import tracker_problems
from tuneforge.recipe.loading import recipe_to_yaml, shipped_recipes
from tuneforge.recipe.schema import Recipe
from tuneforge.registry import get_method
from tuneforge.run_folder import carry_inputs, evaluation_inputs
from tuneforge.runs import ADAPTER_DIR, MANIFEST, latest_checkpoint, read_manifest
from tuneforge.train import strategy as strategies
from tuneforge.train.best_checkpoint import checkpoint_choice, early_stopping_callbacks
from tuneforge.train.callbacks import MetricsFile, StopAtStepBoundary, StrategyCheck, TrackedSettings, plot_loss
from tuneforge.train.continuity import ResumeContinuity
from tuneforge.train.distributed import (
    World,
    current_world,
    init_process_group,
    local_main_first,
    quiet_other_ranks,
    share,
)
from tuneforge.train.engine import attach_lora, continue_adapter, effective_settings, import_unsloth, load_base
from tuneforge.train.fingerprint import training_fingerprint
from tuneforge.train.job import TrainingJob
from tuneforge.train.resume import checkpoint_step, open_run, trainer_state
from tuneforge.train.tracking import point_at_run, tracking_session

log = logging.getLogger(__name__)
LAUNCH_RECORD = "TUNEFORGE_LAUNCH_RECORD"  # a file the launcher reads back: the run folder in use


def open_shared_run(
    recipe: Recipe,
    source: Path,
    runs_root: Path,
    resume: str,
    run_id: str | None,
    world: World,
    base: ResolvedModel,
    strategy: str,
):
    """Rank 0 picks the run folder and the resume checkpoint once (comparing a run to resume with this session's
    training facts, which it alone reads); every rank gets its decision (or its error, so that no rank waits
    for a decision that never comes)."""
    decision = None
    if world.is_main:
        try:
            facts = training_fingerprint(recipe, base, world, strategy)
            decision = open_run(recipe, source, runs_root, resume, run_id, facts)
        except UserError as error:
            decision = error
    decision = share(decision, world)
    if isinstance(decision, UserError):
        raise decision
    record_launch(decision[0])
    return decision


def session_record(world: World, strategy: str, checkpoint: Path | None) -> dict:
    """One entry per training session of the run: a resumed run may continue on other devices."""
    return {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "from_step": checkpoint_step(checkpoint) if checkpoint else 0,
        "world_size": world.size,
        "nodes": world.nodes,
        "strategy": strategy,
    }


def stop_with_launcher() -> None:
    """If torchrun dies (even by SIGKILL), this process gets SIGTERM: it never outlives its launcher."""
    arm = die_with_parent(os.getppid())
    if arm:
        arm()


def record_launch(run_dir: Path) -> None:
    """Tell `tuneforge train --devices` which folder its workers use, so that it can mark the run
    failed if a worker dies without a word (SIGKILL, out of memory)."""
    record = os.environ.get(LAUNCH_RECORD)
    if record:
        Path(record).write_text(str(run_dir), encoding="utf-8")


def save_adapter(trainer, run_dir: Path, world: World) -> Path:
    """Adapter weights (safetensors) and tokenizer, written aside and renamed into place. Every rank
    takes part (under FSDP2 the full weights are gathered from the shards); rank 0 writes."""
    final = run_dir / ADAPTER_DIR
    with main_rank_staging(final, world) as staging:
        trainer.save_model(str(staging))
        if world.is_main:
            (staging / "training_args.bin").unlink(missing_ok=True)  # a pickle; the manifest has the settings
            shutil.rmtree(staging / "ref", ignore_errors=True)  # DPO's frozen reference copy, not the result
    return final


@contextmanager
def main_rank_staging(final: Path, world: World):
    """Rank 0's staging folder for `final` (tuneforge.files.atomic_folder), the same folder on every rank."""
    if not world.is_main:
        yield share(None, world)
        return
    with atomic_folder(final) as staging:
        yield share(staging, world)


def train_recipe(
    recipe: Recipe, source: Path, runs_root: Path = Path("runs"), resume: str = "auto", run_id: str | None = None
) -> Path:
    """Train one recipe; returns the completed run folder. Under torchrun, one call per process."""
    check_trackers(recipe)  # in a second, before the training stack loads
    world = current_world()
    strategy = strategies.resolve_strategy(recipe.train.distributed, world)
    strategies.apply_environment(strategy, recipe.train.distributed)
    quiet_other_ranks(world)
    import_unsloth()  # before transformers: Unsloth patches it on import
    init_process_group(world, recipe.train.distributed.timeout_s)
    if world.size > 1:
        stop_with_launcher()
    base = preflight(recipe)
    run_dir, checkpoint, manifest, resumed = open_shared_run(
        recipe, source, runs_root, resume, run_id, world, base, strategy
    )
    log.info("run folder: %s\n%s", run_dir, recipe_to_yaml(recipe))
    session = session_record(world, strategy, checkpoint) | ({"changed": resumed.changed} if resumed else {})
    manifest.setdefault("sessions", []).append(session)
    with failure_recorded(run_dir, manifest, source, world):
        stop = StopAtStepBoundary(world)
        continuity = [ResumeContinuity(resumed.checkpoint_step, resumed.losses_before, session)] if resumed else []
        trainer = assemble_trainer(recipe, base, run_dir, manifest, world, strategy, [stop, *continuity])
        with tracking_session(recipe, run_dir, manifest, world.is_main, stopped=lambda: stop.signum is not None):
            fit(trainer, recipe, checkpoint, manifest.setdefault("metrics", {}), stop)
        if stop.signum is not None:
            manifest["stopped_at_step"] = stop.stopped_at
            raise StopRequested(stop.signum)
        choice = checkpoint_choice(trainer, recipe)
        manifest["metrics"].update(choice.to_manifest(recipe.train))
        save_adapter(trainer, run_dir, world)
        if world.is_main:  # the only process that ever imports matplotlib
            plot_loss(
                run_dir / "metrics.jsonl",
                run_dir / "loss.png",
                best_step=choice.best_step,
                stopped_step=choice.early_stopped_at,
            )
    manifest.update(status="complete", finished=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    if world.is_main:
        write_json_atomic(run_dir / MANIFEST, manifest)
        log.info("done: %s\n%s", run_dir, json.dumps(manifest["metrics"], indent=2))
    return run_dir


def preflight(recipe: Recipe) -> ResolvedModel:
    """Checks that need no weights, before any run folder exists: the base model resolves, every data
    record parses (all problems reported together), and the method's own checks of the samples pass."""
    base = resolve_model(recipe.model.base)
    check_parent(recipe, base)
    samples = read_conversations(recipe.data, DataReport())
    get_method(recipe.train.method).preflight(recipe, samples)
    return base


def check_trackers(recipe: Recipe) -> None:
    """Every tracker of train.report_to is installed (exit 2 naming its pip extra otherwise)."""
    problems = tracker_problems(recipe.train)
    if problems:
        raise UserError(
            "a tracker of train.report_to is missing:", problems, fix="install it, or remove it from the list"
        )


def assemble_trainer(
    recipe: Recipe,
    base: ResolvedModel,
    run_dir: Path,
    manifest: dict,
    world: World = World(),
    strategy: str = strategies.SINGLE,
    callbacks: list = (),
):
    """Base model, data and LoRA, handed to the method's TRL trainer (tuneforge/train/methods/); records
    what it used in the manifest."""
    from transformers import set_seed

    set_seed(recipe.train.seed)
    manifest["base_model"] = base.to_manifest()
    manifest["effective"] = effective_settings(recipe, world, strategy)
    model, tokenizer = load_base(recipe.model, base)
    datasets, split_folder = prepare_data(recipe, tokenizer, run_dir, manifest, world)
    check = StrategyCheck(strategy)
    job = TrainingJob(
        model=adapted_model(model, recipe, manifest),
        tokenizer=tokenizer,
        recipe=recipe,
        datasets=datasets,
        split_folder=split_folder,
        run_dir=run_dir,
        callbacks=[MetricsFile(run_dir / "metrics.jsonl"), check, *early_stopping_callbacks(recipe.train), *callbacks],
        world=world,
        engine_arguments=strategies.write_engine_config(strategy, recipe.train.distributed, world, run_dir),
    )
    with quiet_progress():  # the trainer's own passes over data the data step already prepared
        trainer = get_method(recipe.train.method).build_trainer(job)
    check.trainer = trainer
    if recipe.train.report_to:
        track_run(trainer, recipe, manifest, run_dir)
    record_trainer(trainer, recipe, manifest)
    return trainer


def prepare_data(recipe: Recipe, tokenizer, run_dir: Path, manifest: dict, world: World) -> tuple[dict, Path]:
    """The tokenized splits and the folder of their samples; rank 0 copies the samples and what the recipe's
    evaluations read (probe prompts, an author's articles) into the run (later stages read only these) and
    writes the data report."""
    with local_main_first(world), during_data_step():  # the others read the tokenized cache it leaves
        datasets, report = prepare_datasets(recipe.data, tokenizer, recipe.model.max_seq_length)
    manifest["data"] = report.to_json()
    if world.is_main:
        manifest["data_splits"] = copy_split_files(report.split_files, run_dir)
        manifest["inputs"] = carry_inputs(run_dir, evaluation_inputs(recipe))
        write_json_atomic(run_dir / "data_report.json", report.to_json())
    return datasets, report.split_files


def record_trainer(trainer, recipe: Recipe, manifest: dict) -> None:
    """What the trainer really does about packing and sharding, in the manifest."""
    manifest["effective"]["packing"] = bool(getattr(trainer.args, "packing", False))  # DPO never packs
    manifest["effective"]["sharding"] = strategies.sharding(trainer.model)
    if recipe.data.packing and not manifest["effective"]["packing"]:
        # Unsloth refuses packing where attention cannot keep packed samples apart (on a CPU:
        # no FlashAttention); training goes on with padded batches, and the manifest says so.
        log.warning("data.packing was requested but Unsloth turned it off on this machine; training unpacked")


def track_run(trainer, recipe: Recipe, manifest: dict, run_dir: Path) -> None:
    """The trackers' files go into the run folder, and they get the run's settings at the start of training."""
    point_at_run(trainer, run_dir)
    trainer.add_callback(TrackedSettings(trainer, recipe, manifest))  # after the trackers' own callbacks


def adapted_model(model, recipe: Recipe, manifest: dict):
    """A fresh LoRA, or the adapter of the run that model.adapter names, trained further."""
    if recipe.model.adapter is None:
        return attach_lora(model, recipe.lora, recipe.train.gradient_checkpointing, recipe.train.seed)
    manifest["parent"] = parent_record(recipe.model.adapter)
    return continue_adapter(model, recipe.model.adapter / ADAPTER_DIR)


def parent_record(parent: Path) -> dict:
    manifest = read_manifest(parent)
    return {
        "run": str(parent),
        "recipe": manifest.get("recipe"),
        "adapter_sha256": sha256_file(parent / ADAPTER_DIR / "adapter_model.safetensors"),
    }


def check_parent(recipe: Recipe, base: ResolvedModel) -> None:
    """model.adapter must come from a complete run on the same base model."""
    parent = recipe.model.adapter
    if parent is None:
        return
    manifest = read_manifest(parent)
    if manifest.get("status") != "complete":
        raise UserError(f"model.adapter: {parent} is not a complete run (status: {manifest.get('status')})")
    trained_on = manifest.get("base_model", {})
    if trained_on.get("identity") != base.identity or trained_on.get("ref") != base.ref:
        raise UserError(
            f"model.adapter: {parent} was trained on {trained_on.get('ref')}, but this recipe's model.base is {base.ref}",
            fix="set model.base to the parent run's base model, or start from a run of this base",
        )


def fit(trainer, recipe: Recipe, checkpoint: Path | None, metrics: dict, stop) -> None:
    """Train (or continue), measuring the method's held-out measure (a loss; GRPO: a reward) before and after;
    a stop signal ends it at the next step boundary with a checkpoint (stop.signum says which signal)."""
    has_val = trainer.eval_dataset is not None and recipe.eval.held_out_loss
    name, key = get_method(recipe.train.method).held_out
    # Measured inside train(), once the model is wrapped: an evaluate() before train() marks the model
    # prepared, and accelerate then never wraps it in DDP (the ranks would train unsynchronised).
    trainer.args.eval_on_start = checkpoint is None and has_val
    tokens_before = tokens_seen_before(checkpoint)  # read now: checkpoint rotation may delete it
    started = time.time()
    with stop.armed():
        result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    metrics.update(train_metrics(result, time.time() - started, trainer, tokens_before))
    if checkpoint is None:
        metrics[f"{name}_before"] = first_logged(trainer, key) if has_val else None
    if stop.signum is None:
        metrics[f"{name}_after"] = trainer.evaluate()[key] if has_val else None


@contextmanager
def failure_recorded(run_dir: Path, manifest: dict, source: Path, world: World):
    """Any exit other than success leaves the manifest saying so (failed / interrupted)."""
    try:
        yield
    except BaseException as exc:
        if not world.is_main:
            raise
        manifest["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        manifest["error"] = f"{type(exc).__name__}: {exc}"
        write_json_atomic(run_dir / MANIFEST, manifest)
        if latest_checkpoint(run_dir):
            log.error(
                "run %s %s; `tuneforge train %s --resume %s` continues from its last checkpoint "
                "(with the same -o options and --profile as this run)",
                run_dir,
                manifest["status"],
                recipe_reference(source),
                run_dir,
            )
        raise


def recipe_reference(source: Path) -> str:
    """How the user names the recipe on the command line: a shipped one by its name, any other by its file."""
    return source.stem if shipped_recipes().get(source.stem) == source else str(source)


def first_logged(trainer, key: str) -> float:
    return next(entry[key] for entry in trainer.state.log_history if key in entry)


def tokens_seen_before(checkpoint: Path | None) -> int:
    if checkpoint is None:
        return 0
    return trainer_state(checkpoint).get("num_input_tokens_seen", 0)


def train_metrics(result, seconds: float, trainer, tokens_before: int) -> dict:
    """Throughput of this session of training (a resumed run counts only its own part).

    Tokens are non-padding input tokens, so padding never inflates the rate."""
    tokens = trainer.state.num_input_tokens_seen - tokens_before
    return {
        "global_step": trainer.state.global_step,
        "train_loss": result.training_loss,
        "train_seconds": round(seconds, 1),
        "input_tokens_this_session": tokens,
        "tokens_per_second": round(tokens / seconds, 1) if seconds and tokens else None,
    }
