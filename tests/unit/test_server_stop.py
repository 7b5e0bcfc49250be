"""Server.stop() ends the whole process group: vLLM's API server starts engine and worker processes
that must not outlive it (they hold the port, memory and CPU). A shell that starts a child which
ignores SIGTERM stands in for them here: the real vLLM shutdown is tests/integration/test_vllm.py."""

from __future__ import annotations

import subprocess
import sys

from tuneforge.serve.server import Launch, Server, live_members, wait_group_exit

# A parent that waits on a child which ignores SIGTERM; the parent itself exits on SIGTERM.
STUBBORN_CHILD = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"


def test_stop_ends_children_that_ignore_sigterm(monkeypatch):
    monkeypatch.setattr("tuneforge.serve.server.STOP_GRACE_SECONDS", 2.0)
    launch = Launch(argv=["sh", "-c", f"{sys.executable} -c '{STUBBORN_CHILD}' & wait"], host="127.0.0.1",
                    port=1, api_key=None, model_name="x", backend="llamacpp")
    server = Server(launch)
    server.process = subprocess.Popen(launch.argv, start_new_session=True)  # started without the health wait
    group = server.process.pid
    assert wait_group_exit(group, 1.5) is False and len(live_members(group)) == 2  # shell + child
    server.stop()
    assert server.process.returncode is not None
    assert live_members(group) == []
