"""The studio's guard: the token, its cookie, the same-origin rule for changes, and paths kept inside the
folders a request may touch, through every endpoint that names a path."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from studio_client import TOKEN, anonymous_client, make_studio, studio_client

from tuneforge.errors import UserError
from tuneforge.studio.jobs import child_environment
from tuneforge.studio.security import TOKEN_ENV, PathRefused, check_bind, inside, inside_relative, same_origin


def test_the_token_becomes_an_http_only_cookie_and_leaves_the_address(tmp_path):
    client = anonymous_client(tmp_path)
    response = client.get(f"/runs?token={TOKEN}&x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/runs?x=1"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/runs").status_code == 200  # the cookie is enough from now on


def test_no_token_no_studio(tmp_path):
    client = anonymous_client(tmp_path)
    assert client.get("/runs").status_code == 401
    assert client.get("/api/runs").json()["error"].startswith("open the studio with the URL")
    assert client.get("/runs?token=wrong", follow_redirects=False).status_code == 401
    assert client.get("/api/runs", headers={"authorization": "Bearer wrong"}).status_code == 401


def test_scripts_use_a_bearer_token(tmp_path):
    client = anonymous_client(tmp_path)
    response = client.get("/api/runs", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.json() == {"runs": []}


@pytest.mark.parametrize("origin", [None, "http://evil.example", "null", "http://testserver.evil.example"])
def test_changes_from_another_origin_are_refused(tmp_path, origin):
    client = studio_client(tmp_path)
    headers = {"origin": origin} if origin else {}
    if origin is None:
        client.headers.pop("origin")
    response = client.post("/api/train", json={"recipe": "quickstart"}, headers=headers)
    assert response.status_code == 403
    assert "studio's own pages" in response.json()["error"]


def test_same_origin_reads_the_referer_where_no_origin_is_sent():
    assert same_origin(None, "http://127.0.0.1:7860/runs", "127.0.0.1:7860")
    assert not same_origin(None, "http://127.0.0.1:7861/runs", "127.0.0.1:7860")
    assert not same_origin(None, None, "127.0.0.1:7860")


def test_listening_beyond_loopback_needs_a_chosen_token():
    check_bind("127.0.0.1", token_from_env=False)
    check_bind("::1", token_from_env=False)
    check_bind("0.0.0.0", token_from_env=True)
    with pytest.raises(UserError, match=TOKEN_ENV):
        check_bind("0.0.0.0", token_from_env=False)


def test_a_job_never_sees_the_token(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "secret-token")
    assert TOKEN_ENV not in child_environment()
    assert "secret-token" not in json.dumps(child_environment())


def test_inside_keeps_paths_in_their_folder(tmp_path):
    root = tmp_path / "runs"
    (root / "a").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "leak").symlink_to(tmp_path / "outside")
    assert inside(root, "a") == (root / "a").resolve()
    for parts in [("..",), ("a", ".."), ("/etc",), ("a/../..",), ("leak",), ("",)]:
        with pytest.raises(PathRefused):
            inside(root, *parts)
    with pytest.raises(PathRefused):
        inside_relative(root, "/etc/passwd")
    with pytest.raises(PathRefused):
        inside_relative(root, "a/../../outside")


def a_run(runs: Path, recipe: str = "quickstart", run_id: str = "20261207-000000") -> Path:
    """A run folder as training leaves it when it has just started (a manifest; nothing trained yet)."""
    run_dir = runs / recipe / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(json.dumps({"status": "running", "recipe": recipe}))
    (run_dir / "metrics.jsonl").write_text("")
    return run_dir


# Encoded, so that they reach the server as written (a client resolves a literal `..` itself).
ESCAPES = ["%2e%2e", "..%2f..", "%2fetc", "leak", "..%5c.."]


@pytest.mark.parametrize("escape", ESCAPES)
def test_every_endpoint_that_names_a_path_keeps_it_inside(tmp_path, escape):
    studio = make_studio(tmp_path)
    a_run(studio.runs_dir)
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "manifest.json").write_text("{}")
    (tmp_path / "secret" / "key.txt").write_text("do not show")
    (studio.runs_dir / "leak").symlink_to(tmp_path / "secret")
    (studio.runs_dir / "quickstart" / "20261207-000000" / "leak").symlink_to(tmp_path / "secret")
    client = studio_client(tmp_path, studio)
    run = "quickstart/20261207-000000"
    gets = [
        f"/runs/{escape}/x",
        f"/runs/quickstart/{escape}",
        f"/api/runs/{escape}/20261207-000000/metrics",
        f"/runs/{run}/files/{escape}/key.txt",
        f"/runs/{run}/files/{escape}",
        f"/runs/{run}/samples?x={escape}".replace(run, f"quickstart/{escape}"),
        f"/compare?a={escape}/x&b={run}",
        f"/api/compare?a=quickstart/{escape}&b={run}",
        f"/api/jobs/{escape}",
        f"/recipes/{escape}/train",
    ]
    for url in gets:
        response = client.get(url)
        assert response.status_code in (400, 404, 422), (url, response.status_code)
        assert "do not show" not in response.text
    posts = ["resume", "stop", "eval", "export"]
    for action in posts:
        response = client.post(f"/api/runs/quickstart/{escape}/{action}", json={})
        assert response.status_code in (400, 404, 422), (action, response.status_code)
    response = client.post("/api/train", json={"recipe": escape})
    assert response.status_code in (400, 404, 422)


def test_a_missing_run_is_a_404_naming_nothing_of_the_disk(tmp_path):
    client = studio_client(tmp_path)
    response = client.get("/runs/quickstart/nope")
    assert response.status_code == 404
    assert str(tmp_path) not in response.text


def test_python_is_the_one_running_the_studio_jobs():
    # Jobs run `python -m tuneforge` with this interpreter: the studio's own environment, never a PATH lookup.
    assert os.path.isabs(sys.executable)
