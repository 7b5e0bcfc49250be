"""`tuneforge train`, `tuneforge eval` and `tuneforge export`: the stages of a run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tuneforge.cli_options import (
    RESUME_HELP,
    llamacpp_server_option,
    override_option,
    profile_option,
    refuse_options,
    runs_dir_option,
)
from tuneforge.evaluate.artifact import evaluate_artifacts
from tuneforge.evaluate.run import evaluate_run, summary_rows
from tuneforge.export.pipeline import export_run
from tuneforge.recipe.loading import load_recipe, recipe_to_yaml
from tuneforge.run_folder import load_run
from tuneforge.targets import resolve_run
from tuneforge.train.distributed import current_world
from tuneforge.train.finetune import train_recipe
from tuneforge.train.launch import LaunchOptions, launch


@click.command()
@click.argument("recipe")
@override_option
@profile_option
@click.option("--dry-run", is_flag=True, help="Print the resolved recipe and exit.")
@click.option("--resume", default="auto", show_default=True, help=RESUME_HELP)
@runs_dir_option
@click.option("--run-id", default=None, help="Name of the run folder (default: a UTC timestamp).")
@click.option(
    "--subset", type=float, default=None, help="Train on this fraction of the training split (-o data.subset=)."
)
@click.option("--epochs", type=float, default=None, help="Number of epochs (-o train.epochs=).")
@click.option(
    "--devices",
    type=click.IntRange(min=1),
    default=None,
    help="Training processes on this machine, one per GPU (CPU processes without GPUs), through torchrun.",
)
@click.option("--nnodes", type=click.IntRange(min=1), default=1, show_default=True, help="Machines taking part.")
@click.option("--node-rank", type=click.IntRange(min=0), default=0, show_default=True, help="This machine's index.")
@click.option("--master-addr", default=None, help="Address of machine 0 (with --nnodes).")
@click.option("--master-port", type=click.IntRange(1, 65535), default=None, help="Port on machine 0 (default 29500).")
@click.option("--rdzv-endpoint", default=None, metavar="HOST:PORT", help="Elastic (c10d) rendezvous instead.")
@click.pass_context
def train(
    ctx: click.Context,
    recipe: str,
    overrides: tuple[str, ...],
    profile: str | None,
    dry_run: bool,
    resume: str,
    runs_dir: Path,
    run_id: str | None,
    subset: float | None,
    epochs: float | None,
    **launch_options,
) -> None:
    """Fine-tune with LoRA on a RECIPE (a shipped name or a YAML path)."""
    shortcuts = [
        f"{key}={value}" for key, value in (("data.subset", subset), ("train.epochs", epochs)) if value is not None
    ]
    loaded, source = load_recipe(recipe, [*overrides, *shortcuts], profile=profile)
    if dry_run:
        click.echo(recipe_to_yaml(loaded), nl=False)
        return
    options = LaunchOptions(**launch_options)
    if options.wanted():
        worker = ["-v"] if ctx.find_root().params["verbose"] else []
        worker += ["train", recipe, *([f"--profile={profile}"] if profile else [])]
        worker += [f"--override={item}" for item in [*overrides, *shortcuts]]
        worker += [f"--resume={resume}", f"--runs-dir={runs_dir}", *([f"--run-id={run_id}"] if run_id else [])]
        sys.exit(launch(options, loaded, source, worker))
    run_dir = train_recipe(loaded, source, runs_dir, resume, run_id)
    if current_world().is_main:  # under torchrun every process gets here; one prints
        click.echo(str(run_dir))


@click.command(name="eval")
@click.argument("run")
@runs_dir_option
@click.option(
    "--judge-url",
    default=None,
    help="LLM judge for eval.domain: an OpenAI-compatible URL (…/v1), "
    "or a run/export folder served by llama.cpp for the evaluation. Default: the recipe's eval.domain.judge.",
)
@click.option("--judge-model", default=None, help="The judge's model name (default: the first one it lists).")
@click.option(
    "--artifact",
    "artifacts",
    multiple=True,
    metavar="ARTIFACT",
    help="Measure the task metric on an exported artifact instead: adapter, merged, gguf:QUANT (e.g. "
    "gguf:q8_0), lora-gguf or vllm; served ones through the real server on 127.0.0.1. Repeatable or a comma "
    "list. Results: RUN/eval/artifacts/.",
)
@llamacpp_server_option
@click.pass_context
def evaluate(
    ctx: click.Context,
    run: str,
    runs_dir: Path,
    judge_url: str | None,
    judge_model: str | None,
    artifacts: tuple,
    llamacpp_server: str,
) -> None:
    """Run the recipe's task metrics on RUN (a run folder, or a recipe name for its newest
    complete run). Results go to RUN/eval/ as JSON, Markdown and PNG; the headline numbers are printed."""
    run_dir = resolve_run(run, runs_dir)
    if artifacts:
        if judge_url or judge_model:
            raise click.UsageError("--judge-url, --judge-model: not used with --artifact (it skips the LLM judge)")
        evaluate_artifacts(run_dir, list(artifacts), llamacpp_server=llamacpp_server)
        click.echo(str(run_dir / "eval" / "artifacts" / "report.md"))
        return
    refuse_options(ctx, ["llamacpp_server"], "without --artifact (it picks the server of a served GGUF)")
    if (judge_url or judge_model) and load_run(run_dir)[0].eval.domain is None:
        raise click.UsageError("--judge-url, --judge-model: not used by a run without eval.domain")
    # JSON strings are YAML scalars, so a URL or model name reaches the recipe verbatim.
    judge = {"base_url": judge_url, "model": judge_model}
    overrides = [f"eval.domain.judge.{key}={json.dumps(value)}" for key, value in judge.items() if value is not None]
    show_summary(evaluate_run(run_dir, overrides))


def show_summary(eval_dir: Path) -> None:
    """The headline numbers as a short table, then where the full results are."""
    from rich.console import Console  # rich only when there is something to draw: `--help` stays instant
    from rich.table import Table

    results = json.loads((eval_dir / "results.json").read_text(encoding="utf-8"))
    table = Table("metric", "base", "tuned", title=f"Evaluation of {results.get('recipe', eval_dir.parent.name)}")
    for metric, base, tuned in summary_rows(results):
        table.add_row(str(metric), number_cell(base), number_cell(tuned))
    Console().print(table)
    click.echo(f"full results: {eval_dir / 'results.json'}\nreport: {eval_dir / 'report.md'}")


def number_cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@click.command(name="export")
@click.argument("run")
@runs_dir_option
@click.option(
    "--format",
    "formats",
    default=None,
    help="Comma list of merged,gguf,ollama,lora,lora-gguf,vllm (default: the recipe's export.formats).",
)
@click.option(
    "--quant",
    "quants",
    default=None,
    help="Comma list of GGUF types, e.g. f16,q8_0,q4_k_m (default: the recipe's export.quants).",
)
@click.option(
    "--eval/--no-eval",
    "evaluate",
    default=None,
    help="Measure the recipe's task metric on every artifact against the adapter's (report.md's task metric "
    "column). Default: on when export.max_task_drop is set.",
)
def export(run: str, runs_dir: Path, formats: str | None, quants: str | None, evaluate: bool | None) -> None:
    """Export RUN (a run folder, or a recipe name for its newest complete run): merged 16-bit
    weights, GGUF files with a fidelity check, Ollama Modelfiles, the adapter, a LoRA GGUF, a vLLM bundle.
    Output: RUN/export/."""
    run_dir = resolve_run(run, runs_dir)
    recipe, _ = load_run(run_dir)
    chosen_formats = formats.split(",") if formats else list(recipe.export.formats)
    chosen_quants = quants.split(",") if quants else list(recipe.export.quants)
    names = ("--format" if formats else "export.formats", "--quant" if quants else "export.quants")
    click.echo(str(export_run(run_dir, chosen_formats, chosen_quants, names, evaluate=evaluate)))
