"""A studio app on temporary folders, reached the way its pages reach it (tests of tuneforge/studio).

`studio_client(tmp_path)` gives a starlette TestClient that already holds the access cookie and sends the
studio's own Origin with every request, as a page of the studio would; `anonymous_client` holds nothing.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from fastapi.testclient import TestClient

from tuneforge.studio.app import create_app
from tuneforge.studio.context import Studio
from tuneforge.studio.jobs import Jobs

TOKEN = "test-token-0123456789"
ORIGIN = "http://testserver"


def make_studio(tmp_path: Path) -> Studio:
    (tmp_path / "runs").mkdir(exist_ok=True)
    (tmp_path / "my-recipes").mkdir(exist_ok=True)
    return Studio(tmp_path / "runs", tmp_path / "my-recipes", TOKEN)


def studio_client(tmp_path: Path, studio: Studio | None = None) -> TestClient:
    client = TestClient(create_app(studio or make_studio(tmp_path)), headers={"origin": ORIGIN})
    response = client.get(f"/runs?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303 and "tuneforge_studio" in response.cookies
    return client


def anonymous_client(tmp_path: Path, studio: Studio | None = None) -> TestClient:
    return TestClient(create_app(studio or make_studio(tmp_path)))


def kill_jobs(runs_dir: Path) -> None:
    """Ends every job still running in runs_dir (a test that failed midway leaves no training behind: jobs
    outlive the studio by design)."""
    for job in Jobs(runs_dir).running():
        os.killpg(job.pid, signal.SIGKILL)
