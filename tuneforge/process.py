"""Child processes that never outlive tuneforge, and the process groups they run in.

Servers (llama-server, vLLM) and training workers run as children. The kernel is asked to stop each
child when tuneforge dies, even by SIGKILL (PR_SET_PDEATHSIG on Linux), and a stopped server's
whole process group is watched until it is gone: vLLM's engine and workers are its children.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int):
    """A preexec_fn: the kernel sends the child SIGTERM when tuneforge dies, even by SIGKILL, so a
    child never outlives it (it then stops as on a supervisor's SIGTERM, children included)."""
    if not sys.platform.startswith("linux"):
        return None

    def arm() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # tuneforge died before the request was armed
            os._exit(1)

    return arm


def running_processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every running process, from /proc (zombies excluded:
    they hold no port or memory and vanish once reaped, which an unreaping container init may
    never do)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if fields[0] != "Z":
            found.append((int(stat.parent.name), int(fields[1]), int(fields[2])))
    return found


def start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks since boot, /proc/PID/stat), or None when it is not running:
    with its pid, this tells a process from a later one that reused the pid."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[19])


def this_process() -> dict:
    """This process as another program on the machine can find it again: pid, host and start time."""
    return {"pid": os.getpid(), "host": os.uname().nodename, "start_ticks": start_ticks(os.getpid())}


def is_running(record: dict | None) -> bool | None:
    """Whether the process `this_process()` described still runs; None when that cannot be told from here
    (no record, or another machine)."""
    if not record or record.get("host") != os.uname().nodename:
        return None
    return start_ticks(record["pid"]) == record.get("start_ticks")


def live_members(group: int) -> list[int]:
    """Running processes of a process group."""
    return [pid for pid, _, pgrp in running_processes() if pgrp == group]


def wait_group_exit(group: int, timeout: float) -> bool:
    """True once no process of the group runs; False when some still do after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while live_members(group):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
