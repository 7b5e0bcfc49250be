"""The llama.cpp backend for real: an exported run served on a loopback port, driven by the
official `openai` client; `tuneforge serve` stopped with Ctrl-C; `tuneforge predict` killed and resumed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import write_jsonl

from tuneforge.errors import UserError

pytestmark = pytest.mark.integration
KEY = "test-key"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
TUNEFORGE = [str(Path(sys.executable).parent / "tuneforge")]  # the installed console script


@pytest.fixture(scope="module")
def export(embedded_export):
    from tuneforge.serve.exports import find_export

    return find_export(str(embedded_export.parent), Path("runs"))


@pytest.fixture(scope="module")
def server(export, tmp_path_factory):
    from tuneforge.serve.server import Server, plan_launch

    launch = plan_launch(export, "llamacpp", port=0, api_key=KEY)
    with Server(launch, log_path=tmp_path_factory.mktemp("serve") / "server.log") as running:
        yield running


def client(server, key=KEY):
    import openai

    return openai.OpenAI(base_url=server.launch.base_url, api_key=key, max_retries=0)


def test_serves_a_chat_completion_with_the_gguf_chat_template(server):
    reply = client(server).chat.completions.create(model="quickstart", messages=QUESTION, temperature=0, max_tokens=40)
    assert "Paris" in reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"  # stopped at <|im_end|>, not at max_tokens
    assert "<|im_end|>" not in reply.choices[0].message.content


def test_streaming_gives_the_same_text_in_pieces(server):
    whole = client(server).chat.completions.create(model="quickstart", messages=QUESTION, temperature=0, max_tokens=40)
    chunks = [c.choices[0].delta.content or "" for c in client(server).chat.completions.create(
        model="quickstart", messages=QUESTION, temperature=0, max_tokens=40, stream=True) if c.choices]
    assert len([c for c in chunks if c]) > 3
    assert "".join(chunks) == whole.choices[0].message.content


def test_requests_without_the_key_are_refused(server):
    import openai

    with pytest.raises(openai.AuthenticationError):
        client(server, key="wrong").chat.completions.create(model="quickstart", messages=QUESTION, max_tokens=4)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server.launch.base_url}/models", timeout=10)
    assert refused.value.code == 401
    assert server.launch.host == "127.0.0.1"


def test_a_port_in_use_is_a_clear_error(export):
    from tuneforge.serve.server import plan_launch

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(UserError, match="(?s)cannot listen on 127.0.0.1:.*--port"):
            plan_launch(export, "llamacpp", port=taken.getsockname()[1])


def test_a_changed_gguf_is_refused_before_launch(export, tmp_path):
    from dataclasses import replace

    from tuneforge.serve.server import plan_launch

    entry = export.artifacts["q8_0"]
    tampered = {**export.manifest, "artifacts": {"q8_0": {**entry, "sha256": {entry["file"]: "0" * 64}}}}
    with pytest.raises(UserError, match="changed since export"):
        plan_launch(replace(export, manifest=tampered), "llamacpp", port=0)
    with pytest.raises(UserError, match="(?s)no .q4_k_m. artifact.*--quant q4_k_m"):
        plan_launch(export, "llamacpp", quant="q4_k_m", port=0)


def test_serve_command_prints_the_url_and_stops_on_ctrl_c(embedded_export):
    port = free_port()
    process = subprocess.Popen([*TUNEFORGE, "serve", str(embedded_export), "--port", str(port), "--api-key", KEY],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    banner = process.stdout.readline()
    assert banner.startswith(f"serving quickstart (llamacpp) at http://127.0.0.1:{port}/v1"), banner
    assert "Authorization: Bearer test-key" in process.stdout.readline() + process.stdout.readline()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    with socket.socket() as probe:
        # The server is gone, not orphaned: nothing listens on the port. SO_REUSEADDR lets the bind
        # pass the TIME_WAIT that the server's side of a closed health-check connection leaves behind
        # (Linux still refuses it while a socket listens there).
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()


def test_predict_resumes_after_a_kill_without_losing_or_repeating_answers(server, tmp_path):
    requests = write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"Name {i + 2} colours."} for i in range(10)])
    output = tmp_path / "out.jsonl"
    command = [*TUNEFORGE, "predict", server.launch.base_url, "--input", str(requests), "--output", str(output),
               "--api-key", KEY, "--concurrency", "2", "--max-tokens", "24", "--temperature", "0"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: output.is_file() and output.read_text().count("\n") >= 3, first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    with output.open("a") as handle:
        handle.write('{"id": "q9", "out')  # a line cut off mid-write by the kill
    kept = [json.loads(line)["id"] for line in output.read_text().splitlines()[:-1]]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    summary = json.loads(finished.stdout.strip().splitlines()[-1])
    assert summary["skipped"] == len(kept) and summary["answered"] == 10 - len(kept)
    answers = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(a["id"] for a in answers) == [f"q{i}" for i in range(10)]
    assert [a["id"] for a in answers[:len(kept)]] == kept  # earlier answers kept as they were
    assert all(a["output"] and a["usage"]["completion_tokens"] > 0 for a in answers)


def test_chat_command_answers_scripted_turns(embedded_export):
    from click.testing import CliRunner

    from tuneforge.cli import main

    result = CliRunner().invoke(main, ["chat", str(embedded_export), "-m", "What is the capital of France?",
                                       "--temperature", "0", "--max-tokens", "40", "--system", "Be brief."])
    assert result.exit_code == 0, result.output
    assert "> What is the capital of France?" in result.output and "Paris" in result.output


def test_predict_reports_bad_input_lines_before_starting_anything(tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", ['{"id": 1, "prompt": "ok"}', "{not json", '{"id": 3}', '{"id": 1, "prompt": "x"}'])
    result = subprocess.run([*TUNEFORGE, "predict", "http://127.0.0.1:9/v1", "--input", str(bad), "--output",
                             str(tmp_path / "out.jsonl")], capture_output=True, text=True)
    assert result.returncode == 2
    for expected in ("bad.jsonl:2: invalid JSON", 'bad.jsonl:3: needs "prompt"', "bad.jsonl:4: duplicate id '1'"):
        assert expected in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out.jsonl").exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the process ended before the condition held"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_bench_serve_measures_start_burst_and_http_overhead(export):
    # Small sizes: this checks that the serving benchmark runs and reports consistent numbers; speed
    # itself is measured in BENCHMARKS.md, not asserted.
    from tuneforge.bench.serve import bench_backend, markdown

    result = bench_backend(export, "llamacpp", concurrency=3, requests=3, max_tokens=6, overhead_requests=2)
    burst = result["burst"]
    assert burst["errors"] == 0 and burst["requests"] == 3 and 0 < burst["p50_s"] <= burst["p95_s"]
    assert burst["completion_tokens_per_s"] > 0 and result["start_s"] > 0
    overhead = result["http_overhead"]
    assert overhead["requests"] == 2 and overhead["in_process_tokens"] > 0 and overhead["http_tokens"] > 0
    assert overhead["ratio"] > 0
    assert "| llamacpp |" in markdown([result]) and "HTTP/in-process time per token" in markdown([result])
