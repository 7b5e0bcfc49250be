"""The studio in a real browser (Playwright driving Debian's Chromium: `make browser`), the whole path on the
embedded model: open it with its token, pick a recipe, see the tokens that carry loss, train and watch the
chart grow, evaluate, export a Q8_0 GGUF, chat with it, compare two runs, and stop the studio (its chat
server stops with it). Every screen is saved as a screenshot (STUDIO_SCREENSHOTS=DIR keeps them; docs/studio.md
shows them)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from studio_client import kill_jobs

from tuneforge.process import running_processes

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TRAIN = [
    "train.max_steps=8",
    "train.batch_size=2",
    "train.logging_steps=1",
    "train.eval_steps=null",
    "train.save_steps=8",
    "data.split.val=0.03",
    "eval.persona.max_new_tokens=8",
]
LONG = 900_000  # ms: a step of a job may take minutes on a busy 2-core machine


@pytest.fixture
def studio(tmp_path):
    """`tuneforge studio` as a user starts it; yields (process, url)."""
    env = {k: v for k, v in os.environ.items() if k != "TUNEFORGE_STUDIO_TOKEN"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tuneforge",
            "studio",
            "--port",
            str(free_port()),
            "--runs-dir",
            str(tmp_path / "runs"),
            "--recipes-dir",
            str(tmp_path / "my-recipes"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    url = read_url(process)
    yield process, url
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    kill_jobs(tmp_path / "runs")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_url(process) -> str:
    for line in process.stdout:
        found = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("the studio printed no URL")


class Screens:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


def chart_points(page) -> int:
    return page.eval_on_selector_all(
        'svg[data-chart="loss"] polyline[data-series="loss"]', "ls => ls.length ? Number(ls[0].dataset.points) : 0"
    )


def train_from_page(page, base: str, extra: list[str]) -> str:
    page.goto(f"{base}/recipes/quickstart/train")
    page.fill("textarea[name=overrides]", "\n".join(TRAIN + extra))
    page.click("#start-training")
    page.wait_for_url(re.compile(r"/runs/quickstart/\d{8}-\d{6}$"), timeout=LONG)
    return page.url


def finish(page, run_url: str) -> None:
    """Wait for the training to complete, then open its page afresh (it reloads itself when the run ends)."""
    from playwright.sync_api import expect

    expect(page.locator("#run-status")).to_have_text("complete", timeout=LONG)
    page.goto(run_url)
    expect(page.locator("#evaluate")).to_be_visible(timeout=LONG)  # once the training process has exited


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: `make browser` installs it")
def test_the_whole_path_in_a_browser(studio, tmp_path):
    from playwright.sync_api import sync_playwright

    process, url = studio
    base = url.split("/?")[0]
    shots = Screens(Path(os.environ.get("STUDIO_SCREENSHOTS") or tmp_path / "screens"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        try:
            walk(page, url, base, shots)
        finally:
            shots(page, "last")  # where a failure left the page
            browser.close()

    servers = [pid for pid in serving_processes() if studio_descendant(pid, process.pid)]
    assert servers, "the studio's chat server is not running"
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=60)[0]
    assert process.returncode is not None
    assert not [pid for pid in servers if Path(f"/proc/{pid}").exists()], "a chat server outlived the studio"
    assert "stopped chat server" in output


def walk(page, url: str, base: str, shots) -> None:
    """The whole path, screen by screen."""
    from playwright.sync_api import expect

    page.goto(url)  # the token becomes a cookie and leaves the address bar
    assert "token" not in page.url
    shots(page, "runs-empty")

    page.goto(f"{base}/recipes")
    expect(page.locator("text=quickstart").first).to_be_visible()
    shots(page, "recipes")
    page.goto(f"{base}/recipes/quickstart")
    expect(page.locator("#recipe-form")).to_be_visible()
    shots(page, "recipe-form")

    page.goto(f"{base}/recipes/quickstart/data")
    loss_tokens = page.locator(".tokens:not(.legend) .tok.loss")
    expect(loss_tokens.first).to_be_visible()
    assert page.locator(".tokens:not(.legend) .tok.eot").count() >= 1
    shots(page, "data")

    first_run = train_from_page(page, base, ["train.lr=1e-4"])
    page.wait_for_function("document.querySelectorAll('svg[data-chart=loss]').length > 0", timeout=LONG)
    seen = chart_points(page)
    page.wait_for_function(
        f"(() => {{ const l = document.querySelector('svg[data-chart=loss] polyline[data-series=loss]');"
        f" return l && Number(l.dataset.points) > {seen}; }})()",
        timeout=LONG,
    )  # the chart grows while it trains
    shots(page, "train-live")
    finish(page, first_run)

    page.click("#evaluate")
    expect(page.locator("#eval-report")).to_be_visible(timeout=LONG)
    shots(page, "evaluated")
    listed = page.request.get(f"{base}/api/runs").json()["runs"]  # what scripts read, with the page's cookie
    assert listed[0]["status"] == "complete" and listed[0]["headline"]
    page.goto(f"{first_run}/samples")
    every = page.locator("table.samples tbody tr").count()
    assert every > 0
    page.goto(f"{first_run}/samples?group=with_system_prompt")
    assert 0 < page.locator("table.samples tbody tr").count() < every  # one group of the two
    shots(page, "samples")
    page.goto(first_run)

    page.uncheck("#export-form input[value=merged]")
    page.check("#export-form input[value=gguf]")
    page.fill("#export-form input[name=quants]", "q8_0")
    page.uncheck("#export-form input[name=evaluate]")
    page.click("#export")
    expect(page.locator("#export-files")).to_contain_text(re.compile(r"q8_0\.gguf", re.I), timeout=LONG)
    shots(page, "exported")

    chat_with_the_export(page, base, first_run, shots)

    second_run = train_from_page(page, base, ["train.lr=2e-3"])
    finish(page, second_run)
    page.click("#evaluate")
    expect(page.locator("#eval-report")).to_be_visible(timeout=LONG)

    page.goto(f"{base}/runs")
    shots(page, "runs")
    for run_url in (first_run, second_run):
        page.check(f'input[name=pick][value="{run_url.split("/runs/")[1]}"]')
    page.click("#compare-button")
    expect(page.locator("#comparison")).to_contain_text("Settings that differ", timeout=LONG)
    expect(page.locator("#comparison")).to_contain_text("train.lr")
    shots(page, "compare")


def chat_with_the_export(page, base: str, run_url: str, shots) -> None:
    """Serve the run's Q8_0 GGUF from the Chat page and get a streamed reply that ends."""
    from playwright.sync_api import expect

    run = run_url.split("/runs/")[1]
    page.goto(f"{base}/chat")
    option = page.locator(f'#serve-target option[data-run="{run}"][data-artifact*="q8_0" i]')
    page.select_option("#serve-target", label=option.first.inner_text())
    page.click("#start-server")
    expect(page.locator("#servers .state").first).to_contain_text("ready", timeout=LONG)
    page.fill("#chat-prompt", "Who are you?")
    page.fill("#chat-form input[name=max_tokens]", "48")
    page.click("#chat-send")
    ending = page.locator('.chat-column[data-column="left"] .turn.assistant .ending')
    expect(ending).to_have_class(re.compile(r"\b(ended|hit-limit)\b"), timeout=LONG)
    assert page.locator('.chat-column[data-column="left"] .turn.assistant .reply').first.inner_text().strip()
    shots(page, "chat")


def serving_processes() -> list[int]:
    """`tuneforge serve` and llama-server processes running now (pids), the studio's chat servers among them."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv[3:4] or (argv and argv[0].endswith(b"llama-server")):
            found.append(int(cmdline.parent.name))
    return found


def studio_descendant(pid: int, studio_pid: int) -> bool:
    parents = {child: parent for child, parent, _ in running_processes()}
    while pid in parents:
        if parents[pid] == studio_pid:
            return True
        pid = parents[pid]
    return False
