"""`tuneforge bench ...`: the benchmark commands. Heavy imports stay inside each command."""

from __future__ import annotations

from pathlib import Path

import click

from tuneforge.cli_options import runs_dir_option


@click.group()
def bench() -> None:
    """Measure speed and memory; writes JSON and a Markdown table for BENCHMARKS.md."""


@bench.command(name="serve")
@click.argument("target")
@click.option("--backend", "backends", default="llamacpp", show_default=True, help="Comma list of llamacpp,vllm.")
@click.option("--concurrency", type=click.IntRange(1), default=32, show_default=True)
@click.option("--requests", type=click.IntRange(1), default=32, show_default=True)
@click.option("--max-tokens", type=click.IntRange(1), default=64, show_default=True)
@click.option("--overhead-requests", type=click.IntRange(0), default=8, show_default=True,
              help="Sequential requests for the in-process vs HTTP comparison (llamacpp; 0 skips it).")
@click.option("--output", type=click.Path(path_type=Path), default=Path("bench"), show_default=True)
@runs_dir_option
def bench_serve(target: str, backends: str, concurrency: int, requests: int, max_tokens: int, overhead_requests: int,
                output: Path, runs_dir: Path) -> None:
    """Server start time, a burst of concurrent requests (p50/p95, tokens/s, errors) and HTTP
    overhead, for TARGET's export on each backend."""
    from tuneforge.bench import write_results
    from tuneforge.bench.serve import bench_backend, markdown
    from tuneforge.serve.exports import find_export

    export = find_export(target, runs_dir)
    results = [bench_backend(export, backend, concurrency=concurrency, requests=requests, max_tokens=max_tokens,
                             overhead_requests=overhead_requests) for backend in backends.split(",")]
    table = write_results(output, "serve", results, markdown(results))
    click.echo(table.read_text())
