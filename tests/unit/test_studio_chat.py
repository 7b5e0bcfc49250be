"""The studio's Chat screen without a model: which exported runs it offers and how, and every request it
refuses (paths outside the runs folder, unknown servers, bad bodies). A `tuneforge serve` that fails is
started for real (it exits before loading anything). Real servers, replies and labels:
tests/integration/test_studio_chat_server.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from studio_client import TOKEN, anonymous_client, make_studio, studio_client

from tuneforge.export.pipeline import ArtifactBook, write_manifest
from tuneforge.files import write_json_atomic, write_text_atomic
from tuneforge.process import live_members
from tuneforge.recipe.loading import load_recipe, recipe_to_yaml
from tuneforge.run_folder import RunFolder
from tuneforge.runs import MANIFEST, RESOLVED_RECIPE
from tuneforge.studio.chat import stop_all_servers
from tuneforge.studio.security import TOKEN_ENV

QUICKSTART = "quickstart/20260101-000000"
SENTIMENT = "sentiment/20260101-000000"


def exported_run(runs: Path, run: str, artifacts: dict[str, str]) -> Path:
    """A complete run of a shipped recipe with a finished export of (fake) files, written by the export
    pipeline's own book-keeping: artifact key -> file name."""
    recipe, _ = load_recipe(run.split("/")[0])
    folder = runs / run
    write_text_atomic(folder / RESOLVED_RECIPE, recipe_to_yaml(recipe))
    write_json_atomic(folder / MANIFEST, {"status": "complete", "recipe": recipe.name})
    (folder / "export").mkdir()
    book = ArtifactBook(folder / "export", {"adapter_sha256": "x"})
    for key, name in artifacts.items():
        path = folder / "export" / name
        book.make(key, path, lambda path=path: path.write_bytes(b"GGUF fake"))
    write_manifest(book, RunFolder(folder), None)
    return folder


@pytest.fixture
def studio(tmp_path):
    studio = make_studio(tmp_path)
    exported_run(
        studio.runs_dir,
        QUICKSTART,
        {"q8_0": "qs.Q8_0.gguf", "f16": "qs.F16.gguf", "base-f16": "base.F16.gguf", "lora-gguf": "qs.LORA.gguf"},
    )
    exported_run(studio.runs_dir, SENTIMENT, {"q4_k_m": "s.Q4_K_M.gguf"})
    yield studio
    stop_all_servers(studio)


@pytest.fixture
def client(tmp_path, studio):
    return studio_client(tmp_path, studio)


def test_the_page_offers_each_exported_run_s_artifacts(client):
    page = client.get("/chat")
    assert page.status_code == 200
    for artifact in ("q8_0", "f16", "adapter"):
        assert f'data-run="{QUICKSTART}" data-backend="llamacpp" data-artifact="{artifact}"' in page.text
    assert f'data-run="{SENTIMENT}" data-backend="llamacpp" data-artifact="q4_k_m"' in page.text
    assert "base and tuned from one server" in page.text  # the adapter pair serves both
    assert 'data-artifact="base-f16"' not in page.text and 'data-artifact="lora-gguf"' not in page.text
    assert 'id="classify-form"' in page.text and f'<option value="{SENTIMENT}">' in page.text
    assert f'<option value="{QUICKSTART}">' not in page.text  # not a classification run
    assert '<script src="/static/chat.js" defer></script>' in page.text
    assert client.get("/static/chat.js").status_code == 200


def test_an_export_changed_since_it_was_made_is_shown_with_its_problem_and_not_offered(client, studio):
    recipe = studio.runs_dir / SENTIMENT / "export" / RESOLVED_RECIPE
    recipe.write_text(recipe.read_text() + "\n# edited\n")
    page = client.get("/chat")
    assert "missing or changed since export" in page.text
    assert f'data-run="{SENTIMENT}"' not in page.text and f'data-run="{QUICKSTART}"' in page.text


def test_without_exports_the_page_says_how_to_make_one(tmp_path):
    page = studio_client(tmp_path).get("/chat")
    assert page.status_code == 200 and "No exported runs yet" in page.text


@pytest.mark.parametrize(
    "run", ["../quickstart", "quickstart/../../x", "/etc/passwd", "quickstart", ".studio/x", "a/b/c"]
)
def test_a_run_outside_the_runs_folder_or_not_a_run_is_not_found(client, run):
    for path, body in (
        ("/api/chat/servers", {"run": run, "artifact": "q8_0"}),
        ("/api/chat/classify", {"run": run, "text": "hi"}),
    ):
        answer = client.post(path, json=body)
        assert answer.status_code == 404, (path, run, answer.text)
        assert answer.json()["error"] == "no such run, recipe or file here"


def test_a_run_without_an_export_is_refused_with_the_cli_s_message(client, studio):
    (studio.runs_dir / "quickstart" / "20260202-000000").mkdir()
    answer = client.post("/api/chat/servers", json={"run": "quickstart/20260202-000000", "artifact": "q8_0"})
    assert answer.status_code == 400
    assert "no finished export" in answer.json()["error"] and "tuneforge export" in answer.json()["fix"]


