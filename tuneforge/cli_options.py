"""click options and helpers shared by the command modules (tuneforge.cli, the tasks' commands, bench)."""

from __future__ import annotations

from pathlib import Path

import click

RESUME_HELP = "auto: continue this recipe's newest unfinished run; none: new run; or a run/checkpoint folder."

override_option = click.option(
    "-o",
    "--override",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a recipe value by dotted key, e.g. -o train.lr=1e-4. Repeatable.",
)

profile_option = click.option(
    "--profile",
    default=None,
    metavar="NAME",
    help="Apply the recipe's profile NAME (its `profiles:` section, e.g. cpu) before any -o override.",
)

runs_dir_option = click.option(
    "--runs-dir",
    type=click.Path(path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Where run folders live (runs/<recipe>/<run-id>).",
)

llamacpp_server_option = click.option(
    "--llamacpp-server",
    type=click.Choice(["auto", "native", "python"]),
    default="auto",
    show_default=True,
    help="llama.cpp backend: native is llama.cpp's own llama-server (parallel slots, continuous batching), "
    "built by `make setup`; python is llama-cpp-python's server (one request at a time), which auto "
    "falls back to, with a warning, where llama-server could not be built.",
)


def prompted_lines(label: str):
    """Lines typed at a prompt until `exit`, `quit` or end of input."""
    while True:
        try:
            line = click.prompt(label, prompt_suffix="> ")
        except (EOFError, click.Abort):
            return
        if line.strip().lower() in ("exit", "quit"):
            return
        yield line


def refuse_options(ctx: click.Context, names: list[str], reason: str) -> None:
    """A UsageError (exit 2) naming every option the user set that this invocation would ignore."""
    from click.core import ParameterSource

    given = [
        param.opts[0]
        for param in ctx.command.params
        if param.name in names and ctx.get_parameter_source(param.name) is not ParameterSource.DEFAULT
    ]
    if given:
        raise click.UsageError(f"{', '.join(given)}: not used {reason}", ctx=ctx)
