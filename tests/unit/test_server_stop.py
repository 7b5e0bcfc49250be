"""Server.stop() ends the whole process group: vLLM's API server starts engine and worker processes
that must not outlive it (they hold the port, memory and CPU). A shell that starts a child which
ignores SIGTERM stands in for them here: the real vLLM shutdown is tests/integration/test_vllm.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tuneforge.process import live_members, wait_group_exit
from tuneforge.serve.server import Launch, Server

# A parent that waits on a child which ignores SIGTERM; the parent itself exits on SIGTERM.
STUBBORN_CHILD = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"


def test_stop_ends_children_that_ignore_sigterm(monkeypatch):
    monkeypatch.setattr("tuneforge.serve.server.STOP_GRACE_SECONDS", 2.0)
    launch = Launch(
        argv=["sh", "-c", f"{sys.executable} -c '{STUBBORN_CHILD}' & wait"],
        host="127.0.0.1",
        port=1,
        api_key=None,
        model_name="x",
        backend="llamacpp",
    )
    server = Server(launch)
    server.process = subprocess.Popen(launch.argv, start_new_session=True)  # started without the health wait
    group = server.process.pid
    assert wait_group_exit(group, 1.5) is False and len(live_members(group)) == 2  # shell + child
    server.stop()
    assert server.process.returncode is not None
    assert live_members(group) == []


def test_the_port_probe_passes_time_wait_but_not_a_listener():
    """A server that closed connections leaves TIME_WAIT sockets on its port; a restart must not be
    refused for them. The server side closing first is what leaves them there."""
    import socket

    import pytest

    from tuneforge.errors import UserError
    from tuneforge.serve.server import check_port

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    with pytest.raises(UserError, match="cannot listen"):
        check_port("127.0.0.1", port)
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server's side closes first: its socket goes to TIME_WAIT
    client.recv(1)
    client.close()
    listener.close()
    assert " 06 " in tcp_states(port)  # 06 = TIME_WAIT in /proc/net/tcp
    assert check_port("127.0.0.1", port) == port


def tcp_states(port: int) -> str:
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return " ".join(f" {line.split()[3]} " for line in lines if line.split()[1].endswith(f":{port:04X}"))


def test_a_child_started_by_server_dies_when_its_parent_is_killed(tmp_path):
    """PR_SET_PDEATHSIG through preexec_fn (tuneforge.process): the child gets SIGTERM when the process that
    started it dies by SIGKILL (a stand-in parent here; the real servers: tests/integration/test_serve.py)."""
    import os
    import signal
    import time

    pid_file = tmp_path / "child.pid"
    parent = (
        "import subprocess, sys, time, os\n"
        "from tuneforge.process import die_with_parent\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], start_new_session=True,"
        " preexec_fn=die_with_parent(os.getpid()))\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(120)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", parent])
    deadline = time.monotonic() + 60
    while not (pid_file.is_file() and pid_file.read_text()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    child = int(pid_file.read_text())
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    from serving import wait_gone

    assert wait_gone([child], timeout=10) == []


def test_keys_travel_in_the_environment_never_in_argv(tmp_path, monkeypatch):
    from pathlib import Path
    from types import SimpleNamespace

    from tuneforge.serve import server

    recipe = SimpleNamespace(name="demo", serve=SimpleNamespace(n_ctx=1024, parallel=4))
    export = SimpleNamespace(recipe=recipe, folder=tmp_path)
    monkeypatch.setattr(server, "pick_gguf", lambda export, quant: tmp_path / "demo.Q8_0.gguf")
    monkeypatch.setattr(server, "find_native_server", lambda: Path("/opt/llama-server"))
    argv, env, which = server.llamacpp_launch(export, "auto", None, False, "127.0.0.1", 8000, "s3cret")
    assert which == "native" and env["LLAMA_API_KEY"] == "s3cret" and "s3cret" not in argv
    assert argv[argv.index("--ctx-size") + 1] == "4096" and argv[argv.index("--parallel") + 1] == "4"
    argv, env, which = server.llamacpp_launch(export, "python", None, False, "127.0.0.1", 8000, "s3cret")
    assert which == "python" and env["API_KEY"] == "s3cret" and "s3cret" not in argv
    monkeypatch.setattr(server, "find_native_server", lambda: None)
    assert server.llamacpp_launch(export, "auto", None, False, "127.0.0.1", 8000, None)[2] == "python"
    import pytest

    from tuneforge.errors import UserError

    with pytest.raises(UserError, match="llama-server is not built"):
        server.llamacpp_launch(export, "native", None, False, "127.0.0.1", 8000, None)
