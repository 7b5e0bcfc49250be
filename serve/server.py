"""`tuneforge serve`: an export behind an OpenAI-compatible HTTP API, on llama.cpp or vLLM.

    TUNEFORGE_API_KEY=KEY tuneforge serve runs/quickstart/<run-id> --backend llamacpp --quant q8_0

The server runs as a child process: llama.cpp's own llama-server (built at setup, see
serve/native.py; llama-cpp-python's server where it could not be built), or vLLM from its own
environment. It binds 127.0.0.1 unless told otherwise and gets the API key through its
environment, never its command line (which every local user can read in /proc). `Server`
starts it, waits until it answers, and stops its whole process group on exit, Ctrl-C, SIGTERM
or SIGHUP; the child is also told by the kernel to stop if tuneforge itself dies (SIGKILL).
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
from tuneforge.process import die_with_parent, live_members, wait_group_exit
from tuneforge.serve.exports import Export, pick_gguf, require_artifact
from tuneforge.serve.llamacpp import cpu_has_amx
from tuneforge.serve.native import find_native_server
from tuneforge.serve.vllm import vllm_command, vllm_env

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
    server: str = ""  # native | python (llama.cpp) | vllm

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"


def cpu_threads() -> int:
    # llama.cpp defaults to half the cores (it assumes hyper-threads); a VM's vCPUs are all usable.
    return len(os.sched_getaffinity(0))


def llamacpp_model_args(export: Export, quant: str | None, adapter: bool) -> tuple[Path, Path | None]:
    if not adapter:
        return pick_gguf(export, quant), None
    fix = f"run `tuneforge export {export.folder.parent} --format lora-gguf`"
    return require_artifact(export, "base-f16", fix), require_artifact(export, "lora-gguf", fix)


def native_argv(binary: Path, export: Export, quant: str | None, adapter: bool, host: str, port: int) -> list[str]:
    """llama-server with `serve.parallel` slots of `serve.n_ctx` tokens each (-c is their sum),
    continuous batching, the GGUF's own chat template (--jinja), /health and Prometheus /metrics.
    /slots is off: it shows every slot's prompt to anyone who can reach the port."""
    serve = export.recipe.serve
    model, lora = llamacpp_model_args(export, quant, adapter)
    argv = [
        str(binary),
        "--model",
        str(model),
        "--alias",
        export.recipe.name,
        "--host",
        host,
        "--port",
        str(port),
        "--ctx-size",
        str(serve.n_ctx * serve.parallel),
        "--parallel",
        str(serve.parallel),
        "--no-kv-unified",
        "--cont-batching",
        "--jinja",
        "--metrics",
        "--no-slots",
        "--no-webui",
        # all layers on the GPU when llama-server was built with one; a CPU build ignores it.
        "--n-gpu-layers",
        "all",
        "--threads",
        str(cpu_threads()),
        "--threads-batch",
        str(cpu_threads()),
    ]
    argv += ["--no-repack"] if cpu_has_amx() else []  # see cpu_has_amx
    return argv + (["--lora", str(lora)] if lora else [])


def python_argv(export: Export, quant: str | None, adapter: bool, host: str, port: int) -> list[str]:
    """llama-cpp-python's server: one request at a time; the fallback where llama-server is missing."""
    model, lora = llamacpp_model_args(export, quant, adapter)
    argv = [
        sys.executable,
        "-m",
        "tuneforge.serve.llamacpp",  # llama_cpp.server without AMX repacking, see that module
        "--model",
        str(model),
        "--model_alias",
        export.recipe.name,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        str(export.recipe.serve.n_ctx),
        # -1 offloads every layer when llama.cpp was built with CUDA; a CPU build ignores it.
        "--n_gpu_layers",
        "-1",
        "--n_threads",
        str(cpu_threads()),
        "--n_threads_batch",
        str(cpu_threads()),
        # The server's default keeps logits for every prompt position (for echo/logprobs of the
        # prompt, which chat clients do not ask for): off saves ~15 ms per request here.
        "--logits_all",
        "False",
        "--verbose",
        "False",
    ]
    return argv + (["--lora_path", str(lora)] if lora else [])


