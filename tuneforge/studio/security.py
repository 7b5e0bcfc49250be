"""Who may use the studio and what a request may touch.

The studio is reached with a token, as Jupyter is: the printed URL carries `?token=`, which is exchanged for
an HttpOnly cookie and removed from the address bar. Scripts send `Authorization: Bearer TOKEN`. Requests
that change state must come from the studio's own pages (the Origin check below), and every path a request
names is resolved inside the folder it may touch.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from tuneforge.errors import UserError

TOKEN_ENV = "TUNEFORGE_STUDIO_TOKEN"
COOKIE = "tuneforge_studio"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class PathRefused(Exception):
    """A request named a path outside the folders it may touch (answered 404, naming nothing of the disk)."""


def studio_token() -> tuple[str, bool]:
    """The access token and whether it came from the environment (else it is new for this start)."""
    given = os.environ.get(TOKEN_ENV, "").strip()
    return (given, True) if given else (secrets.token_urlsafe(24), False)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token_from_env: bool) -> None:
    """Refuses to listen beyond this machine with a token nobody chose (it would be printed to a terminal
    only, and a generated one is easy to leave behind in scrollback on a shared machine)."""
    if not is_loopback(host) and not token_from_env:
        raise UserError(
            f"--host {host} would open the studio to other machines without a token you chose",
            fix=f"set {TOKEN_ENV} to a long secret first (or keep the default --host 127.0.0.1)",
        )


def token_matches(given: str | None, token: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def same_origin(origin: str | None, referer: str | None, host: str | None) -> bool:
    """True when a state-changing request came from one of the studio's own pages: its Origin (or, where a
    browser sends none, its Referer) names the host and port the request was sent to."""
    source = origin or referer
    if not source or not host or source == "null":
        return False
    return urlsplit(source).netloc == host


def inside(root: Path, *parts: str) -> Path:
    """`root/parts...` when it stays inside root once resolved (no `..`, no absolute part, no symlink that
    leads out); raises PathRefused otherwise."""
    base = root.resolve()
    for part in parts:
        if not part or part in {".", ".."} or "/" in part or "\\" in part or "\x00" in part:
            raise PathRefused(part)
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise PathRefused("/".join(parts))
    return target


def inside_relative(root: Path, relative: str) -> Path:
    """A relative path such as `eval/translation.png` inside root (each part checked as in `inside`)."""
    if not relative or relative.startswith(("/", "\\")):
        raise PathRefused(relative)
    return inside(root, *relative.split("/"))
