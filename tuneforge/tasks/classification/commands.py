"""`tuneforge classify`: label texts with a classification run, each with its confidence."""

from __future__ import annotations

from pathlib import Path

import click

from tuneforge.cli_options import prompted_lines, runs_dir_option
from tuneforge.targets import resolve_run
from tuneforge.tasks.classification.predict import Predictor, demo_items, describe


@click.command()
@click.argument("target")
@click.argument("texts", nargs=-1)
@click.option("--demo", is_flag=True, help="Classify a few held-out test texts and show them beside their labels.")
@runs_dir_option
def classify(target: str, texts: tuple[str, ...], demo: bool, runs_dir: Path) -> None:
    """Label TEXTS with a classification run (folder or recipe name), each with its confidence.
    Without TEXTS: an interactive prompt (`exit` or `quit` leaves). Batch files: `tuneforge predict`."""
    if demo and texts:
        raise click.UsageError("--demo classifies held-out texts; give it no TEXTS")
    predictor = Predictor(resolve_run(target, runs_dir))
    if demo:
        items = demo_items(predictor.run)
        for (text, truth), result in zip(items, predictor.predict_batch([text for text, _ in items])):
            click.echo(f"{describe(result)}  (labelled {truth})  {text}")
        return
    for text in texts or prompted_lines("text"):
        click.echo(describe(predictor.predict(text)))
