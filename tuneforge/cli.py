"""The `tuneforge` command line. Thin: parse arguments, call a typed function.

Heavy libraries are imported inside the commands so `tuneforge --help` stays instant.
User mistakes (UserError) print one message and exit 2, without a traceback.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from tuneforge.errors import EXIT_USER_ERROR, UserError

RESUME_HELP = "auto: continue this recipe's newest unfinished run; none: new run; or a run/checkpoint folder."
override_option = click.option("-o", "--override", "overrides", multiple=True, metavar="KEY=VALUE",
                               help="Override a recipe value by dotted key, e.g. -o train.lr=1e-4. Repeatable.")


class FriendlyGroup(click.Group):
    """Turns UserError into a short message and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UserError as error:
            click.secho(f"error: {error.render()}", fg="red", err=True)
            sys.exit(EXIT_USER_ERROR)


def setup_logging(verbose: bool) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    # Logs go to stderr so that stdout carries only results (a run folder, a recipe).
    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
                        handlers=[handler], force=True)


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.version_option(package_name="tuneforge")
def main(verbose: bool) -> None:
    """tuneforge: one YAML recipe from data to a served model."""
    setup_logging(verbose)


@main.command()
@click.argument("recipe")
@override_option
@click.option("--dry-run", is_flag=True, help="Print the resolved recipe and exit.")
@click.option("--resume", default="auto", show_default=True, help=RESUME_HELP)
@click.option("--runs-dir", type=click.Path(path_type=Path), default=Path("runs"), show_default=True)
@click.option("--run-id", default=None, help="Name of the run folder (default: a UTC timestamp).")
def train(recipe: str, overrides: tuple[str, ...], dry_run: bool, resume: str, runs_dir: Path,
          run_id: str | None) -> None:
    """Fine-tune with LoRA on a RECIPE (a shipped name or a YAML path)."""
    from tuneforge.recipe import load_recipe, recipe_to_yaml

    loaded, source = load_recipe(recipe, list(overrides))
    if dry_run:
        click.echo(recipe_to_yaml(loaded), nl=False)
        return
    from tuneforge.train.finetune import train_recipe

    run_dir = train_recipe(loaded, source, runs_dir, resume, run_id)
    click.echo(str(run_dir))


@main.command(name="eval")
@click.argument("run")
@click.option("--runs-dir", type=click.Path(path_type=Path), default=Path("runs"), show_default=True)
def evaluate(run: str, runs_dir: Path) -> None:
    """Run the recipe's task metrics on RUN (a run folder, or a recipe name for its newest
    complete run). Results go to RUN/eval/ as JSON, Markdown and PNG."""
    from tuneforge.eval import evaluate_run

    click.echo(str(evaluate_run(pick_run(run, runs_dir))))


def pick_run(run: str, runs_dir: Path) -> Path:
    """A run folder as given, or a recipe name standing for its newest complete run."""
    from tuneforge.runs import latest_complete_run

    return Path(run) if Path(run).is_dir() or "/" in run else latest_complete_run(runs_dir, run)


@main.command(name="export")
@click.argument("run")
@click.option("--runs-dir", type=click.Path(path_type=Path), default=Path("runs"), show_default=True)
@click.option("--format", "formats", default=None, help="Comma list of merged,gguf,lora,lora-gguf,vllm (default: the recipe's export.formats).")
@click.option("--quant", "quants", default=None, help="Comma list of GGUF types, e.g. f16,q8_0,q4_k_m "
              "(default: the recipe's export.quants).")
def export(run: str, runs_dir: Path, formats: str | None, quants: str | None) -> None:
    """Export RUN (a run folder, or a recipe name for its newest complete run): merged 16-bit
    weights, GGUF files with a fidelity check, the adapter, a LoRA GGUF, a vLLM bundle.
    Output: RUN/export/."""
    from tuneforge.export.artifacts import export_run
    from tuneforge.runs import load_run

    run_dir = pick_run(run, runs_dir)
    recipe, _ = load_run(run_dir)
    chosen_formats = formats.split(",") if formats else list(recipe.export.formats)
    chosen_quants = quants.split(",") if quants else list(recipe.export.quants)
    click.echo(str(export_run(run_dir, chosen_formats, chosen_quants)))


@main.group()
def recipes() -> None:
    """List, show and validate recipes."""


@recipes.command(name="list")
def recipes_list() -> None:
    """The shipped recipes."""
    from tuneforge.recipe import read_yaml, shipped_recipes

    for name, path in shipped_recipes().items():
        raw = read_yaml(path)
        description = raw.get("description", "") if isinstance(raw, dict) else ""
        click.echo(f"{name:<16} {description}")


@recipes.command(name="show")
@click.argument("recipe")
@override_option
def recipes_show(recipe: str, overrides: tuple[str, ...]) -> None:
    """Print RECIPE with every default filled in."""
    from tuneforge.recipe import load_recipe, recipe_to_yaml

    click.echo(recipe_to_yaml(load_recipe(recipe, list(overrides))[0]), nl=False)


@recipes.command(name="validate")
@click.argument("recipes_", metavar="[RECIPE]...", nargs=-1)
def recipes_validate(recipes_: tuple[str, ...]) -> None:
    """Validate the given recipes, or every shipped recipe. Lists all problems."""
    from tuneforge.recipe import load_recipe, shipped_recipes

    failures = []
    for ref in recipes_ or tuple(shipped_recipes()):
        try:
            load_recipe(ref)
            click.echo(f"ok      {ref}")
        except UserError as error:
            click.echo(f"invalid {ref}")
            failures.append(error.render())
    if failures:
        raise UserError(f"{len(failures)} recipe(s) failed validation:", failures)


@main.group()
def data() -> None:
    """Inspect a recipe's data."""


@data.command(name="inspect")
@click.argument("recipe")
@override_option
def data_inspect(recipe: str, overrides: tuple[str, ...]) -> None:
    """Load, filter, split and tokenize RECIPE's data; print the data report."""
    import json

    from tuneforge.data.inspect import inspect_data
    from tuneforge.recipe import load_recipe

    click.echo(json.dumps(inspect_data(load_recipe(recipe, list(overrides))[0]), indent=2))


@main.group()
def models() -> None:
    """Manage base models."""


@models.command(name="prepare")
@click.argument("ref", default="embedded:smollm2-135m-instruct")
def models_prepare(ref: str) -> None:
    """Resolve REF to a local folder (converting the embedded model once) and print it."""
    from tuneforge.models import resolve_model

    click.echo(str(resolve_model(ref).path))
