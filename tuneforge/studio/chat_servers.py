"""The chat servers the studio starts: `tuneforge serve` on an exported run, as a child of the studio.

Each server is the CLI's own command (`python -m tuneforge serve RUN --backend ... --port ...`) on a free
loopback port, so what the Chat screen talks to is exactly what a user gets from the terminal. It runs in
a session of its own (a stop reaches its whole process group) and is told by the kernel to stop if the
studio dies, even by SIGKILL (PR_SET_PDEATHSIG): a chat server never outlives the studio, so unlike the
jobs nothing about it is kept on disk but its log (RUNS/.studio/servers/<id>.log). It gets a key of its
own through its environment (never the studio's token, never its command line), so other local users
cannot use the port it opens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.process import die_with_parent, live_members, running_processes, wait_group_exit
from tuneforge.serve.exports import Export
from tuneforge.serve.server import START_TIMEOUT, STOP_GRACE_SECONDS, Launch, answers, check_port
from tuneforge.serve.vllm import SPEC_FILES, find_venv
from tuneforge.studio.jobs import STUDIO_DIR, child_environment

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
KEY_ENV = "TUNEFORGE_API_KEY"  # what `tuneforge serve` reads its key from (there is no --api-key)
START_SLACK_SECONDS = 30.0  # beyond serve's own --timeout: its Python start and its message in the log
GROUP_GRACE_SECONDS = STOP_GRACE_SECONDS + 10.0  # serve itself waits STOP_GRACE_SECONDS for its backend
LOG_TAIL_LINES = 25
# PR_SET_PDEATHSIG fires when the *thread* that started the child ends, not the process: a request's
# worker thread (anyio retires idle ones after 10 s; a TestClient's after each request) would take the
# server down with it. So servers are started from this one thread, which lives as long as the studio.
SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="chat-server-spawner")


@dataclass(frozen=True)
class Choice:
    """One way to serve an export: a backend and the artifact it loads (with serve's flags for it)."""

    backend: str
    artifact: str  # a GGUF quant (q8_0 ...), "adapter" (base + LoRA) or "merged"
    label: str
    flags: tuple[str, ...]
    has_base: bool = False  # the server also answers as the base model (base vs tuned side by side)


def vllm_installed() -> bool:
    """Whether vLLM's own environment exists (cheap: its interpreter is there; serve checks the rest)."""
    return (find_venv() / "bin" / "python").is_file()


def serve_choices(export: Export, with_vllm: bool) -> list[Choice]:
    """Every (backend, artifact) `tuneforge serve` can start on this export."""
    choices = [
        Choice("llamacpp", quant, f"GGUF {quant.upper()} (llama.cpp)", ("--quant", quant)) for quant in export.ggufs
    ]
    if {"base-f16", "lora-gguf"} <= export.artifacts.keys():
        label = "base GGUF + LoRA GGUF (llama.cpp; base and tuned from one server)"
        choices.append(Choice("llamacpp", "adapter", label, ("--adapter",), has_base=True))
    bundle = export.folder / export.artifacts["vllm"]["file"] if "vllm" in export.artifacts else None
    if with_vllm and bundle is not None and "merged" in export.artifacts:
        choices.append(Choice("vllm", "merged", "merged weights (vLLM bundle)", ()))
    if with_vllm and bundle is not None and (bundle / SPEC_FILES["lora"]).is_file():
        label = "base + LoRA (vLLM bundle; base and tuned from one server)"
        choices.append(Choice("vllm", "adapter", label, ("--adapter",), has_base=True))
    return choices


@dataclass
class ChatServer:
    id: str
    run: str  # "<recipe>/<run-id>"
    choice: Choice
    model: str  # the name it answers to: the recipe's name
    port: int
    api_key: str = field(repr=False)
    process: subprocess.Popen = field(repr=False)
    log: Path
    started: float = field(default_factory=time.monotonic)
    state: str = "starting"  # starting | ready | failed | stopping | stopped (| exited, seen by `current_state`)
    ready_seconds: float | None = None
    problem: str | None = None
    backend_pids: list[int] = field(default_factory=list)  # serve's own server, in a session of its own
    voices: dict = field(default_factory=dict)  # "tuned"/"base" -> request fields (model, extra_body)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def launch(self) -> Launch:
        return Launch([], HOST, self.port, self.api_key, self.model, self.choice.backend)

    def current_state(self) -> str:
        if self.state == "ready" and self.process.poll() is not None:
            return f"exited (code {self.process.returncode})"
        return self.state

    def public(self) -> dict:
        """What the page and the API show (never the key)."""
        state = self.current_state()
        return {
            "id": self.id,
            "run": self.run,
            "artifact": self.choice.artifact,
            "backend": self.choice.backend,
            "label": self.choice.label,
            "port": self.port,
            "state": state,
            "model": self.model,
            "voices": list(self.voices),
            "ready_seconds": self.ready_seconds,
            "waited_seconds": round(time.monotonic() - self.started, 1),
            "problem": self.problem,
            "log_tail": self.log_tail() if state not in ("ready", "stopped") else None,
        }

    def log_tail(self) -> str:
        if not self.log.is_file():
            return ""
        with open(self.log, "rb") as handle:
            handle.seek(max(0, self.log.stat().st_size - 16_000))
            lines = handle.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-LOG_TAIL_LINES:])


def serve_argv(run_dir: Path, runs_dir: Path, choice: Choice, port: int) -> list[str]:
    """The command the CLI runs for this choice (serve's --timeout is the backend's usual start limit)."""
    return [
        sys.executable,
        "-m",
        "tuneforge",
        "serve",
        str(run_dir),
        "--backend",
        choice.backend,
        *choice.flags,
        "--host",
        HOST,
        "--port",
        str(port),
        "--timeout",
        str(START_TIMEOUT[choice.backend]),
        "--runs-dir",
        str(runs_dir),
    ]


