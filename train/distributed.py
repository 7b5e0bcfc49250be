"""What a training process knows about the others: its rank, the world size, and the few things
they decide together (the run folder, the resume checkpoint, when to stop).

torchrun (or `accelerate launch`) starts the processes and sets RANK / WORLD_SIZE / LOCAL_RANK;
the process group is torch's own (NCCL on GPUs, gloo on CPUs). Nothing here launches, syncs
gradients or does a rendezvous: the Trainer (through accelerate) and torch do that. A single
process, started without a launcher, has world size 1 and every helper here is a no-op.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from tuneforge.errors import UserError

log = logging.getLogger(__name__)
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class World:
    rank: int = 0
    local_rank: int = 0
    size: int = 1
    local_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_local_main(self) -> bool:
        return self.local_rank == 0

    @property
    def nodes(self) -> int:
        return max(1, self.size // self.local_size)


def launched() -> bool:
    """True inside a process started by torchrun / accelerate launch (they set all three)."""
    return all(name in os.environ for name in LAUNCHER_VARIABLES)


def current_world() -> World:
    if not launched():
        return World()
    size = int(os.environ["WORLD_SIZE"])
    return World(
        rank=int(os.environ["RANK"]),
        local_rank=int(os.environ["LOCAL_RANK"]),
        size=size,
        local_size=int(os.environ.get("LOCAL_WORLD_SIZE", size)),
    )


def backend() -> str:
    import torch

    return "nccl" if torch.cuda.is_available() else "gloo"


def init_process_group(world: World, timeout_s: int) -> None:
    """Join the others (the launcher set the address); the Trainer's accelerate state reuses this
    group. The timeout bounds every collective: a rank that died makes the rest fail, not hang."""
    if world.size == 1:
        return
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return
    if torch.cuda.is_available():
        if world.local_rank >= torch.cuda.device_count():
            raise UserError(
                f"local rank {world.local_rank} has no GPU: this machine has {torch.cuda.device_count()}",
                fix="launch at most one process per GPU (--devices / --nproc_per_node)",
            )
        torch.cuda.set_device(world.local_rank)
    dist.init_process_group(backend(), timeout=timedelta(seconds=timeout_s))
    log.debug("rank %d of %d joined (%s)", world.rank, world.size, backend())


def share(value, world: World):
    """Rank 0's value, on every rank (what rank 0 decided alone: the run folder, the checkpoint)."""
    if world.size == 1:
        return value
    import torch.distributed as dist

    box = [value if world.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(world: World) -> None:
    if world.size > 1:
        import torch.distributed as dist

        dist.barrier()


@contextmanager
def local_main_first(world: World):
    """The block runs on each machine's local rank 0 first, then on the others; used for work
    whose result the others find in a machine-local cache (tokenized data)."""
    if not world.is_local_main:
        barrier(world)
    yield
    if world.is_local_main:
        barrier(world)


def any_rank(flag: bool, world: World) -> bool:
    """True on every rank when it is true on any of them: all stop at the same step, or none do."""
    if world.size == 1:
        return flag
    import torch
    import torch.distributed as dist

    device = f"cuda:{world.local_rank}" if backend() == "nccl" else "cpu"
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def quiet_other_ranks(world: World) -> None:
    """Logs come from rank 0 only; the others keep their errors."""
    if not world.is_main:
        logging.getLogger().setLevel(logging.ERROR)
        for name in ("transformers", "datasets", "trl", "unsloth", "accelerate"):
            logging.getLogger(name).setLevel(logging.ERROR)
