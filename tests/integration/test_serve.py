"""The llama.cpp backend for real: an exported run served on a loopback port by llama.cpp's own
llama-server and by the llama-cpp-python fallback, driven by the official `openai` client and raw
HTTP; `tuneforge serve` stopped by Ctrl-C, SIGTERM, SIGHUP and SIGKILL with nothing left behind;
`tuneforge predict` killed and resumed."""

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
from serving import CAPITAL, QUESTION, check_withstands_hostile_clients, children_of, cmdline, wait_gone
from tuneforge.errors import UserError

pytestmark = pytest.mark.integration
KEY = "test-key"
TUNEFORGE = [str(Path(sys.executable).parent / "tuneforge")]  # the installed console script
SERVERS = ["native", "python"]


def require_native() -> None:
    """llama-server is built by `make setup`; a machine that could not build it serves with the
    fallback. CI builds it, so there its absence is a failure, not a skip."""
    from tuneforge.serve.native import find_native_server

    if find_native_server() is None:
        if os.environ.get("CI"):
            pytest.fail("llama-server is not built (make setup should have built it)")
        pytest.skip("llama-server is not built on this machine (make setup builds it)")


@pytest.fixture(scope="module")
def export(embedded_export):
    from tuneforge.serve.exports import find_export

    return find_export(str(embedded_export.parent), Path("runs"))


@pytest.fixture(scope="module", params=SERVERS)
def server(request, export, tmp_path_factory):
    from tuneforge.serve.server import Server, plan_launch

    if request.param == "native":
        require_native()
    launch = plan_launch(export, "llamacpp", port=0, api_key=KEY, llamacpp_server=request.param)
    assert launch.server == request.param
    with Server(launch, log_path=tmp_path_factory.mktemp("serve") / "server.log") as running:
        yield running


@pytest.fixture(scope="module")
def native_server(export, tmp_path_factory):
    from tuneforge.serve.server import Server, plan_launch

    require_native()
    launch = plan_launch(export, "llamacpp", port=0, api_key=KEY, llamacpp_server="native")
    with Server(launch, log_path=tmp_path_factory.mktemp("serve-native") / "server.log") as running:
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
    chunks = [
        c.choices[0].delta.content or ""
        for c in client(server).chat.completions.create(
            model="quickstart", messages=QUESTION, temperature=0, max_tokens=40, stream=True
        )
        if c.choices
    ]
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


def test_native_server_withstands_hostile_clients(native_server, export):
    check_withstands_hostile_clients(
        native_server.launch.base_url, KEY, "quickstart", export.recipe.serve.n_ctx, "llamacpp:requests_processing"
    )


def test_native_server_has_health_metrics_and_the_gguf_template(native_server, export):
    root = native_server.launch.base_url.removesuffix("/v1")
    with urllib.request.urlopen(f"{root}/health", timeout=10) as health:
        assert json.loads(health.read())["status"] == "ok"
    argv = native_server.launch.argv
    serve = export.recipe.serve
    assert "--jinja" in argv and "--metrics" in argv and argv[argv.index("--parallel") + 1] == str(serve.parallel)
    assert argv[argv.index("--ctx-size") + 1] == str(serve.n_ctx * serve.parallel)


def test_on_an_amx_cpu_llama_server_runs_without_repacking_and_answers_the_same(
    native_server, export, monkeypatch, tmp_path
):
    """The launch every AMX machine gets (serve/llamacpp.py's cpu_has_amx), taken here whatever the CPU:
    this llama-server build takes --no-repack and its greedy reply does not change."""
    from tuneforge.serve import server as serve_server

    assert ("--no-repack" in native_server.launch.argv) is serve_server.cpu_has_amx()
    monkeypatch.setattr(serve_server, "cpu_has_amx", lambda: True)
    launch = serve_server.plan_launch(export, "llamacpp", port=0, api_key=KEY, llamacpp_server="native")
    assert "--no-repack" in launch.argv
    with serve_server.Server(launch, log_path=tmp_path / "server.log") as unrepacked:
        replies = [
            client(running).chat.completions.create(model="quickstart", messages=QUESTION, temperature=0, max_tokens=40)
            for running in (native_server, unrepacked)
        ]
    assert replies[1].choices[0].message.content == replies[0].choices[0].message.content
    assert "Paris" in replies[1].choices[0].message.content


def start_serve(embedded_export, server: str, port: int) -> subprocess.Popen:
    """`tuneforge serve` with its key in the environment, as an operator's unit file would set it."""
    return subprocess.Popen(
        [*TUNEFORGE, "serve", str(embedded_export), "--port", str(port), "--llamacpp-server", server],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "TUNEFORGE_API_KEY": KEY},
        preexec_fn=as_from_a_terminal,
    )


