"""The studio's web app: FastAPI with server-rendered pages, a JSON API under /api, one token for both."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from tuneforge.builtins import register_builtins
from tuneforge.errors import UserError
from tuneforge.studio import actions, chat, data_view, recipes_view, runs_view
from tuneforge.studio.context import Studio
from tuneforge.studio.pages import page
from tuneforge.studio.security import (
    COOKIE,
    SAFE_METHODS,
    PathRefused,
    bearer,
    same_origin,
    token_matches,
)

STATIC = "/static"


def create_app(studio: Studio) -> FastAPI:
    register_builtins()
    app = FastAPI(title="tuneforge studio", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.studio = studio
    app.add_middleware(BaseHTTPMiddleware, dispatch=guard)
    app.mount(STATIC, StaticFiles(packages=[("tuneforge.studio", "static")]), name="static")
    for module in (runs_view, recipes_view, data_view, actions, chat):
        app.include_router(module.router)
    app.add_exception_handler(UserError, user_error)
    app.add_exception_handler(PathRefused, path_refused)
    app.add_exception_handler(StarletteHTTPException, http_error)
    return app


async def guard(request: Request, call_next) -> Response:
    """The token (from `?token=`, the cookie or a Bearer header) for every request but static files, and
    the same origin for every request that changes state."""
    token = request.app.state.studio.token
    if request.url.path.startswith(STATIC + "/"):
        return await call_next(request)
    given = request.query_params.get("token")
    if given is not None and request.method in SAFE_METHODS:
        return exchanged_for_cookie(request, token_matches(given, token), token)
    from_script = token_matches(bearer(request.headers.get("authorization")), token)
    if not (from_script or token_matches(request.cookies.get(COOKIE), token)):
        return refused(
            request, 401, "open the studio with the URL that `tuneforge studio` printed (it carries the token)"
        )
    origin, referer, host = (request.headers.get(name) for name in ("origin", "referer", "host"))
    if request.method not in SAFE_METHODS and not from_script and not same_origin(origin, referer, host):
        return refused(request, 403, "a request that changes something must come from the studio's own pages")
    return await call_next(request)


def exchanged_for_cookie(request: Request, valid: bool, token: str) -> Response:
    """The same URL without the token, with the token in an HttpOnly cookie (kept off history and logs)."""
    if not valid:
        return refused(request, 401, "that token is not this studio's; use the URL it printed")
    query = urlencode([(key, value) for key, value in request.query_params.multi_items() if key != "token"])
    response = RedirectResponse(request.url.path + (f"?{query}" if query else ""), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def refused(request: Request, status: int, message: str, fix: str | None = None) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message, "fix": fix}, status_code=status)
    return page(request, "error.html", status_code=status, title=message, problems=[], fix=fix)


async def user_error(request: Request, error: UserError) -> Response:
    """The CLI's own message (title, problems, fix): never a traceback."""
    if wants_json(request):
        return JSONResponse({"error": error.title, "problems": error.problems, "fix": error.fix}, status_code=400)
    return page(request, "error.html", status_code=400, title=error.title, problems=error.problems, fix=error.fix)


async def path_refused(request: Request, error: PathRefused) -> Response:
    return refused(request, 404, "no such run, recipe or file here")


async def http_error(request: Request, error: StarletteHTTPException) -> Response:
    """Unknown pages and refused requests in the studio's own shape (the page, or {"error": ...})."""
    return refused(request, error.status_code, str(error.detail))
