"""`tuneforge studio`: the web front end (tuneforge/studio), started from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from tuneforge.errors import UserError

STUDIO_EXTRA = "pip install -e '.[studio]' (or `make studio`)"


@click.command()
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Other than loopback only with TUNEFORGE_STUDIO_TOKEN set.",
)
@click.option(
    "--runs-dir",
    default=Path("runs"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where run folders live.",
)
@click.option(
    "--recipes-dir",
    default=Path("recipes"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="Your recipe files: listed beside the shipped ones, and where 'save as' writes.",
)
def studio(port: int, host: str, runs_dir: Path, recipes_dir: Path) -> None:
    """Start tuneforge studio, the whole path in a browser, and print its URL (it carries an access token;
    set TUNEFORGE_STUDIO_TOKEN to choose it). Ctrl-C stops it and the chat servers it started; trainings
    it started go on."""
    try:
        # The studio's web stack is an optional extra: import it only when the command runs.
        from tuneforge.studio.server import run_studio
    except ImportError as missing:
        raise UserError(f"the studio needs {missing.name}, which is not installed", fix=STUDIO_EXTRA) from None
    run_studio(runs_dir, recipes_dir, host, port, lambda url: click.echo(f"tuneforge studio: {url}", err=False))
