"""`tuneforge compare RUN_A RUN_B`: two runs side by side (tuneforge.evaluate.compare), a short summary here
and the whole comparison in compare.json and compare.md."""

from __future__ import annotations

from pathlib import Path

import click

from tuneforge.cli_options import runs_dir_option
from tuneforge.evaluate.artifact import ARTIFACT_HELP
from tuneforge.evaluate.compare import CHANGED_ITEMS, compare_runs, write_comparison
from tuneforge.evaluate.compare_report import change_names, number, signed
from tuneforge.targets import resolve_run

SETTINGS_SHOWN = 12  # rows of differing settings printed; compare.md lists them all


@click.command(name="compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option(
    "--artifact",
    default=None,
    metavar="ARTIFACT",
    help=f"Compare what `tuneforge eval RUN --artifact` measured on this artifact ({ARTIFACT_HELP}) instead "
    "of `tuneforge eval`'s results.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the comparison as JSON here. Default: RUN_B/compare/<recipe-a>--<run-a-id>/compare.json.",
)
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the Markdown report here. Default: beside the JSON's default, compare.md.",
)
@click.option(
    "--items",
    "changed",
    type=click.IntRange(min=0),
    default=CHANGED_ITEMS,
    show_default=True,
    help="Changed items listed per task and direction (improved, worsened), the largest changes first.",
)
@runs_dir_option
def compare(
    run_a: str,
    run_b: str,
    artifact: str | None,
    json_path: Path | None,
    markdown_path: Path | None,
    changed: int,
    runs_dir: Path,
) -> None:
    """Compare run B with run A: the settings that differ, every metric side by side (B - A, with a paired
    bootstrap interval over the test items both answered) and the items whose result changed. RUN_A and
    RUN_B are run folders, or recipe names for their newest complete runs; both must be evaluated."""
    comparison = compare_runs(resolve_run(run_a, runs_dir), resolve_run(run_b, runs_dir), artifact, changed)
    written = write_comparison(comparison, json_path, markdown_path)
    show_comparison(comparison)
    click.echo(f"comparison: {written[0]}\nreport: {written[1]}")


def show_comparison(comparison: dict) -> None:
    from rich.console import Console  # rich only when there is something to draw: `--help` stays instant
    from rich.table import Table

    console = Console()
    differences = comparison["settings"]["differences"]
    settings = Table("setting", "A", "B", title=f"Settings that differ ({len(differences)})")
    for found in differences[:SETTINGS_SHOWN]:
        settings.add_row(found["key"], str(found.get("a", "(absent)")), str(found.get("b", "(absent)")))
    if len(differences) > SETTINGS_SHOWN:
        settings.add_row(f"… {len(differences) - SETTINGS_SHOWN} more in the report", "", "")
    console.print(settings)
    level = f"{comparison['bootstrap']['level']:.0%}"
    metrics = Table("task", "metric", "A", "B", "B − A", f"{level} interval", title="Metrics (B − A)")
    for row in comparison["metrics"]:
        interval = row["interval"]
        span = f"[{signed(interval['low'], 3)}, {signed(interval['high'], 3)}]" if interval else "–"
        difference = f"[bold]{signed(row['difference'])}[/bold]" if row["excludes_zero"] else signed(row["difference"])
        metrics.add_row(row["task"], row["metric"], number(row["a"]), number(row["b"]), difference, span)
    console.print(metrics)
    for task, section in comparison["tasks"].items():
        click.echo(f"{task}: {changed_summary(section)}")


def changed_summary(section: dict) -> str:
    if not section["paired"]:
        return section["note"]
    up, down = change_names(section)
    return (
        f"{section['improved_count']} {up}, {section['worsened_count']} {down}, "
        f"{section['unchanged_count']} unchanged (paired on {section['items']['b']} items)"
    )
