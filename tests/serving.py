"""What every serving backend must withstand, checked the same way against each (llama.cpp's
llama-server, llama-cpp-python's fallback where it applies, vLLM): raw HTTP for malformed bodies,
the official openai client for the rest, and the server's own /metrics to see slots freed."""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

# A question the embedded model answers with a clear margin. Plain "What is the capital of France?"
# is a near tie for it: "L" (of "L'Étoile...") against "The" (of "...is Paris."), 0.02-0.4 nats apart
# on the base Q4_1 and a test export's Q8_0, so each CPU's arithmetic picks one. With the second
# sentence the first token leads by 1.4-1.6 nats and "Paris" follows (measured with llama-cpp-python).
CAPITAL = "What is the capital of France? Answer with the name of the city."
QUESTION = [{"role": "user", "content": CAPITAL}]


def post(base_url: str, key: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{base_url}/chat/completions",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def post_json(base_url: str, key: str, model: str, **fields) -> tuple[int, str]:
    return post(base_url, key, json.dumps({"model": model, **fields}).encode())


def check_bad_requests_are_refused(base_url: str, key: str, model: str, n_ctx: int) -> None:
    """400 for what a client got wrong; the server answers normally afterwards."""
    status, _ = post(base_url, key, b"{this is not json")
    assert 400 <= status < 600  # llama-server answers 500 here (README, serving notes); it must live on
    assert post_json(base_url, key, model, max_tokens=8)[0] == 400  # no messages
    assert post_json(base_url, key, model, messages="hello", max_tokens=8)[0] == 400  # wrong type
    assert post_json(base_url, key, model, messages=QUESTION, max_tokens=-5)[0] == 400
    too_long = [{"role": "user", "content": "tide " * (2 * n_ctx)}]
    assert post_json(base_url, key, model, messages=too_long, max_tokens=8)[0] == 400
    # llama.cpp reads 0 as one token and -1 as "until the context is full" (vLLM refuses both);
    # huge values are refused or capped. Whatever is accepted must end within the context.
    for limit in (0, -1, 10**7):
        assert_refused_or_bounded(
            *post_json(base_url, key, model, messages=QUESTION, max_tokens=limit, temperature=1.0), n_ctx
        )
    assert post_json(base_url, key, model, messages=QUESTION, max_tokens=8)[0] == 200


def assert_refused_or_bounded(status: int, text: str, n_ctx: int) -> None:
    if status == 200:
        usage = json.loads(text)["usage"]
        assert usage["prompt_tokens"] + usage["completion_tokens"] <= n_ctx, usage
    else:
        assert status == 400, text


def metric(base_url: str, key: str, name: str) -> float:
    root = base_url.removesuffix("/v1")
    request = urllib.request.Request(f"{root}/metrics", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    values = [float(m.group(1)) for m in re.finditer(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.M)]
    assert values, f"{name} not in /metrics"
    return sum(values)


def hang_up_mid_stream(base_url: str, key: str, model: str) -> None:
    """Start a long streamed reply, read its first event, and close the connection."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    body = json.dumps({"model": model, "messages": QUESTION, "max_tokens": 1500, "stream": True, "temperature": 1.0})
    connection.request(
        "POST",
        f"{parts.path}/chat/completions",
        body=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    response = connection.getresponse()
    assert response.status == 200
    assert response.readline().startswith(b"data:")
    connection.close()


def check_hang_ups_free_their_slots(base_url: str, key: str, model: str, running_metric: str) -> None:
    for _ in range(3):
        hang_up_mid_stream(base_url, key, model)
    deadline = time.monotonic() + 60
    while metric(base_url, key, running_metric) > 0:
        assert time.monotonic() < deadline, f"{running_metric} stayed above 0 after the clients hung up"
        time.sleep(0.5)


def check_concurrent_clients(base_url: str, key: str, model: str, clients: int = 64) -> None:
    import openai

    client = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=600)

    def ask(index: int) -> int:
        reply = client.chat.completions.create(
            model=model,
            max_tokens=8,
            temperature=0,
            messages=[{"role": "user", "content": f"Count to {index % 9 + 1}."}],
        )
        return reply.usage.completion_tokens

    with ThreadPoolExecutor(clients) as pool:
        tokens = list(pool.map(ask, range(clients)))  # any error raises here
    assert len(tokens) == clients and all(t > 0 for t in tokens)
    after = client.chat.completions.create(model=model, messages=QUESTION, max_tokens=40, temperature=0)
    assert after.choices[0].message.content


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def children_of(pid: int) -> list[int]:
    from tuneforge.process import running_processes

    return [child for child, parent, _ in running_processes() if parent == pid]


def wait_gone(pids: list[int], timeout: float = 30) -> list[int]:
    """The pids still running (not zombies) after up to `timeout` seconds."""
    from tuneforge.process import running_processes

    deadline = time.monotonic() + timeout
    while (alive := set(pids) & {pid for pid, _, _ in running_processes()}) and time.monotonic() < deadline:
        time.sleep(0.2)
    return sorted(alive)


def check_withstands_hostile_clients(base_url: str, key: str, model: str, n_ctx: int, running_metric: str) -> None:
    """Bad requests refused, hung-up streams freed, 64 concurrent clients served, and a request
    after all of that still answered."""
    check_bad_requests_are_refused(base_url, key, model, n_ctx)
    check_hang_ups_free_their_slots(base_url, key, model, running_metric)
    check_concurrent_clients(base_url, key, model, clients=64)
