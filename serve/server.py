"""`tuneforge serve`: an export behind an OpenAI-compatible HTTP API, on llama.cpp or vLLM.

    tuneforge serve runs/quickstart/<run-id> --backend llamacpp --quant q8_0 --api-key KEY

The server runs as a child process (llama-cpp-python's server in this environment; vLLM
from its own environment), bound to 127.0.0.1 unless told otherwise. `Server` starts it,
waits until it answers, and stops the whole process group on exit or Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.serve.exports import Export, pick_gguf, require_artifact

log = logging.getLogger(__name__)
BACKENDS = ("llamacpp", "vllm")
STDERR_FD = 2
START_TIMEOUT = {"llamacpp": 120.0, "vllm": 900.0}  # vLLM compiles and profiles at start: minutes on a CPU
STOP_GRACE_SECONDS = 20.0  # SIGTERM to SIGKILL; vLLM shuts its engine down within a few seconds


@dataclass(frozen=True)
class Launch:
    """What to run and where it will listen."""

    argv: list[str]
    host: str
    port: int
    api_key: str | None
    model_name: str
    backend: str
    env: dict = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"


def cpu_threads() -> int:
    # llama.cpp defaults to half the cores (it assumes hyper-threads); a VM's vCPUs are all usable.
    return len(os.sched_getaffinity(0))


def llamacpp_argv(export: Export, quant: str | None, adapter: bool, host: str, port: int,
                  api_key: str | None) -> list[str]:
    name = export.recipe.name
    if adapter:
        fix = f"run `tuneforge export {export.folder.parent} --format lora-gguf`"
        model = ["--model", str(require_artifact(export, "base-f16", fix)),
                 "--lora_path", str(require_artifact(export, "lora-gguf", fix))]
    else:
        model = ["--model", str(pick_gguf(export, quant))]
    argv = [sys.executable, "-m", "llama_cpp.server", *model, "--model_alias", name,
            "--host", host, "--port", str(port), "--n_ctx", str(export.recipe.serve.n_ctx),
            # -1 offloads every layer when llama.cpp was built with CUDA; a CPU build ignores it.
            "--n_gpu_layers", "-1", "--n_threads", str(cpu_threads()), "--n_threads_batch", str(cpu_threads()),
            # The server's default keeps logits for every prompt position (for echo/logprobs of the
            # prompt, which chat clients do not ask for): off saves ~15 ms per request here.
            "--logits_all", "False", "--verbose", "False"]
    return argv + (["--api_key", api_key] if api_key else [])


def llamacpp_env() -> dict:
    """OpenMP settings for llama.cpp's CPU threads in the server (the user's own values win).

    The server runs each request on one of its worker threads, and libgomp keeps a thread team per
    calling thread; with more OpenMP threads than cores it spins only 100 times at each barrier and
    then sleeps, so every decoded token waits on the scheduler. ACTIVE raises that to 1000 spins;
    GOMP_SPINCOUNT keeps the usual 300,000 otherwise, so an idle server does not spin. Measured on
    2 cores: 12 requests of 16 tokens took 141 ms each against 207-309 ms with the defaults
    (in-process: 112-126 ms), BENCHMARKS.md.
    """
    wanted = {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "300000"}
    return {name: value for name, value in wanted.items() if name not in os.environ}


def plan_launch(export: Export, backend: str, *, quant: str | None = None, adapter: bool = False,
                host: str | None = None, port: int | None = None, api_key: str | None = None,
                tensor_parallel_size: int = 1) -> Launch:
    """Checks everything (artifact, sha256, port, backend) before anything starts."""
    if backend not in BACKENDS:
        raise UserError(f"--backend {backend}: unknown; choose from {', '.join(BACKENDS)}")
    host = host or export.recipe.serve.host
    port = check_port(host, export.recipe.serve.port if port is None else port)
    if backend == "llamacpp":
        argv, env = llamacpp_argv(export, quant, adapter, host, port, api_key), llamacpp_env()
    else:
        from tuneforge.serve.vllm import vllm_command, vllm_env

        bundle = require_artifact(export, "vllm", fix=f"run `tuneforge export {export.folder.parent} --format vllm`")
        require_artifact(export, "merged", fix=f"run `tuneforge export {export.folder.parent} --format merged,vllm`")
        argv = vllm_command(bundle, variant="lora" if adapter else "merged", host=host, port=port,
                            api_key=api_key, tensor_parallel_size=tensor_parallel_size)
        env = vllm_env()
    return Launch(argv, host, port, api_key, export.recipe.name, backend, env)


def check_port(host: str, port: int) -> int:
    """The port if it is free (0 picks a free one); a clear error if something already listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UserError(f"cannot listen on {host}:{port}: {error.strerror}",
                            fix="pass another --port, or stop what is using it") from None
        return probe.getsockname()[1]


