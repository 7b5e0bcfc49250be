"""Serving benchmarks: start time, a burst of concurrent requests, and HTTP overhead.

    tuneforge bench serve runs/quickstart/<run-id> --backend llamacpp,llamacpp-python,vllm --concurrency 32,64

For each backend (llamacpp: llama.cpp's own llama-server; llamacpp-python: llama-cpp-python's
server, the fallback; vllm) and concurrency: seconds from launch until the server answers; then
`requests` requests through `concurrency` workers at once (p50/p95 latency, completion tokens/s,
errors). For llama.cpp also the same requests one by one in-process (`llama_cpp.Llama`) and over
HTTP, for the server's overhead ratio.
"""

from __future__ import annotations

import logging
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from tuneforge.serve.exports import Export, pick_gguf
from tuneforge.serve.llamacpp import load_llama
from tuneforge.serve.server import Server, cpu_threads, plan_launch

log = logging.getLogger(__name__)
# The names `tuneforge bench serve --backend` takes: (plan_launch backend, llama.cpp server).
# llamacpp is llama-server where it is built (the table's server column says which ran).
BENCH_BACKENDS = {"llamacpp": ("llamacpp", "auto"), "llamacpp-python": ("llamacpp", "python"), "vllm": ("vllm", "auto")}
TOPICS = [
    "tides",
    "compasses",
    "sourdough",
    "volcanoes",
    "chess openings",
    "bicycles",
    "honeybees",
    "rainbows",
    "libraries",
    "glaciers",
    "lighthouses",
    "telescopes",
    "coffee",
    "origami",
    "thunderstorms",
    "maps",
    "penguins",
    "bridges",
    "jazz",
    "deserts",
    "kites",
    "coral reefs",
    "clocks",
    "sailing knots",
    "gardening",
    "comets",
    "trains",
    "pottery",
    "owls",
    "windmills",
    "tea",
    "fireflies",
]


def prompts(count: int) -> list[list[dict]]:
    return [
        [{"role": "user", "content": f"In two sentences, what is interesting about {TOPICS[i % len(TOPICS)]}?"}]
        for i in range(count)
    ]


def timed_request(client, model: str, messages: list[dict], max_tokens: int) -> tuple[float, int]:
    began = time.perf_counter()
    reply = client.chat.completions.create(model=model, messages=messages, temperature=0, max_tokens=max_tokens)
    return time.perf_counter() - began, reply.usage.completion_tokens


def burst(client, model: str, requests: list[list[dict]], concurrency: int, max_tokens: int) -> dict:
    """All requests submitted at once through `concurrency` workers."""
    results, errors = [], []
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(timed_request, client, model, messages, max_tokens) for messages in requests]
        for future in futures:
            try:
                results.append(future.result())
            except Exception as error:  # noqa: BLE001 (counted: the goal is zero)
                errors.append(f"{type(error).__name__}: {error}")
    wall = time.perf_counter() - began
    latencies = sorted(seconds for seconds, _ in results)
    cuts = statistics.quantiles(latencies, n=20, method="inclusive") if len(latencies) > 1 else latencies * 19
    return {
        "requests": len(requests),
        "concurrency": concurrency,
        "errors": len(errors),
        "first_error": next(iter(errors), None),
        "wall_s": round(wall, 2),
        "p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "p95_s": round(cuts[18], 2) if latencies else None,
        "completion_tokens_per_s": round(sum(tokens for _, tokens in results) / wall, 1),
    }


def sequential(call, requests: list[list[dict]]) -> tuple[float, int]:
    """Seconds and completion tokens for the requests one after another."""
    began, tokens = time.perf_counter(), 0
    for messages in requests:
        tokens += call(messages)
    return time.perf_counter() - began, tokens


def http_overhead(
    export: Export, client, model: str, requests: list[list[dict]], max_tokens: int, rounds: int = 3
) -> dict:
    """The same requests one by one in-process and over HTTP, compared per completion token (the two
    paths may stop at different lengths); best of `rounds` each, alternating, as the machine is noisy."""
    llm = load_llama(
        pick_gguf(export, None),
        n_ctx=export.recipe.serve.n_ctx,
        n_threads=cpu_threads(),
        n_gpu_layers=-1,
        verbose=False,
    )
    paths = {
        "in_process": lambda m: llm.create_chat_completion(messages=m, temperature=0, max_tokens=max_tokens)["usage"][
            "completion_tokens"
        ],
        "http": lambda m: timed_request(client, model, m, max_tokens)[1],
    }
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in paths}
    for _ in range(rounds):  # in turns, so that a slow spell of the machine hits both paths
        for name, call in paths.items():
            runs[name].append(sequential(call, requests))
    best = {name: min(results, key=lambda r: r[0] / max(r[1], 1)) for name, results in runs.items()}
    per_token = {name: seconds / max(tokens, 1) for name, (seconds, tokens) in best.items()}
    return {
        "requests": len(requests),
        **{f"{name}_s": round(best[name][0], 2) for name in paths},
        **{f"{name}_tokens": best[name][1] for name in paths},
        "ratio": round(per_token["http"] / per_token["in_process"], 3),
    }


def bench_backend(
    export: Export, backend: str, *, concurrency: int, requests: int, max_tokens: int, overhead_requests: int
) -> dict:
    import openai

    engine, llamacpp_server = BENCH_BACKENDS[backend]
    launch = plan_launch(export, engine, port=0, llamacpp_server=llamacpp_server)
    with Server(launch, log_path=export.folder / f"bench-{backend}.log") as server:
        client = openai.OpenAI(base_url=launch.base_url, api_key="none", max_retries=0, timeout=1800)
        timed_request(client, launch.model_name, prompts(1)[0], 8)  # warm-up: first-request costs are not serving
        result = {
            "backend": backend,
            "server": launch.server,
            "start_s": round(server.started_seconds, 1),
            "burst": burst(client, launch.model_name, prompts(requests), concurrency, max_tokens),
        }
        if engine == "llamacpp" and overhead_requests:
            result["http_overhead"] = http_overhead(
                export, client, launch.model_name, prompts(overhead_requests), max_tokens
            )
    log.info("%s: %s", backend, result)
    return result


def markdown(results: list[dict]) -> str:
    lines = [
        "| backend | server | start (s) | requests × concurrency | p50 (s) | p95 (s) | completion tok/s | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b = r["burst"]
        lines.append(
            f"| {r['backend']} | {r.get('server', '')} | {r['start_s']} | {b['requests']} × {b['concurrency']} | {b['p50_s']} | "
            f"{b['p95_s']} | {b['completion_tokens_per_s']} | {b['errors']} |"
        )
    for r in results:
        if "http_overhead" in r:
            o = r["http_overhead"]
            lines.append(
                f"\n{r['backend']}: {o['requests']} sequential requests in-process {o['in_process_s']} s "
                f"({o['in_process_tokens']} tokens), over HTTP {o['http_s']} s ({o['http_tokens']} tokens): "
                f"HTTP/in-process time per token {o['ratio']}×"
            )
    return "\n".join(lines) + "\n"
