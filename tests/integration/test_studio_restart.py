"""Two trainings started at once from a real `tuneforge studio` process, which is then killed (SIGKILL): both
runs go on and complete, and a studio started again on the same folder lists them, live while they train."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from studio_client import kill_jobs

from tuneforge.runs import read_manifest

pytestmark = pytest.mark.integration
TOKEN = "restart-test-token-0123456789"
TRAIN = [
    "train.max_steps=12",  # long enough that a restarted studio still finds both training
    "train.batch_size=2",
    "train.logging_steps=1",
    "train.eval_steps=null",
    "train.save_steps=12",
    "data.split.val=0.03",
]


def start_studio(runs, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "tuneforge", "studio", "--port", str(port), "--runs-dir", str(runs)],
        env=os.environ | {"TUNEFORGE_STUDIO_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if api(port).get("/api/runs").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the studio did not answer")


def api(port: int) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"authorization": f"Bearer {TOKEN}"}, timeout=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def statuses(port: int) -> list[str]:
    return sorted(run["status"] for run in api(port).get("/api/runs").json()["runs"])


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


def test_runs_outlive_a_killed_studio_and_a_new_one_shows_them(tmp_path):
    runs = tmp_path / "runs"
    first = start_studio(runs, port := free_port())
    try:
        started = [
            api(port).post("/api/train", json={"recipe": "quickstart", "overrides": TRAIN + [f"train.lr={lr}"]})
            for lr in ("1e-4", "2e-4")
        ]
        assert [response.status_code for response in started] == [200, 200], [r.text for r in started]
        wait_until(lambda: len(api(port).get("/api/runs").json()["runs"]) == 2, 300, "two run folders")
        os.killpg(first.pid, signal.SIGKILL)  # the studio dies without a chance to clean up
        first.wait()

        again = start_studio(runs, port := free_port())
        try:
            assert statuses(port) == ["running", "running"]  # both trainings go on, seen live by the new studio
            wait_until(lambda: statuses(port) == ["complete", "complete"], 900, "both runs to complete")
        finally:
            os.killpg(again.pid, signal.SIGTERM)
            again.wait(60)
        run_dirs = sorted(path for path in (runs / "quickstart").iterdir() if path.is_dir())
        assert [read_manifest(run)["metrics"]["global_step"] for run in run_dirs] == [12, 12]
        assert len({read_manifest(run)["process"]["pid"] for run in run_dirs}) == 2  # two trainings, side by side
    finally:
        kill_jobs(runs)
