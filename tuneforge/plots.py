"""matplotlib without a screen, PNGs written atomically, and plots that never fail the work they report on.

A plot is reporting: a training run, an evaluation or an export is complete without its pictures. So every
function that draws one is wrapped in `reporting_plot`, and any failure to draw (matplotlib's own import
included: its font extension once raised `ImportError: initialization failed` in the rank-0 process of a
two-process run) becomes a warning that names the plot. matplotlib is imported only when a plot is drawn,
never when a module is imported: training processes other than rank 0 never load it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import ParamSpec, TypeVar

log = logging.getLogger(__name__)

Params = ParamSpec("Params")
Drawn = TypeVar("Drawn")


def reporting_plot(draw: Callable[Params, Drawn]) -> Callable[Params, Drawn | None]:
    """`draw`, except that a failure to draw is a logged warning naming the plot, and the result is None."""

    @functools.wraps(draw)
    def draw_or_warn(*args: Params.args, **kwargs: Params.kwargs) -> Drawn | None:
        try:
            return draw(*args, **kwargs)
        except Exception as error:  # whatever matplotlib raises, the plot is all that is lost
            log.warning(
                "could not draw %s (%s: %s); going on without it",
                plot_name(draw, args, kwargs),
                type(error).__name__,
                error,
            )
            return None

    return draw_or_warn


def plot_name(draw: Callable, args: tuple, kwargs: dict) -> str:
    """The PNG the plot was to be written to (its first .png argument), else the drawing function's name."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, PurePath) and value.suffix == ".png":
            return str(value)
    return f"the plot of {draw.__name__}"


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # training machines have no display
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, output: Path) -> None:
    """Write the figure to `output` through a temporary file, and close it even when writing fails."""
    staging = output.with_name(".tmp-" + output.name)
    try:
        figure.tight_layout()
        figure.savefig(staging, dpi=110, format="png")
        staging.replace(output)
    finally:
        pyplot().close(figure)
        staging.unlink(missing_ok=True)
