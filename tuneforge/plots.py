"""matplotlib without a screen, and PNGs written atomically."""

from __future__ import annotations

from pathlib import Path


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # training machines have no display
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, output: Path) -> None:
    figure.tight_layout()
    staging = output.with_name(".tmp-" + output.name)
    figure.savefig(staging, dpi=110, format="png")
    pyplot().close(figure)
    staging.replace(output)
