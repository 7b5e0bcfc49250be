"""The studio's speed on this machine: start time, each page's load time, and how far the live chart lags
the run's metrics.jsonl. Prints a Markdown table for BENCHMARKS.md.

    .venv/bin/python scripts/bench_studio.py --runs-dir runs      (make browser first: the lag uses Chromium)

The runs folder is copied (hard links) into a temporary folder, so the training started to measure the lag
leaves nothing in yours. Start: from launching `tuneforge studio` to its first answered page. Pages: first
load, then the median of 5 (server time plus transfer, as a script sees it; the browser's drawing is not
included), from 15 s after launch (the tokenizer stack loads in the background from the start). Lag: a short quickstart training started from the page; for each line training appends to
metrics.jsonl, the time until the run page's chart holds it (both sampled every 50 ms in this process).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

USER_DELAY_S = 15  # pages are timed from this long after launch: a user's first clicks, not the first second
TOKEN = "bench-token-" + os.urandom(8).hex()
TRAIN = [
    "train.max_steps=12",
    "train.batch_size=2",
    "train.logging_steps=1",
    "train.eval_steps=null",
    "train.save_steps=12",
    "data.split.val=0.03",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_studio(runs: Path, port: int) -> tuple[subprocess.Popen, float]:
    began = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tuneforge",
            "studio",
            "--port",
            str(port),
            "--runs-dir",
            str(runs),
            "--recipes-dir",
            str(runs.parent / "recipes"),
        ],
        env=os.environ | {"TUNEFORGE_STUDIO_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/runs", headers=auth(), timeout=5).status_code == 200:
                return process, time.perf_counter() - began
        except httpx.TransportError:
            time.sleep(0.02)


def auth() -> dict:
    return {"authorization": f"Bearer {TOKEN}"}


def page_times(base: str, paths: list[str]) -> list[tuple[str, float, float, int]]:
    rows = []
    with httpx.Client(base_url=base, headers=auth(), timeout=120) as client:
        for path in paths:
            began = time.perf_counter()
            status = client.get(path).status_code
            first = time.perf_counter() - began
            repeats = []
            for _ in range(5):
                began = time.perf_counter()
                client.get(path)
                repeats.append(time.perf_counter() - began)
            rows.append((path, first, statistics.median(repeats), status))
    return rows


def pages_of(base: str) -> list[str]:
    runs = httpx.get(f"{base}/api/runs", headers=auth()).json()["runs"]
    paths = [
        "/runs",
        "/api/runs",
        "/recipes",
        "/recipes/translation",
        "/recipes/translation/data?profile=cpu",
        "/recipes/roleplay-dpo/data?profile=cpu",
        "/chat",
    ]
    complete = [run for run in runs if run["status"] == "complete"]
    paths += [run["url"] for run in complete[:4]] + [f"{run['url']}/samples" for run in complete[:2]]
    same = [r for r in complete if r["recipe"] == complete[0]["recipe"]] if complete else []
    if len(same) >= 2:
        paths.append(f"/compare?a={same[1]['recipe']}/{same[1]['run_id']}&b={same[0]['recipe']}/{same[0]['run_id']}")
    return paths


def chart_lag(base: str, runs: Path) -> list[float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        context = browser.new_context(extra_http_headers=auth())
        page = context.new_page()
        page.goto(f"{base}/?token={TOKEN}")
        page.goto(f"{base}/recipes/quickstart/train")
        page.fill("textarea[name=overrides]", "\n".join(TRAIN))
        page.click("#start-training")
        page.wait_for_url("**/runs/quickstart/*", timeout=600_000)
        metrics = runs / "quickstart" / page.url.rsplit("/", 1)[1] / "metrics.jsonl"
        seen_file, seen_chart = {}, {}
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            now = time.perf_counter()
            lines = metrics.read_text().count("\n") if metrics.is_file() else 0
            for line in range(len(seen_file), lines):
                seen_file[line] = now
            try:
                drawn = int(page.evaluate("Number(document.getElementById('charts')?.dataset.records || 0)"))
            except Exception:  # the page was reloading (the starting page refreshes; a run's end reloads it)
                time.sleep(0.05)
                continue
            for line in range(len(seen_chart), drawn):
                seen_chart[line] = now
            manifest = metrics.with_name("manifest.json")
            if manifest.is_file() and json.loads(manifest.read_text()).get("status") == "complete" and drawn >= lines:
                break
            time.sleep(0.05)
        browser.close()
    return [seen_chart[i] - seen_file[i] for i in seen_chart if i in seen_file]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix=".studio-bench-", dir=args.runs_dir.resolve().parent))  # hard links: same disk
    runs = work / "runs"
    shutil.copytree(args.runs_dir, runs, copy_function=os.link, ignore=shutil.ignore_patterns(".studio", "checkpoints"))
    port = free_port()
    process, started = start_studio(runs, port)
    base = f"http://127.0.0.1:{port}"
    try:
        print(f"| studio start (launch to first page) | {started:.2f} s |")
        time.sleep(max(0.0, USER_DELAY_S - started))
        print("\n| page | first | median of 5 | status |\n|---|---|---|---|")
        for path, first, median, status in page_times(base, pages_of(base)):
            print(f"| `{path}` | {first * 1000:.0f} ms | {median * 1000:.0f} ms | {status} |")
        lags = chart_lag(base, runs)
        if lags:
            print(
                f"\nchart lag over {len(lags)} metrics lines: median {statistics.median(lags):.2f} s, "
                f"max {max(lags):.2f} s"
            )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        for job in (runs / ".studio" / "jobs").glob("*.json"):
            with contextlib.suppress(ProcessLookupError):  # ended already
                os.killpg(json.loads(job.read_text())["pid"], signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
