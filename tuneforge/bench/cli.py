"""`tuneforge bench ...`: the benchmark commands. Heavy imports stay inside each command."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from tuneforge.bench import data as data_bench
from tuneforge.bench import serve as serve_bench
from tuneforge.bench import train as train_bench
from tuneforge.bench import write_results
from tuneforge.bench.train_inputs import SHAPES
from tuneforge.builtins import register_builtins
from tuneforge.cli_options import runs_dir_option
from tuneforge.errors import UserError
from tuneforge.runs import read_manifest
from tuneforge.serve.exports import Export, find_export

log = logging.getLogger(__name__)


@click.group()
def bench() -> None:
    """Measure speed and memory; writes JSON and a Markdown table for BENCHMARKS.md."""
    register_builtins()  # the benchmarks build recipes (also when this group is run on its own)


def _csv(kind):
    def parse(ctx, param, value):
        if value == "auto":
            return None
        try:
            return [kind(item) for item in value.split(",")]
        except ValueError:
            raise click.BadParameter(f"{value!r}: expected a comma list of {kind.__name__} values") from None

    return parse


@bench.command(name="serve")
@click.argument("target")
@click.option(
    "--backend",
    "backends",
    default="llamacpp",
    show_default=True,
    help="Comma list of llamacpp (llama-server), llamacpp-python (the fallback server), vllm.",
)
@click.option(
    "--concurrency",
    "concurrencies",
    default="32",
    show_default=True,
    callback=_csv(int),
    help="Comma list: one burst per value, each on a fresh server.",
)
@click.option("--requests", type=click.IntRange(1), default=None, help="Requests per burst [= the concurrency].")
@click.option("--max-tokens", type=click.IntRange(1), default=64, show_default=True)
@click.option(
    "--overhead-requests",
    type=click.IntRange(0),
    default=8,
    show_default=True,
    help="Sequential requests for the in-process vs HTTP comparison (llamacpp; 0 skips it).",
)
@click.option("--output", type=click.Path(path_type=Path), default=Path("bench"), show_default=True)
@runs_dir_option
def bench_serve(
    target: str,
    backends: str,
    concurrencies: list[int],
    requests: int | None,
    max_tokens: int,
    overhead_requests: int,
    output: Path,
    runs_dir: Path,
) -> None:
    """Server start time, a burst of concurrent requests (p50/p95, tokens/s, errors) and HTTP
    overhead, for TARGET's export on each backend."""
    unknown = sorted(set(backends.split(",")) - serve_bench.BENCH_BACKENDS.keys())
    if unknown or min(concurrencies) < 1:
        raise UserError(
            f"--backend {backends} --concurrency {concurrencies}: unknown backend {unknown} or a concurrency below 1",
            fix=f"backends: {', '.join(serve_bench.BENCH_BACKENDS)}; concurrency: positive integers",
        )
    export = find_export(target, runs_dir)
    # Side by side: each concurrency level runs every backend before the next level.
    results = [
        serve_bench.bench_backend(
            export,
            backend,
            concurrency=level,
            requests=requests or level,
            max_tokens=max_tokens,
            overhead_requests=overhead_requests if index == 0 else 0,
        )
        for index, level in enumerate(concurrencies)
        for backend in backends.split(",")
    ]
    table = write_results(output, "serve", results, serve_bench.markdown(results))
    click.echo(table.read_text())


