"""The `tuneforge` command line. Thin: parse arguments, call a typed function.

The command families live beside this module: run_commands (train, eval, export), compare_command
(compare), serve_commands (serve, chat, predict) and admin (recipes, runs, data, models); `bench` is
tuneforge.bench.cli, and each registered task adds its own (tuneforge.registry.Task.commands). Heavy
libraries are imported inside the stages' functions, so `tuneforge --help` stays instant. User
mistakes (UserError) print one message and exit 2, without a traceback (groups.py).
"""

from __future__ import annotations

import logging

import click

from tuneforge import console
from tuneforge.bench.cli import bench
from tuneforge.cli.admin import data, models, recipes, runs
from tuneforge.cli.compare_command import compare
from tuneforge.cli.groups import FriendlyGroup
from tuneforge.cli.run_commands import evaluate, export, train
from tuneforge.cli.serve_commands import chat, predict, serve
from tuneforge.cli.studio_command import studio


def setup_logging(verbose: bool) -> None:
    from rich.console import Console  # rich only once a command runs: `--help` stays instant
    from rich.logging import RichHandler

    # Logs go to stderr so that stdout carries only results (a run folder, a recipe).
    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(message)s", handlers=[handler], force=True
    )
    # The openai client's HTTP library logs every request at INFO; that would interleave with chat output.
    for name in ("httpx", "httpx2"):  # openai's HTTP library, under either of its names
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.install(verbose)  # known-harmless third-party messages (tuneforge/console.py); -v shows them


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Debug logging, and the third-party messages hidden as harmless.")
@click.version_option(package_name="tuneforge")
def main(verbose: bool) -> None:
    """tuneforge: one YAML recipe from data to a served model."""
    setup_logging(verbose)


for command in (train, evaluate, compare, export, recipes, runs, data, models, serve, chat, predict, bench, studio):
    main.add_command(command)