class Server:
    """A running backend: `with Server(launch) as server:` starts it and waits until it answers."""

    def __init__(self, launch: Launch, log_path: Path | None = None, timeout: float | None = None):
        self.launch, self.log_path = launch, log_path
        self.timeout = timeout or START_TIMEOUT[launch.backend]
        self.process: subprocess.Popen | None = None
        self.started_seconds: float | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        output = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115 (child keeps it)
        began = time.perf_counter()
        # A new session: Ctrl-C reaches tuneforge only, which then stops the whole server group.
        # Without a log file the server's output goes to our stderr: stdout carries only results.
        self.process = subprocess.Popen(self.launch.argv, stdout=output or STDERR_FD, stderr=subprocess.STDOUT,
                                        env={**os.environ, **self.launch.env}, start_new_session=True)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        self.started_seconds = time.perf_counter() - began
        log.info("%s ready at %s after %.1f s", self.launch.backend, self.launch.base_url, self.started_seconds)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise UserError(f"the {self.launch.backend} server exited with code {self.process.returncode} "
                                "before it was ready", [self.log_tail()] if self.log_path else [],
                                fix="read the server output above; `tuneforge serve -v` shows more")
            if answers(self.launch):
                return
            time.sleep(0.5)
        raise UserError(f"the {self.launch.backend} server did not answer within {self.timeout:.0f} s",
                        fix="pass a longer --timeout, or read the server log")

    def stop(self) -> None:
        """SIGTERM to the whole group (vLLM's engine and workers are children of its API server),
        then SIGKILL to whatever is still running after the grace period."""
        if self.process is None:
            return
        group = self.process.pid
        if self.process.poll() is None:
            os.killpg(group, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(group, signal.SIGKILL)
                self.process.wait()
        if not wait_group_exit(group, STOP_GRACE_SECONDS) and live_members(group):
            os.killpg(group, signal.SIGKILL)
            wait_group_exit(group, STOP_GRACE_SECONDS)

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""
        return "server log tail:\n" + "\n".join(text.splitlines()[-lines:])


def live_members(group: int) -> list[int]:
    """Running processes of a process group (zombies excluded: they hold no port or memory and
    vanish once reaped, which an unreaping container init may never do)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def wait_group_exit(group: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while live_members(group):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def answers(launch: Launch) -> bool:
    """True once GET /v1/models succeeds: the model is loaded and requests will be served."""
    request = urllib.request.Request(f"{launch.base_url}/models")
    if launch.api_key:
        request.add_header("Authorization", f"Bearer {launch.api_key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def curl_example(launch: Launch) -> str:
    auth = f" -H 'Authorization: Bearer {launch.api_key}'" if launch.api_key else ""
    return (f"curl -s {launch.base_url}/chat/completions -H 'Content-Type: application/json'{auth} \\\n"
            f"  -d '{{\"model\": \"{launch.model_name}\", \"messages\": [{{\"role\": \"user\", "
            f"\"content\": \"Hello!\"}}], \"max_tokens\": 64}}'")