@bench.command(name="train")
@click.option(
    "--shape",
    "shapes",
    default="auto",
    show_default=True,
    callback=_csv(str),
    help="Comma list of smoke,qwen3-0.6b,qwen3-1.7b. auto: smoke on a CPU, both Qwen3 shapes on a GPU.",
)
@click.option(
    "--seq",
    "seqs",
    default="auto",
    show_default=True,
    callback=_csv(int),
    help="Comma list of sequence lengths. auto: 128 for smoke, else 1024,2048.",
)
@click.option(
    "--steps", type=click.IntRange(2), default=None, help="Optimizer steps per configuration [3 CPU, 30 GPU]."
)
@click.option("--warmup", type=click.IntRange(1), default=None, help="Steps left out of the timing [1 CPU, 5 GPU].")
@click.option(
    "--method",
    type=click.Choice(["sft", "dpo"]),
    default="sft",
    show_default=True,
    help="What both paths train: sft (SFTTrainer) or dpo (DPOTrainer on synthetic preference pairs).",
)
@click.option("--packing", default=None, help="Comma list of off,on [off,on for sft; off for dpo, which never packs].")
@click.option("--paths", default="tuneforge,baseline", show_default=True, help="Comma list of tuneforge,baseline.")
@click.option(
    "--tokenizer",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Tokenizer folder for the random-weight models [the embedded model's].",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=1),
    default=None,
    help="Seconds: start no configuration that the mean so far says would end past this; "
    "the rest are listed as skipped. Results are written after every configuration.",
)
@click.option("--output", type=click.Path(path_type=Path), default=Path("bench"), show_default=True)
def bench_train_command(
    shapes,
    seqs,
    steps,
    warmup,
    method: str,
    packing: str | None,
    paths: str,
    tokenizer: Path | None,
    budget: float | None,
    output: Path,
) -> None:
    """Tokens/s, step time, peak memory and MFU: Unsloth (our path) vs transformers + PEFT + TRL, for SFT
    or (--method dpo) DPO."""
    table = run_train_bench(
        shapes,
        seqs,
        steps,
        warmup,
        packing_list(packing, method),
        paths.split(","),
        output,
        tokenizer=str(tokenizer.resolve()) if tokenizer else "",
        budget_s=budget,
        method=method,
    )
    click.echo(table.read_text())


def packing_list(packing: str | None, method: str) -> list[bool]:
    """--packing as booleans; None: the method's default. DPO is refused packing rather than given
    rows that quietly say "off": its trainer pads chosen and rejected rows and has no packing."""
    values = (packing or ("off" if method == "dpo" else "off,on")).split(",")
    if set(values) - {"off", "on"}:
        raise UserError(f"--packing {packing!r}: expected a comma list of off,on")
    if method == "dpo" and "on" in values:
        raise UserError(
            f"--packing {packing}: packing does not apply to --method dpo (TRL's DPOTrainer pads each "
            "chosen and rejected row; it has no packing)",
            fix="leave out --packing, or pass --packing off",
        )
    return [value == "on" for value in values]


@bench.command(name="data")
@click.option("--samples", type=click.IntRange(10), default=2000, show_default=True)
@click.option(
    "--recipe",
    "recipes",
    default=None,
    help="Comma list of recipes: time each one's own data instead (cold cache, embedded tokenizer).",
)
@click.option("--output", type=click.Path(path_type=Path), default=Path("bench"), show_default=True)
def bench_data_command(samples: int, recipes: str | None, output: Path) -> None:
    """Samples/s of tokenize + cache (prepare_datasets, cold cache) vs the tokenizer's raw batch encode;
    with --recipe, the same stage on each named recipe's data."""
    if recipes:
        results = data_bench.bench_recipe_data(recipes.split(","))
        click.echo(write_results(output, "data-recipes", results, data_bench.recipes_markdown(results)).read_text())
        return
    click.echo(run_data_bench(samples, output).read_text())


@bench.command(name="all")
@click.option("--output", type=click.Path(path_type=Path), default=Path("bench"), show_default=True)
@runs_dir_option
def bench_all(output: Path, runs_dir: Path) -> None:
    """train (smoke shapes on a CPU, full shapes on a GPU) + data + serve (when an exported run exists)."""
    tables = [
        run_train_bench(None, None, None, None, [False, True], ["tuneforge", "baseline"], output),
        run_data_bench(2000, output),
    ]
    export = newest_servable_export(runs_dir)
    if export is None:
        log.warning(
            "serve benchmark skipped: no complete run under %s has an export with a GGUF "
            "(`make quickstart` then `tuneforge export quickstart`)",
            runs_dir,
        )
    else:
        tables.append(run_serve_bench(export, output))
    for table in tables:
        click.echo(f"## {table.stem}\n\n{table.read_text()}")


def run_train_bench(
    shapes,
    seqs,
    steps,
    warmup,
    packing: list[bool],
    paths: list[str],
    output: Path,
    tokenizer: str = "",
    budget_s: float | None = None,
    method: str = "sft",
) -> Path:
    """The training sweep; None means this machine's default (smoke on a CPU, full shapes on a GPU)."""
    import torch

    gpu = torch.cuda.is_available()
    shapes = shapes or (["qwen3-0.6b", "qwen3-1.7b"] if gpu else ["smoke"])
    unknown = [s for s in shapes if s not in SHAPES] + [p for p in paths if p not in train_bench.PATHS]
    if unknown:
        raise UserError(f"unknown shape or path: {unknown}", fix=f"shapes: {list(SHAPES)}; paths: {train_bench.PATHS}")
    seqs = seqs or ([128] if shapes == ["smoke"] else [1024, 2048])
    steps, warmup = steps or (30 if gpu else 3), warmup or (5 if gpu else 1)
    if warmup >= steps:
        raise UserError(f"--warmup {warmup} leaves no timed step of --steps {steps}", fix="use fewer warm-up steps")
    planned = train_bench.configs(shapes, seqs, packing, paths, steps, warmup, tokenizer, method)
    name = "train" if method == "sft" else f"train-{method}"  # sft keeps the name BENCHMARKS.md and scripts read

    def save(results: list[dict]) -> Path:
        return write_results(
            output,
            name,
            results,
            train_bench.markdown(results, len(planned)),
            method=method,
            complete=len(results) == len(planned),
        )

    return save(train_bench.bench_train(planned, budget_s, on_result=save))


def run_data_bench(samples: int, output: Path) -> Path:
    results = data_bench.bench_data(samples)
    return write_results(output, "data", results, data_bench.markdown(results))


def newest_servable_export(runs_dir: Path) -> Export | None:
    """The export with a GGUF (what llama.cpp serves) of the complete run exported last, or None."""
    exported = [p.parent.parent for p in runs_dir.glob("*/*/export/export.json")]
    complete = [p for p in exported if read_manifest(p).get("status") == "complete"]
    for run_dir in sorted(complete, key=lambda p: (p / "export" / "export.json").stat().st_mtime, reverse=True):
        try:
            export = find_export(str(run_dir), runs_dir)
        except UserError as error:
            log.info("%s: not servable (%s); looking at older runs", run_dir, error)
            continue
        if export.ggufs:
            return export
        log.info("%s: its export has no GGUF; looking at older runs", run_dir)
    return None


def run_serve_bench(export: Export, output: Path) -> Path:
    log.info("serve benchmark on %s", export.folder)
    results = [
        serve_bench.bench_backend(export, "llamacpp", concurrency=32, requests=32, max_tokens=64, overhead_requests=8)
    ]
    return write_results(output, "serve", results, serve_bench.markdown(results))
