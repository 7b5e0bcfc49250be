"""`tuneforge ab-tally`: count a filled-in blind A/B sheet of the style evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tuneforge.cli_options import runs_dir_option
from tuneforge.errors import UserError
from tuneforge.targets import resolve_run
from tuneforge.tasks.style.ab_sheet import tally_ab


@click.command(name="ab-tally")
@click.argument("run")
@runs_dir_option
@click.option(
    "--sheet",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The filled-in sheet (default: RUN/eval/ab_sheet.csv).",
)
def ab_tally(run: str, runs_dir: Path, sheet: Path | None) -> None:
    """Count a filled-in blind A/B sheet of the style evaluation through its key (RUN/eval/ab_key.csv):
    how often readers found the tuned or the base model's text more like the author."""
    eval_dir = resolve_run(run, runs_dir) / "eval"
    sheet, key = sheet or eval_dir / "ab_sheet.csv", eval_dir / "ab_key.csv"
    for path in (sheet, key):
        if not path.is_file():
            raise UserError(f"{path}: not found", fix="run `tuneforge eval RUN` on a style run first")
    tally = tally_ab(sheet, key)
    answered = tally["tuned"] + tally["base"] + tally["tie"]
    click.echo(
        json.dumps({**tally, "tuned_share_of_answered": round(tally["tuned"] / answered, 3) if answered else None})
    )
