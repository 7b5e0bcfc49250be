"""The vLLM backend for real: the embedded model's vLLM bundle served from .venv-vllm (built by
`make vllm-env`, which `make test` runs first) and driven by the official `openai` client.

On 2 CPU cores each server starts in about 35-75 s (eager mode on a CPU, see serve/vllm.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from serving import QUESTION, check_withstands_hostile_clients, children_of, cmdline, wait_gone
from tuneforge.errors import UserError

pytestmark = [pytest.mark.integration, pytest.mark.vllm]
KEY = "vllm-test-key"


@pytest.fixture(scope="module")
def export(embedded_export):
    from tuneforge.serve.exports import find_export
    from tuneforge.serve.vllm import vllm_python

    try:
        vllm_python()
    except UserError as missing:
        pytest.skip(f"{missing.title}; `make test` builds it with `make vllm-env`")
    return find_export(str(embedded_export), Path("runs"))


def start(export, tmp_path_factory, adapter: bool):
    from tuneforge.serve.server import Server, plan_launch

    launch = plan_launch(export, "vllm", adapter=adapter, port=0, api_key=KEY)
    return Server(launch, log_path=tmp_path_factory.mktemp("vllm") / "server.log")


@pytest.fixture(scope="module")
def vllm_server(export, tmp_path_factory):
    with start(export, tmp_path_factory, adapter=False) as running:
        yield running


def client(server, key=KEY):
    import openai

    return openai.OpenAI(base_url=server.launch.base_url, api_key=key, max_retries=0, timeout=600)


def test_vllm_answers_with_the_bundle_chat_template(vllm_server):
    reply = client(vllm_server).chat.completions.create(
        model="quickstart", messages=QUESTION, temperature=0, max_tokens=40
    )
    assert "Paris" in reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"  # stopped at <|im_end|>: the bundle's template is used
    assert vllm_server.launch.host == "127.0.0.1" and "--enforce-eager" in vllm_server.launch.argv


def test_vllm_streams(vllm_server):
    chunks = [
        c.choices[0].delta.content or ""
        for c in client(vllm_server).chat.completions.create(
            model="quickstart", messages=QUESTION, temperature=0, max_tokens=40, stream=True
        )
        if c.choices
    ]
    assert len([c for c in chunks if c]) > 3 and "Paris" in "".join(chunks)


def test_vllm_refuses_requests_without_the_key(vllm_server):
    import openai

    with pytest.raises(openai.AuthenticationError):
        client(vllm_server, key="wrong").chat.completions.create(model="quickstart", messages=QUESTION, max_tokens=4)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{vllm_server.launch.base_url}/models", timeout=10)
    assert refused.value.code == 401


def test_vllm_withstands_hostile_clients(vllm_server, export):
    check_withstands_hostile_clients(
        vllm_server.launch.base_url, KEY, "quickstart", export.recipe.serve.n_ctx, "vllm:num_requests_running"
    )


def test_vllm_key_is_in_no_command_line(vllm_server):
    from tuneforge.process import live_members

    members = live_members(vllm_server.process.pid)
    assert len(members) >= 2  # the API server and its engine core
    assert all(KEY not in cmdline(pid) for pid in members) and vllm_server.launch.env["VLLM_API_KEY"] == KEY


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_tuneforge_serve_vllm_leaves_no_process_behind(export, stop):
    """SIGTERM: tuneforge stops the group. SIGKILL: the kernel tells the API server (PDEATHSIG),
    which stops its engine as on any SIGTERM."""
    from tuneforge.process import live_members
    from tuneforge.serve.server import check_port

    port = check_port("127.0.0.1", 0)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "tuneforge"),
            "serve",
            str(export.folder),
            "--backend",
            "vllm",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "TUNEFORGE_API_KEY": KEY},
    )
    assert process.stdout.readline().startswith("serving quickstart (vllm, vllm)")
    (child,) = children_of(process.pid)
    members = live_members(child)
    process.send_signal(stop)
    assert process.wait(timeout=120) == (-signal.SIGKILL if stop == signal.SIGKILL else 0)
    assert wait_gone(members, timeout=60) == [], "a vLLM process outlived tuneforge serve"
    assert check_port("127.0.0.1", port) == port


def test_vllm_stops_cleanly(vllm_server):
    vllm_server.stop()
    assert vllm_server.process.returncode is not None
    assert group_gone(vllm_server.process.pid), "vLLM's engine or worker process outlived the server"
    with pytest.raises(ConnectionRefusedError):  # nothing listens any more
        socket.create_connection(("127.0.0.1", vllm_server.launch.port), timeout=5).close()


def group_gone(pgid: int) -> bool:
    """vLLM's engine and worker processes are in the server's process group; stop() waits for them."""
    from tuneforge.process import live_members

    return not live_members(pgid)


def test_vllm_serves_the_adapter_under_the_recipe_name(export, tmp_path_factory):
    """The base + adapter variant: the recipe's name means the adapter, '<name>-base' the bare base."""
    with start(export, tmp_path_factory, adapter=True) as server:
        served = {model.id for model in client(server).models.list().data}
        reply = client(server).chat.completions.create(
            model="quickstart", messages=QUESTION, temperature=0, max_tokens=40
        )
    assert served == {"quickstart", "quickstart-base"}
    assert "Paris" in reply.choices[0].message.content
    assert server.process.returncode is not None and group_gone(server.process.pid)