def as_from_a_terminal() -> None:
    """SIGINT as a terminal's Ctrl-C delivers it. A shell's background job (`make test &`) starts with
    SIGINT ignored and every child inherits that, so serve would rightly not stop on it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_port_free(port: int) -> None:
    from tuneforge.serve.server import check_port

    assert check_port("127.0.0.1", port) == port  # binds as the servers do: refused while anything listens


@pytest.mark.parametrize(
    "server, stop",
    [
        ("native", signal.SIGINT),
        ("native", signal.SIGTERM),
        ("native", signal.SIGHUP),
        ("native", signal.SIGKILL),
        ("python", signal.SIGTERM),
        ("python", signal.SIGKILL),
    ],
)
def test_serve_stops_on_every_signal_and_leaves_no_server_behind(embedded_export, server, stop):
    if server == "native":
        require_native()
    port = free_port()
    process = start_serve(embedded_export, server, port)
    banner = process.stdout.readline()
    assert banner.startswith(f"serving quickstart (llamacpp, {server}) at http://127.0.0.1:{port}/v1"), banner
    curl = process.stdout.readline() + process.stdout.readline()
    assert "Bearer $TUNEFORGE_API_KEY" in curl and KEY not in curl
    (child,) = children_of(process.pid)
    assert all(KEY not in cmdline(pid) for pid in (process.pid, child))  # the key is in no command line
    process.send_signal(stop)
    code = process.wait(timeout=60)
    assert code == (-signal.SIGKILL if stop == signal.SIGKILL else 0)
    assert wait_gone([child], timeout=30) == [], f"the {server} server (pid {child}) outlived tuneforge serve"
    assert_port_free(port)


def test_no_key_in_the_command_line_of_any_server_process(server):
    from tuneforge.process import live_members

    members = live_members(server.process.pid)
    assert members and all(KEY not in cmdline(pid) for pid in members)
    assert KEY not in " ".join(server.launch.argv)


def test_predict_resumes_after_a_kill_without_losing_or_repeating_answers(server, tmp_path):
    requests = write_jsonl(
        tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"Name {i + 2} colours."} for i in range(10)]
    )
    output = tmp_path / "out.jsonl"
    command = [
        *TUNEFORGE,
        "predict",
        server.launch.base_url,
        "--input",
        str(requests),
        "--output",
        str(output),
        "--concurrency",
        "2",
        "--max-tokens",
        "24",
        "--temperature",
        "0",
    ]
    env = {**os.environ, "TUNEFORGE_API_KEY": KEY}
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_for(lambda: output.is_file() and output.read_text().count("\n") >= 3, first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    with output.open("a") as handle:
        handle.write('{"id": "q9", "out')  # a line cut off mid-write by the kill
    kept = [json.loads(line)["id"] for line in output.read_text().splitlines()[:-1]]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert finished.returncode == 0, finished.stderr[-2000:]
    summary = json.loads(finished.stdout.strip().splitlines()[-1])
    assert summary["skipped"] == len(kept) and summary["answered"] == 10 - len(kept)
    answers = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(a["id"] for a in answers) == [f"q{i}" for i in range(10)]
    assert [a["id"] for a in answers[: len(kept)]] == kept  # earlier answers kept as they were
    assert all(a["output"] and a["usage"]["completion_tokens"] > 0 for a in answers)


def test_chat_command_answers_scripted_turns(embedded_export):
    from click.testing import CliRunner

    from tuneforge.cli import main

    result = CliRunner().invoke(
        main,
        [
            "chat",
            str(embedded_export),
            "-m",
            CAPITAL,
            "--temperature",
            "0",
            "--max-tokens",
            "40",
            "--system",
            "Answer in one short sentence.",  # its two likeliest first tokens are "The" (...is Paris.) and "Paris"
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"> {CAPITAL}" in result.output and "Paris" in result.output


def test_predict_reports_bad_input_lines_before_starting_anything(tmp_path):
    bad = write_jsonl(
        tmp_path / "bad.jsonl", ['{"id": 1, "prompt": "ok"}', "{not json", '{"id": 3}', '{"id": 1, "prompt": "x"}']
    )
    result = subprocess.run(
        [*TUNEFORGE, "predict", "http://127.0.0.1:9/v1", "--input", str(bad), "--output", str(tmp_path / "out.jsonl")],
        capture_output=True,
        text=True,
    )
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


def test_predict_on_a_run_stops_its_server_on_sigterm_and_exits_0(embedded_export, tmp_path):
    """`predict` starts its own llama.cpp server for a run: a supervisor's SIGTERM stops it, the
    answers so far are kept, and nothing of the server remains."""
    requests = write_jsonl(
        tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"Name {i + 2} rivers."} for i in range(40)]
    )
    output = tmp_path / "out.jsonl"
    process = subprocess.Popen(
        [
            *TUNEFORGE,
            "predict",
            str(embedded_export),
            "--input",
            str(requests),
            "--output",
            str(output),
            "--concurrency",
            "1",
            "--max-tokens",
            "24",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: output.is_file() and output.read_text().count("\n") >= 1, process)
    (server,) = children_of(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert wait_gone([server], timeout=30) == []
    answers = [json.loads(line) for line in output.read_text().splitlines()]
    assert 1 <= len(answers) < 40 and all(a["output"] for a in answers)
