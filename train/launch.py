"""`tuneforge train RECIPE --devices N`: start the training processes through torchrun.

tuneforge train translation --devices 4                          # 4 processes on this machine
tuneforge train translation --devices 8 --nnodes 2 --node-rank 0 --master-addr node0 --master-port 29500
tuneforge train translation --devices 8 --nnodes 2 --rdzv-endpoint node0:29400   # elastic rendezvous
torchrun --nproc-per-node 8 -m tuneforge train translation       # the same, launched by hand

The recipe, the data and the options are checked here, before any process starts; then this
process runs `python -m torch.distributed.run ... -m tuneforge train ...` and waits. torchrun does
the rendezvous, starts one process per device, passes a stop signal on to them and stops them all
when one dies; the processes find RANK / WORLD_SIZE and do not launch again. On a CPU-only machine
the processes are CPU processes talking over gloo.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tuneforge.errors import EXIT_USER_ERROR, ProblemCollector, StopRequested, UserError
from tuneforge.files import write_json_atomic
from tuneforge.process import die_with_parent
from tuneforge.recipe.schema import Recipe
from tuneforge.runs import MANIFEST, read_manifest
from tuneforge.serve.server import check_port
from tuneforge.train.distributed import World, launched
from tuneforge.train.engine import accumulation
from tuneforge.train.finetune import LAUNCH_RECORD, check_trackers, preflight
from tuneforge.train.strategy import check_available, resolve_strategy

log = logging.getLogger(__name__)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
DEFAULT_MASTER_PORT = 29500  # torchrun's own default
SHUTDOWN_GRACE_S = 60  # torchrun waits this long for the processes to checkpoint before SIGKILL


@dataclass(frozen=True)
class LaunchOptions:
    devices: int | None = None
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str | None = None
    master_port: int | None = None
    rdzv_endpoint: str | None = None

    @property
    def processes_per_node(self) -> int:
        return self.devices or 1

    @property
    def world_size(self) -> int:
        return self.processes_per_node * self.nnodes

    def wanted(self) -> bool:
        """More than one process, or any distributed option at all."""
        return self != LaunchOptions(devices=self.devices) or self.processes_per_node > 1


def gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def check_launch(options: LaunchOptions, recipe: Recipe) -> None:
    """Every problem with the launch options, reported together (exit 2), before any process starts."""
    check_trackers(recipe)
    problems = ProblemCollector("cannot start distributed training")
    if launched():
        problems.add("this process was started by torchrun / accelerate launch: they already chose the processes")
    gpus = gpu_count()
    if gpus and options.processes_per_node > gpus:
        problems.add(
            f"--devices {options.processes_per_node}: this machine has {gpus} GPU(s); "
            f"use --devices {gpus} or fewer (more machines: --nnodes)"
        )
    problems.problems += rendezvous_problems(options)
    problems.raise_if_any()
    strategy = resolve_strategy(recipe.train.distributed, World(size=options.world_size))
    check_available(strategy, gpus)
    accumulation(recipe.train, options.world_size)


def rendezvous_problems(options: LaunchOptions) -> list[str]:
    problems = []
    if options.nnodes > 1 and not (options.master_addr or options.rdzv_endpoint):
        problems.append(
            f"--nnodes {options.nnodes} needs the address of node 0: --master-addr HOST --master-port PORT, "
            "or --rdzv-endpoint HOST:PORT"
        )
    if not 0 <= options.node_rank < options.nnodes:
        problems.append(f"--node-rank {options.node_rank}: must be between 0 and --nnodes - 1 ({options.nnodes - 1})")
    if options.master_addr and options.rdzv_endpoint:
        problems.append("--master-addr and --rdzv-endpoint: give one of them")
    host, port = hosted_address(options)
    if port:
        try:
            check_port("127.0.0.1" if host in LOCAL_HOSTS else host, port)
        except UserError as busy:
            problems.append(f"{busy.title}; choose another port (--master-port / --rdzv-endpoint HOST:PORT)")
    return problems


def hosted_address(options: LaunchOptions) -> tuple[str, int | None]:
    """The (host, port) this machine will listen on for the others, or (host, None) if none."""
    if options.rdzv_endpoint:
        host, _, port = options.rdzv_endpoint.rpartition(":")
        if not port.isdigit():
            return host, None
        return host or "127.0.0.1", int(port) if is_this_machine(host) and options.node_rank == 0 else None
    if not (options.master_addr or options.master_port or options.nnodes > 1):
        return "127.0.0.1", None  # --standalone: torchrun picks a free port itself
    host = options.master_addr or "127.0.0.1"
    port = options.master_port or DEFAULT_MASTER_PORT
    return host, port if options.node_rank == 0 and is_this_machine(host) else None


def is_this_machine(host: str) -> bool:
    return host in LOCAL_HOSTS or host in {socket.gethostname(), socket.getfqdn()}


def torchrun_command(options: LaunchOptions, worker_arguments: list[str]) -> list[str]:
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={options.processes_per_node}"]
    command += [f"--nnodes={options.nnodes}", "--max-restarts=0", f"--shutdown-timeout={SHUTDOWN_GRACE_S}"]
    if options.rdzv_endpoint:
        command += ["--rdzv-backend=c10d", f"--rdzv-endpoint={options.rdzv_endpoint}"]
    elif options.nnodes > 1 or options.master_addr or options.master_port:
        command += [f"--node-rank={options.node_rank}", f"--master-addr={options.master_addr or '127.0.0.1'}"]
        command += [f"--master-port={options.master_port or DEFAULT_MASTER_PORT}"]
    else:
        command.append("--standalone")  # one machine: a rendezvous on a free local port
    return [*command, "-m", "tuneforge", *worker_arguments]


def worker_environment(options: LaunchOptions, record: Path) -> dict[str, str]:
    environment = dict(os.environ, **{LAUNCH_RECORD: str(record)})
    # torchrun would pin every CPU process to one thread; share the cores out instead.
    environment.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // options.processes_per_node)))
    return environment


def launch(options: LaunchOptions, recipe: Recipe, source: Path, worker_arguments: list[str]) -> int:
    """Check, start torchrun, wait for it; returns its exit code (the run folder is printed by rank 0)."""
    check_launch(options, recipe)
    preflight(recipe)  # bad data fails here, once, not once per process
    with tempfile.TemporaryDirectory(prefix="tuneforge-launch-") as scratch:
        record = Path(scratch) / "run_dir"
        command = torchrun_command(options, worker_arguments)
        log.info("starting %d process(es) on this machine: %s", options.processes_per_node, " ".join(command[1:]))
        process = subprocess.Popen(
            command,
            env=worker_environment(options, record),
            start_new_session=True,  # a terminal's Ctrl-C reaches torchrun once, through us
            preexec_fn=die_with_parent(os.getpid()),
        )
        code, stop = supervise(process)
        error = mark_failed(record, code) if code != 0 else ""
        if stop is not None:
            raise StopRequested(stop)
    # A mistake the processes found (the same on every rank) is a user error here too.
    return EXIT_USER_ERROR if error.startswith(f"{UserError.__name__}:") else code


def supervise(process: subprocess.Popen) -> tuple[int, int | None]:
    """Wait for torchrun; a stop signal is passed on to it (it passes it to every process, which
    checkpoints at its next step boundary). Returns (exit code, the stop signal or None)."""
    stop = None
    while True:
        try:
            return process.wait(), stop
        except KeyboardInterrupt as interrupt:
            stop = interrupt.signum if isinstance(interrupt, StopRequested) else signal.SIGINT
            log.warning("%s: passing it on to the training processes", signal.Signals(stop).name)
            process.send_signal(stop)


def mark_failed(record: Path, code: int) -> str:
    """A process killed without a word (SIGKILL, out of memory) leaves its run `running`; say failed.
    Returns the run's recorded error ("" if there is no run)."""
    if not record.is_file():
        return ""
    run_dir = Path(record.read_text(encoding="utf-8"))
    try:
        manifest = read_manifest(run_dir)
    except UserError:
        return ""
    if manifest.get("status") == "running":
        manifest.update(status="failed", error=f"a training process died (torchrun exit code {code})")
        write_json_atomic(run_dir / MANIFEST, manifest)
        log.error("run %s failed: a training process died; see the log above", run_dir)
    return manifest.get("error", "")
