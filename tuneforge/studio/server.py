"""Starting and stopping the studio: uvicorn on 127.0.0.1, the URL with its token, and what is left on stop.

On SIGTERM or Ctrl-C the chat servers the studio started stop with it (none is orphaned; each also dies
with the studio by PR_SET_PDEATHSIG), while training, evaluation and export jobs go on: they are the
user's work, and the log says which are still running and how to stop them.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import uvicorn

from tuneforge.errors import UserError
from tuneforge.studio.app import create_app
from tuneforge.studio.chat import stop_all_servers
from tuneforge.studio.context import Studio
from tuneforge.studio.data_view import warm_tokenizer_stack
from tuneforge.studio.security import check_bind, studio_token

log = logging.getLogger(__name__)


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UserError(f"cannot listen on {host}:{port}: {error.strerror}", fix="pick another --port") from None


def studio_url(host: str, port: int, token: str, token_from_env: bool) -> str:
    """The URL to open: with the token when it was generated (as Jupyter prints it); without it when the
    user chose it (it is theirs to type, and it stays out of terminals and logs)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + ("" if token_from_env else f"?token={token}")


def run_studio(runs_dir: Path, recipes_dir: Path, host: str, port: int, announce) -> None:
    """Serve until stopped; `announce(url)` tells the user where (the CLI prints it)."""
    token, from_env = studio_token()
    check_bind(host, from_env)
    check_port_free(host, port)
    runs_dir.mkdir(parents=True, exist_ok=True)
    studio = Studio(runs_dir, recipes_dir, token)
    config = uvicorn.Config(
        create_app(studio),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # the first request carries the token in its URL
        timeout_graceful_shutdown=5,  # a page streaming a chat reply must not hold the stop
    )
    server = uvicorn.Server(config)
    announce(studio_url(host, port, token, from_env))
    threading.Thread(target=warm_tokenizer_stack, name="warm-tokenizers", daemon=True).start()
    try:
        server.run()
    finally:
        report_stop(studio)


def report_stop(studio: Studio) -> None:
    for line in stop_all_servers(studio):
        log.info("stopped chat server: %s", line)
    for job in studio.jobs.running():
        log.info(
            "still running (it goes on without the studio): %s %s, pid %d; stop it with `kill -TERM -%d`",
            job.kind,
            job.run or job.recipe,
            job.pid,
            job.pid,
        )
