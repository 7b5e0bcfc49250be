"""Long work the studio started (train, eval, export): `tuneforge` commands in processes of their own.

Each job runs in a new session (its own process group), so it goes on when the studio stops or the
browser closes, and a stop reaches every process of it (torchrun's workers too) as SIGTERM: training
checkpoints at the step boundary, as on Ctrl-C. A job is recorded in RUNS/.studio/jobs/<id>.json when it
starts (and its exit status in <id>.rc when the studio saw it end), so a restarted studio finds it; what
the job produced lives where the command puts it (the run folder).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from tuneforge.files import write_json_atomic
from tuneforge.process import start_ticks
from tuneforge.studio.security import TOKEN_ENV

STUDIO_DIR = ".studio"  # inside the runs folder: not a recipe name (those cannot start with a dot)
KINDS = ("train", "eval", "export")


@dataclass
class Job:
    id: str
    kind: str
    recipe: str
    run: str | None  # "<recipe>/<run-id>" once known
    argv: list[str]
    pid: int
    start_ticks: int  # the process's start time in /proc: a reused pid is not mistaken for the job
    started: str
    log: str
    exit_code: int | None = None

    def public(self, alive: bool) -> dict:
        """What pages and the API show: never the environment, and the command as the CLI would run it."""
        state = "running" if alive else ("ended" if self.exit_code is None else f"exit {self.exit_code}")
        return asdict(self) | {"alive": alive, "state": state, "command": "tuneforge " + " ".join(self.argv)}


def child_environment() -> dict[str, str]:
    """The studio's environment without its token: a job never sees it, so it cannot reach a log."""
    return {key: value for key, value in os.environ.items() if key != TOKEN_ENV}


class Jobs:
    """The jobs of one runs folder."""

    def __init__(self, runs_dir: Path):
        self.folder = runs_dir / STUDIO_DIR / "jobs"
        self.lock = threading.Lock()

    def start(self, kind: str, recipe: str, run: str | None, argv: list[str]) -> Job:
        self.folder.mkdir(parents=True, exist_ok=True)
        job_id = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{kind}-{os.urandom(3).hex()}"
        log = self.folder / f"{job_id}.log"
        with open(log, "ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "tuneforge", *argv],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=child_environment() | {"PYTHONUNBUFFERED": "1", "COLUMNS": "120"},
                start_new_session=True,  # its own process group: it outlives the studio, and a stop reaches all of it
            )
        job = Job(
            job_id,
            kind,
            recipe,
            run,
            argv,
            process.pid,
            start_ticks(process.pid) or 0,
            datetime.now(timezone.utc).isoformat(timespec="seconds"),
            str(log),
        )
        write_json_atomic(self.folder / f"{job_id}.json", asdict(job))
        threading.Thread(target=self._reap, args=(process, job_id), daemon=True).start()
        return job

    def _reap(self, process: subprocess.Popen, job_id: str) -> None:
        code = process.wait()
        (self.folder / f"{job_id}.rc").write_text(f"{code}\n")

    def all(self) -> list[Job]:
        if not self.folder.is_dir():
            return []
        return sorted((self._read(path) for path in self.folder.glob("*.json")), key=lambda job: job.id, reverse=True)

    def get(self, job_id: str) -> Job | None:
        path = self.folder / f"{job_id}.json"
        return self._read(path) if job_id.replace("-", "").isalnum() and path.is_file() else None

    def _read(self, path: Path) -> Job:
        job = Job(**json.loads(path.read_text()))
        rc = path.with_suffix(".rc")
        if rc.is_file() and rc.read_text().strip().lstrip("-").isdigit():
            job.exit_code = int(rc.read_text())
        return job

    @staticmethod
    def alive(job: Job) -> bool:
        return start_ticks(job.pid) == job.start_ticks

    def running(self, kind: str | None = None, run: str | None = None) -> list[Job]:
        return [
            job for job in self.all() if (kind in (None, job.kind)) and (run in (None, job.run)) and self.alive(job)
        ]

    def stop(self, job: Job) -> bool:
        """SIGTERM to the job's whole process group (training checkpoints at the step boundary and exits)."""
        if not self.alive(job):
            return False
        os.killpg(job.pid, signal.SIGTERM)
        return True

    def log_tail(self, job: Job, limit: int = 20_000) -> str:
        path = Path(job.log)
        if not path.is_file():
            return ""
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - limit))
            return readable(handle.read().decode("utf-8", "replace"))


TERMINAL_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def readable(log: str) -> str:
    """A log as a terminal would have left it: progress bars redraw a line with carriage returns and move
    the cursor with escape codes; keep what each line showed last."""
    lines = []
    for line in TERMINAL_CODES.sub("", log).split("\n"):
        shown = [part for part in line.split("\r") if part.strip()]
        lines.append(shown[-1] if shown else "")
    return "\n".join(lines)