def test_an_artifact_the_export_does_not_have_is_refused_naming_those_it_has(client):
    answer = client.post("/api/chat/servers", json={"run": QUICKSTART, "artifact": "q4_k_m", "backend": "llamacpp"})
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "this export cannot be served as llamacpp:q4_k_m"
    assert body["problems"] == ["it offers: llamacpp:f16, llamacpp:q8_0, llamacpp:adapter"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"run": "quickstart/20260101-000000"}',
        b'{"run": "quickstart/20260101-000000", "artifact": "q8_0", "backend": "ollama"}',
        b'{"run": "quickstart/20260101-000000", "artifact": "q8_0", "port": 80}',
    ],
)
def test_a_malformed_start_request_is_refused_with_what_is_wrong(client, body):
    answer = client.post("/api/chat/servers", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["detail"] and all(problem["msg"] for problem in answer.json()["detail"])


@pytest.mark.parametrize(
    "body",
    [
        {"messages": []},
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0},
        {"messages": [{"role": "user", "content": "hi"}], "temperature": -1},
        {"messages": [{"role": "tool", "content": "hi"}]},
        {"messages": [{"role": "user", "content": "hi"}], "voice": "other"},
        {"messages": "hi"},
    ],
)
def test_a_malformed_chat_request_is_refused(client, body):
    assert client.post("/api/chat/servers/nosuch/chat", json=body).status_code == 422


def test_an_unknown_server_is_not_found(client):
    good = {"messages": [{"role": "user", "content": "hi"}]}
    for method, path, body in (
        ("get", "/api/chat/servers/nosuch", None),
        ("post", "/api/chat/servers/nosuch/stop", {}),
        ("post", "/api/chat/servers/nosuch/chat", good),
    ):
        answer = getattr(client, method)(path, **({"json": body} if body is not None else {}))
        assert answer.status_code == 404 and "no chat server 'nosuch'" in answer.json()["error"]
    assert client.get("/api/chat/servers").json() == {"servers": []}


def test_classifying_with_a_run_that_is_not_a_classification_run_is_refused(client):
    answer = client.post("/api/chat/classify", json={"run": QUICKSTART, "text": "lovely"})
    assert answer.status_code == 400 and "not a run of a classification recipe" in answer.json()["error"]
    assert client.post("/api/chat/classify", json={"run": SENTIMENT, "text": ""}).status_code == 422


def test_requests_need_the_token_and_changes_need_the_studio_s_origin(tmp_path, studio):
    stranger = anonymous_client(tmp_path, studio)
    assert stranger.get("/api/chat/servers").status_code == 401
    assert stranger.post("/api/chat/servers", json={"run": QUICKSTART, "artifact": "q8_0"}).status_code == 401
    other_site = anonymous_client(tmp_path, studio)
    other_site.cookies.set("tuneforge_studio", TOKEN)
    answer = other_site.post(
        "/api/chat/servers", json={"run": QUICKSTART, "artifact": "q8_0"}, headers={"origin": "http://evil.example"}
    )
    assert answer.status_code == 403 and studio.servers == {}


def wait_state(client, server_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while (server := client.get(f"/api/chat/servers/{server_id}").json())["state"] == "starting":
        assert time.monotonic() < deadline, server
        time.sleep(0.2)
    return server


def test_a_server_that_cannot_start_is_failed_with_its_log_tail_and_leaves_nothing(client, studio, monkeypatch):
    """serve checks the GGUF's sha256 before it launches anything: a changed file makes it exit 2."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    (studio.runs_dir / QUICKSTART / "export" / "qs.Q8_0.gguf").write_bytes(b"changed")
    started = client.post("/api/chat/servers", json={"run": QUICKSTART, "artifact": "q8_0"}).json()
    assert started["state"] == "starting" and started["port"] > 0
    process = studio.servers[started["id"]].process
    assert process.args[2:5] == ["tuneforge", "serve", str(studio.runs_dir / QUICKSTART)]
    assert process.args[5:9] == ["--backend", "llamacpp", "--quant", "q8_0"]
    assert ["--port", str(started["port"])] == process.args[11:13]
    assert TOKEN not in " ".join(process.args)
    server = wait_state(client, started["id"])
    assert server["state"] == "failed" and "exited with code 2 before it was ready" in server["problem"]
    assert "qs.Q8_0.gguf: missing or changed since export" in server["log_tail"]
    listed = client.get("/api/chat/servers").json()["servers"]
    assert [(s["id"], s["state"]) for s in listed] == [(started["id"], "failed")]
    log = studio.runs_dir / ".studio" / "servers" / f"{started['id']}.log"
    assert "missing or changed since export" in log.read_text()
    dismissed = client.post(f"/api/chat/servers/{started['id']}/stop").json()
    assert dismissed["state"] == "stopped" and live_members(process.pid) == [] and process.returncode == 2
    assert client.get("/api/chat/servers").json() == {"servers": []}


def test_stop_all_servers_with_none_running_stops_nothing(studio):
    assert stop_all_servers(studio) == []


def test_a_second_start_of_the_same_artifact_joins_the_first_until_it_failed(client, studio):
    (studio.runs_dir / QUICKSTART / "export" / "qs.F16.gguf").write_bytes(b"changed")
    first = client.post("/api/chat/servers", json={"run": QUICKSTART, "artifact": "f16"}).json()
    assert client.post("/api/chat/servers", json={"run": QUICKSTART, "artifact": "f16"}).json()["id"] == first["id"]
    assert "api_key" not in first and studio.servers[first["id"]].api_key not in json.dumps(first)
    assert wait_state(client, first["id"])["state"] == "failed"
    again = client.post("/api/chat/servers", json={"run": QUICKSTART, "artifact": "f16"}).json()
    assert again["id"] != first["id"] and len(client.get("/api/chat/servers").json()["servers"]) == 2
    assert sorted(stop_all_servers(studio)) == sorted([first["id"], again["id"]]) and studio.servers == {}