def start_server(runs_dir: Path, run: str, run_dir: Path, export: Export, choice: Choice) -> ChatServer:
    """Starts `tuneforge serve` and returns at once; a thread watches it until it answers (or fails)."""
    folder = runs_dir / STUDIO_DIR / "servers"
    folder.mkdir(parents=True, exist_ok=True)
    server_id = f"{datetime.now(timezone.utc):%H%M%S}-{secrets.token_hex(3)}"
    port, api_key, log_path = check_port(HOST, 0), secrets.token_urlsafe(24), folder / f"{server_id}.log"
    with open(log_path, "ab") as output:
        process = SPAWNER.submit(
            subprocess.Popen,
            serve_argv(run_dir, runs_dir, choice, port),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=child_environment() | {KEY_ENV: api_key, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"},
            start_new_session=True,  # its own group: a stop reaches serve and nothing else
            preexec_fn=die_with_parent(os.getpid()),  # and it never outlives the studio
        ).result()
    server = ChatServer(server_id, run, choice, export.recipe.name, port, api_key, process, log_path)
    threading.Thread(target=watch_start, args=(server,), daemon=True, name=f"chat-server-{server_id}").start()
    return server


def watch_start(server: ChatServer) -> None:
    """Polls the server's /v1/models until it answers; a server that exits or never answers is stopped
    and marked failed (the page shows its log tail)."""
    deadline = server.started + START_TIMEOUT[server.choice.backend] + START_SLACK_SECONDS
    while server.state == "starting":
        if server.process.poll() is not None:
            server.problem = f"`tuneforge serve` exited with code {server.process.returncode} before it was ready"
            server.state = "failed"
        elif answers(server.launch):
            mark_ready(server)
        elif time.monotonic() > deadline:
            server.problem = f"the server did not answer within {deadline - server.started:.0f} s"
            stop_processes(server)
            server.state = "failed"
        else:
            time.sleep(0.3)


def mark_ready(server: ChatServer) -> None:
    server.backend_pids = children(server.process.pid)
    server.voices = {"tuned": {"model": server.model}}
    if server.choice.has_base:
        base = base_voice(server)
        if base is not None:
            server.voices["base"] = base
    server.ready_seconds = round(time.monotonic() - server.started, 2)
    if server.state == "starting":  # not when a stop came in meanwhile
        server.state = "ready"
    log.info("chat server %s ready on port %d after %.1f s", server.id, server.port, server.ready_seconds)


def base_voice(server: ChatServer) -> dict | None:
    """How to ask an adapter server for the base model's reply. vLLM serves the bare base as
    '<name>-base' (serve/vllm.py); llama.cpp's llama-server takes a per-request LoRA scale, so scale 0
    is the base model. llama-cpp-python's fallback server has neither: no base voice there."""
    if server.choice.backend == "vllm":
        return {"model": f"{server.model}-base"}
    if any(command_name(pid) == "llama-server" for pid in server.backend_pids):
        return {"model": server.model, "extra_body": {"lora": [{"id": 0, "scale": 0.0}]}}
    return None


def children(pid: int) -> list[int]:
    return [child for child, parent, _ in running_processes() if parent == pid]


def command_name(pid: int) -> str:
    try:
        return Path(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()).name
    except OSError:
        return ""


def stop_server(server: ChatServer) -> None:
    """SIGTERM to serve's process group (serve then stops its own server, as on Ctrl-C), SIGKILL to
    whatever of it still runs after the grace period; the same for serve's server, should serve die
    first. Returns once every process is gone."""
    server.state = "stopping"
    stop_processes(server)
    server.state = "stopped"


def stop_processes(server: ChatServer) -> None:
    groups = [server.process.pid] + sorted(set(server.backend_pids + children(server.process.pid)))
    signal_group(server.process.pid, signal.SIGTERM)
    for group in groups:  # serve's first: it stops its server itself; the others are only checked
        if not wait_group_exit(group, GROUP_GRACE_SECONDS):
            signal_group(group, signal.SIGKILL)
            wait_group_exit(group, GROUP_GRACE_SECONDS)
    try:
        server.process.wait(timeout=GROUP_GRACE_SECONDS)  # reaped: no zombie left behind
    except subprocess.TimeoutExpired:
        log.warning("chat server %s (pid %d) was not reaped", server.id, server.process.pid)


def signal_group(group: int, number: signal.Signals) -> None:
    if live_members(group):
        with contextlib.suppress(ProcessLookupError):  # it ended between the look and the signal
            os.killpg(group, number)


def stop_all(servers: dict) -> list[str]:
    """Stops every server in `servers` (together: each may wait out its grace period) and empties it."""
    stopping = list(servers.values())
    with ThreadPoolExecutor(max(1, len(stopping))) as pool:
        list(pool.map(stop_server, stopping))
    servers.clear()
    return [server.id for server in stopping]


def choice_named(choices: list[Choice], backend: str, artifact: str) -> Choice:
    for choice in choices:
        if (choice.backend, choice.artifact) == (backend, artifact):
            return choice
    offered = ", ".join(f"{c.backend}:{c.artifact}" for c in choices) or "nothing"
    raise UserError(
        f"this export cannot be served as {backend}:{artifact}",
        [f"it offers: {offered}"],
        fix="pick one of the artifacts the Chat page lists (`tuneforge export RUN --format ...` adds others)",
    )
