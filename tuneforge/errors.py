"""User-facing errors: one message listing every problem, exit code 2, no traceback."""

from __future__ import annotations

import signal

EXIT_USER_ERROR = 2


class StopRequested(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is, so that every `except KeyboardInterrupt` and
    `finally` that makes Ctrl-C safe (checkpoint, no half-written output, servers stopped) also
    runs for a supervisor's stop (systemd, docker stop, Kubernetes)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


class UserError(Exception):
    """A mistake the user can fix (bad recipe, bad data, missing file or backend).

    `problems` holds one line per problem, each naming the key, file:line or package,
    and `fix` says what to do about it. The CLI prints them and exits 2.
    """

    def __init__(self, title: str, problems: list[str] | None = None, fix: str | None = None):
        self.title = title
        self.problems = list(problems or [])
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        lines = [self.title]
        lines += [f"  - {problem}" for problem in self.problems]
        if self.fix:
            lines.append(f"Fix: {self.fix}")
        return "\n".join(lines)


class ProblemCollector:
    """Collects problems so that all of them are reported together, not one per run."""

    def __init__(self, title: str):
        self.title = title
        self.problems: list[str] = []

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def raise_if_any(self, fix: str | None = None) -> None:
        if self.problems:
            raise UserError(f"{self.title} ({len(self.problems)} problem(s)):", self.problems, fix)
