"""What a command's TARGET argument names, decided in one place.

http(s)://host:port/v1        a running OpenAI-compatible server (chat, predict, the domain judge)
runs/<recipe>/<run-id>        a run folder (it holds manifest.json)
runs/<recipe>/<run-id>/export an export folder (it holds export.json); its run is the parent
<recipe name>                 the newest complete run of that recipe under --runs-dir
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.runs import MANIFEST, latest_complete_run

EXPORT_MANIFEST = "export.json"


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Target:
    text: str  # as the user wrote it
    url: str | None = None
    run_dir: Path | None = None  # None for a URL


def resolve_target(text: str, runs_dir: Path, *, urls: bool = False) -> Target:
    """A URL (where `urls`), a run or export folder, or a recipe name, as a Target."""
    if is_url(text):
        if not urls:
            raise UserError(f"{text}: a URL cannot be used here", fix="pass a run folder or a recipe name")
        return Target(text, url=text.rstrip("/"))
    path = Path(text)
    if path.is_dir():
        run_dir = path.parent if (path / EXPORT_MANIFEST).is_file() and not (path / MANIFEST).is_file() else path
        return Target(text, run_dir=run_dir)
    if "/" in text or path.exists():
        raise UserError(
            f"{text}: not a tuneforge run or export folder (no such folder)",
            fix="pass a folder made by `tuneforge train` (runs/<recipe>/<run-id>) or a recipe name",
        )
    return Target(text, run_dir=latest_complete_run(runs_dir, text))


def resolve_run(text: str, runs_dir: Path) -> Path:
    """The run folder a TARGET names (an export folder stands for its run)."""
    return resolve_target(text, runs_dir).run_dir
