"""Training from the studio: a real `tuneforge train` started through the API, watched through the metrics
endpoint the live chart polls, stopped at a step boundary, resumed, and found again by a restarted studio."""

from __future__ import annotations

import time

import pytest
from studio_client import TOKEN, kill_jobs, make_studio, studio_client

from tuneforge.runs import read_manifest
from tuneforge.studio.context import Studio

pytestmark = pytest.mark.integration


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def metrics(client, run_url: str) -> dict:
    response = client.get(f"/api{run_url}/metrics")
    return response.json() if response.status_code == 200 else {}


@pytest.fixture
def studio(tmp_path):
    studio = make_studio(tmp_path)
    yield studio
    kill_jobs(studio.runs_dir)


def test_a_run_started_in_the_studio_trains_stops_resumes_and_outlives_the_studio(tmp_path, studio):
    client = studio_client(tmp_path, studio)
    overrides = ["train.max_steps=12", "train.batch_size=2", "train.eval_steps=null", "train.save_steps=2"]
    overrides += ["train.logging_steps=1", "data.split.val=0.03", "train.lr=1e-4"]
    started = client.post("/api/train", json={"recipe": "quickstart", "overrides": overrides})
    assert started.status_code == 200, started.text
    run_url = started.json()["run_url"]
    assert client.get(run_url).status_code == 200  # the "starting" page, before the run folder exists

    # Step records arrive while it trains: what the chart draws.
    wait_until(lambda: metrics(client, run_url).get("progress", {}).get("step", 0) >= 3, 300, "three steps")
    live = metrics(client, run_url)
    assert live["status"] == "running" and live["progress"]["total"] == 12

    # A studio started again on the same folder (nothing shared with the first but the disk) finds the run
    # live, and can stop it.
    again = studio_client(tmp_path, Studio(studio.runs_dir, studio.user_recipes, TOKEN))
    assert [run["status"] for run in again.get("/api/runs").json()["runs"]] == ["running"]
    assert again.post(f"/api{run_url}/stop").status_code == 200
    wait_until(lambda: metrics(client, run_url).get("status") == "interrupted", 180, "the stop")
    run_dir = studio.runs_dir / run_url.removeprefix("/runs/")
    stopped_at = read_manifest(run_dir)["stopped_at_step"]
    assert 3 <= stopped_at < 12
    assert (run_dir / "checkpoints" / f"checkpoint-{stopped_at}").is_dir()  # checkpointed at the step boundary

    wait_until(lambda: not any(job["alive"] for job in client.get("/api/jobs").json()["jobs"]), 60, "the exit")
    resumed = client.post(f"/api{run_url}/resume")
    assert resumed.status_code == 200, resumed.text
    wait_until(lambda: metrics(client, run_url).get("status") == "complete", 600, "the resumed run to finish")
    manifest = read_manifest(run_dir)
    assert [s["from_step"] for s in manifest["sessions"]] == [0, stopped_at]
    assert manifest["metrics"]["global_step"] == 12
    listed = client.get("/api/runs").json()["runs"][0]
    assert listed["status"] == "complete" and listed["progress"]["step"] == 12
