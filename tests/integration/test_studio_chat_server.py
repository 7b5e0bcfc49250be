"""The studio's Chat screen for real: a llama.cpp server started through the studio on the exported
quickstart run (the session's embedded_export, nothing trained again), a reply streamed through the studio
with its finish reason, the server listed and stopped with its whole process group; stop_all_servers, as
the studio runs it when it stops; and a classification run's labels through the studio, as `tuneforge
predict` gives them. The refusals: tests/unit/test_studio_chat.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from studio_client import TOKEN, studio_client

from helpers import CLASSIFICATION_LABELS as LABELS
from helpers import classification_recipe, write_jsonl
from serving import CAPITAL
from tuneforge.cli import main
from tuneforge.process import live_members, running_processes, start_ticks
from tuneforge.recipe.loading import load_recipe
from tuneforge.serve.server import check_port
from tuneforge.studio.chat import stop_all_servers
from tuneforge.studio.context import Studio
from tuneforge.studio.security import TOKEN_ENV

pytestmark = pytest.mark.integration
REVIEWS = Path(__file__).resolve().parents[2] / "recipes" / "sentiment" / "data" / "reviews.jsonl"


def run_name(run_dir: Path) -> str:
    return f"{run_dir.parent.name}/{run_dir.name}"


@pytest.fixture(scope="module")
def studio(embedded_export, tmp_path_factory):
    studio = Studio(embedded_export.parents[2], tmp_path_factory.mktemp("my-recipes"), TOKEN)
    yield studio
    stop_all_servers(studio)


def wait_ready(client, server_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while (server := client.get(f"/api/chat/servers/{server_id}").json())["state"] == "starting":
        assert time.monotonic() < deadline, server
        time.sleep(0.3)
    assert server["state"] == "ready", server
    return server


def streamed(client, server_id: str, **body) -> list[dict]:
    """The events of one reply, read as the page reads them: `data: {...}` lines as they arrive."""
    with client.stream("POST", f"/api/chat/servers/{server_id}/chat", json=body) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        return [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]


def descendants(pid: int) -> list[int]:
    table = running_processes()
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid, _ in table if ppid == parent]
        found += children
        frontier += children
    return found


def process_text(pid: int, name: str) -> bytes:
    return Path(f"/proc/{pid}/{name}").read_bytes()


def test_a_llama_cpp_server_is_started_chatted_with_listed_and_stopped(studio, embedded_export, tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)  # as `tuneforge studio` may hold it: no child may see it
    client = studio_client(tmp_path, studio)
    run = run_name(embedded_export.parent)
    assert f'data-run="{run}" data-backend="llamacpp" data-artifact="q8_0"' in client.get("/chat").text
    started = client.post("/api/chat/servers", json={"run": run, "artifact": "q8_0", "backend": "llamacpp"})
    assert started.status_code == 200, started.text
    server = wait_ready(client, started.json()["id"])
    assert server["voices"] == ["tuned"] and server["model"] == "quickstart"
    listed = [
        (s["id"], s["run"], s["artifact"], s["backend"], s["port"], s["state"])
        for s in client.get("/api/chat/servers").json()["servers"]
    ]
    assert listed == [(server["id"], run, "q8_0", "llamacpp", server["port"], "ready")]

    chat_server = studio.servers[server["id"]]
    group, processes = chat_server.process.pid, [chat_server.process.pid, *descendants(chat_server.process.pid)]
    assert len(processes) >= 2 and chat_server.backend_pids  # serve and its llama.cpp server
    for pid in processes:
        for secret in (TOKEN.encode(), chat_server.api_key.encode()):
            assert secret not in process_text(pid, "cmdline")
        assert TOKEN.encode() not in process_text(pid, "environ")

    reply = streamed(
        client, server["id"], messages=[{"role": "user", "content": CAPITAL}], max_tokens=48, temperature=0
    )
    assert reply[0]["type"] == "start" and reply[-1]["type"] == "end", reply
    text = "".join(event["text"] for event in reply if event["type"] == "token")
    assert text.strip() and reply[-1]["finish_reason"] in ("stop", "length") and reply[-1]["first_token_seconds"] > 0
    cut = streamed(client, server["id"], messages=[{"role": "user", "content": CAPITAL}], max_tokens=2, temperature=0)
    assert cut[-1]["finish_reason"] == "length" and cut[-1]["ended"] == "hit max_tokens"
    assert 1 <= sum(event["type"] == "token" for event in cut) <= 2

    stopped = client.post(f"/api/chat/servers/{server['id']}/stop")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    assert live_members(group) == [] and [pid for pid in processes if start_ticks(pid) is not None] == []
    assert check_port("127.0.0.1", server["port"]) == server["port"]  # nothing listens there any more
    assert client.get("/api/chat/servers").json() == {"servers": []}
    gone = client.post(f"/api/chat/servers/{server['id']}/chat", json={"messages": [{"role": "user", "content": "hi"}]})
    assert gone.status_code == 404


def test_stop_all_servers_leaves_no_process_behind(studio, embedded_export, tmp_path):
    """As when the studio stops: one server ready, one still starting; every process of both ends."""
    client = studio_client(tmp_path, studio)
    run = run_name(embedded_export.parent)
    ready = client.post("/api/chat/servers", json={"run": run, "artifact": "q8_0"}).json()
    wait_ready(client, ready["id"])
    starting = client.post("/api/chat/servers", json={"run": run, "artifact": "f16"}).json()
    assert starting["state"] == "starting"
    pids = [pid for server in studio.servers.values() for pid in [server.process.pid, *descendants(server.process.pid)]]
    assert sorted(stop_all_servers(studio)) == sorted([ready["id"], starting["id"]])
    assert studio.servers == {} and [pid for pid in pids if start_ticks(pid) is not None] == []


@pytest.fixture(scope="module")
def classification_run(tiny_llama_dir, tmp_path_factory) -> Path:
    from tuneforge.train.finetune import train_recipe

    tmp = tmp_path_factory.mktemp("studio-sentiment")
    records = [json.loads(line) for line in REVIEWS.read_text(encoding="utf-8").splitlines()[:60]]
    recipe, source = load_recipe(classification_recipe(tmp, str(tiny_llama_dir), records))
    return train_recipe(recipe, source, tmp / "runs", resume="none")


def test_a_classification_run_s_label_and_probabilities_are_those_predict_gives(classification_run, tmp_path):
    studio = Studio(classification_run.parents[1], tmp_path / "my-recipes", TOKEN)
    client = studio_client(tmp_path, studio)
    text = "The room was spotless and the staff were lovely."
    answer = client.post("/api/chat/classify", json={"run": run_name(classification_run), "text": text})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert set(result["probabilities"]) == set(LABELS) and result["label"] in LABELS
    assert abs(sum(result["probabilities"].values()) - 1) < 1e-4
    inputs, outputs = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": text}]), tmp_path / "out.jsonl"
    predicted = CliRunner().invoke(
        main, ["predict", str(classification_run), "--input", str(inputs), "--output", str(outputs)]
    )
    assert predicted.exit_code == 0, predicted.output
    (expected,) = [json.loads(line) for line in outputs.read_text().splitlines()]
    assert (result["label"], result["probabilities"]) == (expected["label"], expected["probabilities"])
