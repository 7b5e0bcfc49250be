"""click options shared by the command modules (tuneforge.cli and tuneforge.bench.cli)."""

from __future__ import annotations

from pathlib import Path

import click

runs_dir_option = click.option("--runs-dir", type=click.Path(path_type=Path), default=Path("runs"), show_default=True,
                               help="Where run folders live (runs/<recipe>/<run-id>).")