def test_vllm_variant_and_environment_mistakes_are_user_errors(export, tmp_path, monkeypatch):
    from tuneforge.serve.vllm import vllm_command, vllm_python

    bundle = export.folder / export.artifacts["vllm"]["file"]
    with pytest.raises(UserError, match="variant 'adapter'"):
        vllm_command(bundle, variant="adapter", host="127.0.0.1", port=8000)
    with pytest.raises(UserError, match="no launch.json"):
        vllm_command(tmp_path, host="127.0.0.1", port=8000)
    scaled = vllm_command(bundle, host="127.0.0.1", port=8000, tensor_parallel_size=2, data_parallel_size=3)
    assert scaled[scaled.index("--tensor-parallel-size") + 1] == "2"
    assert scaled[scaled.index("--data-parallel-size") + 1] == "3"
    monkeypatch.setenv("TUNEFORGE_VLLM_VENV", str(tmp_path / "nowhere"))
    with pytest.raises(UserError) as missing:
        vllm_python()
    assert "make vllm-env" in missing.value.fix


def test_eval_artifact_vllm_measures_the_recipes_metric_next_to_the_adapter(export):
    """`tuneforge eval RUN --artifact adapter,vllm`: the quickstart's persona share, served by vLLM."""
    from click.testing import CliRunner

    from tuneforge.cli import main

    run_dir = export.folder.parent
    result = CliRunner().invoke(main, ["eval", str(run_dir), "--artifact", "adapter,vllm"])
    assert result.exit_code == 0, result.output
    results = {name: (run_dir / "eval" / "artifacts" / f"{name}.json") for name in ("adapter", "vllm")}
    adapter, served = (json.loads(path.read_text())["tasks"]["persona"] for path in results.values())
    assert served["metric"] == "persona_share" and 0 <= served["value"] <= 1
    assert served["samples"] == adapter["samples"] and set(served["conditions"]) == set(adapter["conditions"])
    # Greedy replies of float16 (vLLM) and float32 weights may part at a near-tie token; each such
    # reply moves the share by 1/samples, and no more than a quarter of them part within 6 tokens here.
    assert abs(served["value"] - adapter["value"]) <= 0.25
    assert "| vllm | persona_share" in (run_dir / "eval" / "artifacts" / "report.md").read_text()


def test_vllm_label_and_prompt_logprobs_match_the_model_in_process(export, tmp_path):
    """The two scoring paths a served artifact's metric uses: first-token label probabilities (chat
    top_logprobs) and teacher-forced reply log-probabilities (completions with echo)."""
    from tuneforge.eval.answerers import InProcessAnswerer
    from tuneforge.evaluate.artifact import open_answerer, parse_artifact
    from tuneforge.run_folder import RunFolder

    run = RunFolder(export.folder.parent)
    asked = [{"role": "user", "content": "What is the capital of France? Answer with one word."}]
    replies = [[*asked, {"role": "assistant", "content": text}] for text in ("Paris.", "The capital is Paris.")]
    with open_answerer(run, parse_artifact("vllm"), export, tmp_path) as served:
        served_labels = served.label_probabilities([asked], ["Paris", "London"])
        served_scores = served.reply_logprobs(replies)
    local = InProcessAnswerer.of_run(run)
    local_labels = local.label_probabilities([asked], ["Paris", "London"])
    assert served_labels[0]["Paris"] > 0.5 and local_labels[0]["Paris"] > 0.5
    assert served_labels[0]["Paris"] == pytest.approx(local_labels[0]["Paris"], abs=0.05)
    for (served_sum, served_tokens), (local_sum, local_tokens) in zip(served_scores, local.reply_logprobs(replies)):
        # float16 against float32 on a 135M model: mean token log-probabilities within 0.1 nat.
        assert served_tokens == local_tokens > 0
        assert served_sum / served_tokens == pytest.approx(local_sum / local_tokens, abs=0.1)