def llamacpp_launch(
    export: Export, choice: str, quant: str | None, adapter: bool, host: str, port: int, api_key: str | None
) -> tuple[list[str], dict, str]:
    """(argv, env, which server) for the llama.cpp backend. The key travels in the environment:
    llama-server reads LLAMA_API_KEY, llama-cpp-python's settings read API_KEY."""
    binary = find_native_server() if choice != "python" else None
    if binary is None and choice == "native":
        raise UserError(
            "llama.cpp's llama-server is not built on this machine",
            fix="run `make setup` (it builds it; cmake and a C++ compiler are needed), or set "
            "TUNEFORGE_LLAMA_SERVER to a llama-server binary, or pass --llamacpp-server python",
        )
    env = llamacpp_env()
    if binary is not None:
        return (
            native_argv(binary, export, quant, adapter, host, port),
            {**env, **key_env("LLAMA_API_KEY", api_key)},
            "native",
        )
    log.warning(
        "llama-server is not built here: serving with llama-cpp-python's server, which answers one request "
        "at a time (`make setup` builds llama-server)"
    )
    return python_argv(export, quant, adapter, host, port), {**env, **key_env("API_KEY", api_key)}, "python"


def key_env(name: str, api_key: str | None) -> dict:
    return {name: api_key} if api_key else {}


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


def plan_launch(
    export: Export,
    backend: str,
    *,
    quant: str | None = None,
    adapter: bool = False,
    host: str | None = None,
    port: int | None = None,
    api_key: str | None = None,
    tensor_parallel_size: int = 1,
    data_parallel_size: int = 1,
    llamacpp_server: str = "auto",
) -> Launch:
    """Checks everything (artifact, sha256, port, backend) before anything starts."""
    if backend not in BACKENDS:
        raise UserError(f"backend {backend}: unknown; choose from {', '.join(BACKENDS)}")
    host = host or export.recipe.serve.host
    port = check_port(host, export.recipe.serve.port if port is None else port)
    if backend == "llamacpp":
        argv, env, server = llamacpp_launch(export, llamacpp_server, quant, adapter, host, port, api_key)
    else:
        bundle = require_artifact(export, "vllm", fix=f"run `tuneforge export {export.folder.parent} --format vllm`")
        require_artifact(export, "merged", fix=f"run `tuneforge export {export.folder.parent} --format merged,vllm`")
        argv = vllm_command(
            bundle,
            variant="lora" if adapter else "merged",
            host=host,
            port=port,
            tensor_parallel_size=tensor_parallel_size,
            data_parallel_size=data_parallel_size,
        )
        env, server = {**vllm_env(), **key_env("VLLM_API_KEY", api_key)}, "vllm"
    return Launch(argv, host, port, api_key, export.recipe.name, backend, env, server)


def check_port(host: str, port: int) -> int:
    """The port if it is free (0 picks a free one); a clear error if something already listens.
    The probe binds with SO_REUSEADDR, as the servers do, so the TIME_WAIT sockets of a server that
    just stopped do not block its restart, while a live listener still does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UserError(
                f"cannot listen on {host}:{port}: {error.strerror}", fix="pass another --port, or stop what is using it"
            ) from None
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
        self.process = subprocess.Popen(
            self.launch.argv,
            stdout=output or STDERR_FD,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.launch.env},
            start_new_session=True,
            preexec_fn=die_with_parent(os.getpid()),
        )
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
                raise UserError(
                    f"the {self.launch.backend} server exited with code {self.process.returncode} before it was ready",
                    [self.log_tail()] if self.log_path else [],
                    fix="read the server output above; `tuneforge serve -v` shows more",
                )
            if answers(self.launch):
                return
            time.sleep(0.5)
        raise UserError(
            f"the {self.launch.backend} server did not answer within {self.timeout:.0f} s",
            fix="pass a longer --timeout, or read the server log",
        )

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
    # The key itself is never printed: logs and terminals are read by others.
    auth = ' -H "Authorization: Bearer $TUNEFORGE_API_KEY"' if launch.api_key else ""
    return (
        f"curl -s {launch.base_url}/chat/completions -H 'Content-Type: application/json'{auth} \\\n"
        f'  -d \'{{"model": "{launch.model_name}", "messages": [{{"role": "user", '
        f'"content": "Hello!"}}], "max_tokens": 64}}\''
    )
