"""The click groups of `tuneforge`: registered tasks' commands, user errors and stop signals.

A UserError prints one message and exits 2, without a traceback. Ctrl-C, SIGTERM and SIGHUP stop a
command the same way: open-ended commands (serve, chat, predict) exit 0, the others 128 + the signal.
"""

from __future__ import annotations

import signal
import sys
import threading

import click

from tuneforge.builtins import register_builtins
from tuneforge.errors import EXIT_USER_ERROR, StopRequested, UserError
from tuneforge.registry import task_commands

# Commands whose work is open-ended: a stop (Ctrl-C, SIGTERM, SIGHUP) is what ends them, so exit 0.
# predict resumes where it stopped. Others (train, eval, export) exit 128 + the signal: unfinished.
STOP_IS_SUCCESS = {"serve", "chat", "predict"}
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class TaskGroup(click.Group):
    """A group that also holds the registered tasks' commands for it (tuneforge.registry)."""

    def task_commands(self) -> dict:
        return task_commands(None if self.name == "main" else self.name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.task_commands()})

    def get_command(self, ctx: click.Context, name: str):
        return super().get_command(ctx, name) or self.task_commands().get(name)


class FriendlyGroup(TaskGroup):
    """The top-level group: registers the built-in tasks and methods before anything reads the
    registries (click resolves subcommands and prints help before any group callback runs), turns
    UserError into a short message and exit code 2, and SIGTERM/SIGHUP into Ctrl-C."""

    def main(self, *args, **kwargs):
        register_builtins()
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        previous = install_stop_handlers()
        try:
            return super().invoke(ctx)
        except UserError as error:
            click.secho(f"error: {error.render()}", fg="red", err=True)
            sys.exit(EXIT_USER_ERROR)
        except KeyboardInterrupt as stop:
            signum = stop.signum if isinstance(stop, StopRequested) else signal.SIGINT
            requested = ctx.invoked_subcommand in STOP_IS_SUCCESS
            click.echo(f"{'stopped' if requested else 'interrupted'} ({signal.Signals(signum).name})", err=True)
            sys.exit(0 if requested else 128 + signum)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def install_stop_handlers() -> dict:
    """SIGTERM and SIGHUP raise StopRequested once; a repeat while cleaning up is ignored, so the
    cleanup (stopping a server's process group, say) runs to its end."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum, frame):
        for each in STOP_SIGNALS:
            signal.signal(each, signal.SIG_IGN)
        raise StopRequested(signum)

    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    return previous
