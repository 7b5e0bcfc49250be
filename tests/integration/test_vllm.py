"""The vLLM backend for real: the embedded model's vLLM bundle served from .venv-vllm (built by
`make vllm-env`, which `make test` runs first) and driven by the official `openai` client."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.vllm]
KEY = "vllm-test-key"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def vllm_server(embedded_export, tmp_path_factory):
    from tuneforge.errors import UserError
    from tuneforge.serve.exports import find_export
    from tuneforge.serve.server import Server, plan_launch
    from tuneforge.serve.vllm import vllm_python

    try:
        vllm_python()
    except UserError as missing:
        pytest.skip(f"{missing.title}; `make test` builds it with `make vllm-env`")
    export = find_export(str(embedded_export), Path("runs"))
    launch = plan_launch(export, "vllm", port=0, api_key=KEY)
    with Server(launch, log_path=tmp_path_factory.mktemp("vllm") / "server.log") as running:
        yield running


def client(server, key=KEY):
    import openai

    return openai.OpenAI(base_url=server.launch.base_url, api_key=key, max_retries=0, timeout=600)


def test_vllm_answers_with_the_bundle_chat_template(vllm_server):
    reply = client(vllm_server).chat.completions.create(model="quickstart", messages=QUESTION, temperature=0, max_tokens=40)
    assert "Paris" in reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
    assert vllm_server.launch.host == "127.0.0.1" and "--gpu-memory-utilization" in vllm_server.launch.argv


def test_vllm_streams(vllm_server):
    chunks = [c.choices[0].delta.content or "" for c in client(vllm_server).chat.completions.create(
        model="quickstart", messages=QUESTION, temperature=0, max_tokens=40, stream=True) if c.choices]
    assert len([c for c in chunks if c]) > 3 and "Paris" in "".join(chunks)


def test_vllm_refuses_requests_without_the_key(vllm_server):
    import openai

    with pytest.raises(openai.AuthenticationError):
        client(vllm_server, key="wrong").chat.completions.create(model="quickstart", messages=QUESTION, max_tokens=4)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{vllm_server.launch.base_url}/models", timeout=10)
    assert refused.value.code == 401


def test_vllm_stops_cleanly(vllm_server):
    vllm_server.stop()
    assert vllm_server.process.returncode is not None
    from tuneforge.serve.server import check_port

    assert check_port("127.0.0.1", vllm_server.launch.port) == vllm_server.launch.port  # the port is free again
