"""`tuneforge serve`, `tuneforge chat` and `tuneforge predict`: an export behind an OpenAI-compatible API."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from tuneforge.cli_options import llamacpp_server_option, refuse_options, runs_dir_option
from tuneforge.errors import UserError
from tuneforge.registry import Task, in_process_predictor
from tuneforge.run_folder import load_run
from tuneforge.runs import MANIFEST
from tuneforge.serve.client import chat_session, connect
from tuneforge.serve.exports import find_export
from tuneforge.serve.predict import predict as run_predict
from tuneforge.serve.predict import read_requests
from tuneforge.serve.server import Server, curl_example, plan_launch
from tuneforge.targets import EXPORT_MANIFEST, is_url, resolve_run


def read_api_key(ctx, param, path: Path | None) -> str | None:
    """The key from --api-key-file (its first line), else TUNEFORGE_API_KEY. There is no --api-key:
    every local user can read a process's command line in /proc."""
    if path is None:
        return os.environ.get("TUNEFORGE_API_KEY") or None
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].strip():
        raise click.BadParameter(f"{path}: empty; its first line must be the key", param=param)
    return lines[0].strip()


api_key_option = click.option(
    "--api-key-file",
    "api_key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    callback=read_api_key,
    help="File whose first line is the bearer key [default: env "
    "TUNEFORGE_API_KEY]. A server started with one refuses requests without it.",
)
think_option = click.option("--strip-think", is_flag=True, help="Hide <think>…</think> blocks (Qwen3) in replies.")
sampling_options = [
    click.option("--max-tokens", type=click.IntRange(1), default=512, show_default=True),
    click.option("--temperature", type=click.FloatRange(0), default=0.7, show_default=True),
]


def with_sampling(command):
    for option in reversed(sampling_options):
        command = option(command)
    return command


@click.command()
@click.argument("target")
@click.option(
    "--backend", type=click.Choice(["llamacpp", "vllm"]), default=None, help="Default: the recipe's serve.backend."
)
@click.option("--quant", default=None, help="Which exported GGUF (llamacpp). Default: the recipe's first export quant.")
@click.option("--adapter", is_flag=True, help="Serve the base model plus the LoRA adapter instead of merged weights.")
@click.option("--host", default=None, help="Default: the recipe's serve.host (127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Default: the recipe's serve.port; 0 picks a free one."
)
@api_key_option
@click.option(
    "--tensor-parallel-size", type=click.IntRange(1), default=1, show_default=True, help="vLLM: GPUs to shard over."
)
@click.option(
    "--data-parallel-size",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="vLLM: whole model replicas (tensor-parallel-size GPUs each) sharing the requests.",
)
@llamacpp_server_option
@click.option("--timeout", type=click.FloatRange(1), default=None, help="Seconds to wait for the server to answer.")
@runs_dir_option
@click.pass_context
def serve(
    ctx: click.Context,
    target: str,
    backend: str | None,
    quant: str | None,
    adapter: bool,
    host: str | None,
    port: int | None,
    api_key: str | None,
    tensor_parallel_size: int,
    data_parallel_size: int,
    llamacpp_server: str,
    timeout: float | None,
    runs_dir: Path,
) -> None:
    """Serve TARGET's export (a run folder, its export/ folder, or a recipe name) behind an
    OpenAI-compatible API until Ctrl-C or SIGTERM (both exit 0)."""
    export = find_export(target, runs_dir)
    backend = backend or export.recipe.serve.backend
    refuse_options(
        ctx,
        ["tensor_parallel_size", "data_parallel_size"] if backend == "llamacpp" else ["quant", "llamacpp_server"],
        f"by the {backend} backend",
    )
    launch = plan_launch(
        export,
        backend,
        quant=quant,
        adapter=adapter,
        host=host,
        port=port,
        api_key=api_key,
        tensor_parallel_size=tensor_parallel_size,
        data_parallel_size=data_parallel_size,
        llamacpp_server=llamacpp_server,
    )
    # A stop can land anywhere (while starting, while printing, while serving): the with-block stops
    # the server's whole process group on the way out, and FriendlyGroup makes it a clean exit.
    with Server(launch, timeout=timeout) as server:
        click.echo(
            f"serving {launch.model_name} ({launch.backend}, {launch.server}) at {launch.base_url}\n"
            f"{curl_example(launch)}\nCtrl-C stops it."
        )
        code = server.process.wait()
    raise UserError(f"the {launch.backend} server exited with code {code} while serving", fix="read its output above")


@click.command()
@click.argument("target")
@click.option("--system", default=None, help="System prompt. Default: the recipe's, when TARGET is a run.")
@click.option("-m", "--message", "messages", multiple=True, help="Send these turns and exit (no prompt). Repeatable.")
@click.option("--model", default=None, help="Model name at a URL (default: the first one it lists).")
@api_key_option
@think_option
@with_sampling
@runs_dir_option
def chat(
    target: str,
    system: str | None,
    messages: tuple[str, ...],
    model: str | None,
    api_key: str | None,
    strip_think: bool,
    max_tokens: int,
    temperature: float,
    runs_dir: Path,
) -> None:
    """Chat with TARGET: a server URL (…/v1), or a run/export folder or recipe name, for which a
    llama.cpp server is started for the session. Replies stream; `exit` or `quit` leaves."""
    scripted = iter(messages)

    def read() -> str | None:
        if messages:
            line = next(scripted, None)
            if line is not None:
                click.echo(f"> {line}")
            return line
        try:
            return click.prompt("you", prompt_suffix="> ")
        except (EOFError, click.Abort):
            return None

    with connect(target, runs_dir=runs_dir, api_key=api_key, model=model) as endpoint:
        chat_session(
            endpoint,
            read,
            lambda text: click.echo(text, nl=False),
            system=system or endpoint.system_prompt,
            hide_think=strip_think,
            max_tokens=max_tokens,
            temperature=temperature,
        )


@click.command()
@click.argument("target")
@click.option("--input", "input_path", type=click.Path(path_type=Path), required=True, help="JSONL of requests.")
@click.option(
    "--output",
    "output_path",
    type=click.Path(path_type=Path),
    required=True,
    help="JSONL of answers; existing ids are skipped (resume).",
)
@click.option("--concurrency", type=click.IntRange(1), default=8, show_default=True)
@click.option("--system", default=None, help="System prompt for requests without one. Default: the recipe's.")
@click.option("--model", default=None, help="Model name at a URL (default: the first one it lists).")
@click.option(
    "--retries", type=click.IntRange(0), default=3, show_default=True, help="Retries per request on transient errors."
)
@api_key_option
@think_option
@with_sampling
@runs_dir_option
@click.pass_context
def predict(
    ctx: click.Context,
    target: str,
    input_path: Path,
    output_path: Path,
    concurrency: int,
    system: str | None,
    model: str | None,
    retries: int,
    api_key: str | None,
    strip_think: bool,
    max_tokens: int,
    temperature: float,
    runs_dir: Path,
) -> None:
    """Answer every request in --input with TARGET (a URL, run/export folder or recipe name);
    append answers to --output as they arrive. For a classification recipe's run, input lines
    are {"id", "text"} and each answer is a label with its confidence and probabilities."""
    in_process = in_process_prediction(target, runs_dir)
    if in_process is not None:  # e.g. a classification run: labels and confidences from the model itself
        task, run_dir = in_process
        refuse_options(
            ctx,
            ["concurrency", "system", "model", "retries", "api_key", "strip_think", "max_tokens", "temperature"],
            f"by a {task.name} run (its answers come from the model in-process)",
        )
        click.echo(json.dumps(task.predict_file(run_dir, input_path, output_path)))
        return
    read_requests(input_path, None)  # fail on bad input before any server starts
    with connect(target, runs_dir=runs_dir, api_key=api_key, model=model, max_retries=retries) as endpoint:
        requests = read_requests(input_path, system or endpoint.system_prompt)
        summary = run_predict(
            endpoint,
            requests,
            output_path,
            concurrency=concurrency,
            hide_think=strip_think,
            max_tokens=max_tokens,
            temperature=temperature,
        )
    click.echo(json.dumps(summary))


def in_process_prediction(target: str, runs_dir: Path) -> tuple[Task, Path] | None:
    """(task, run folder) when TARGET is a run whose task predicts in-process; None otherwise."""
    if is_url(target):
        return None
    run_dir = resolve_run(target, runs_dir)
    if (Path(target) / EXPORT_MANIFEST).is_file() and not (run_dir / MANIFEST).is_file():
        return None  # an export folder on its own (no adapter beside it): answered by its server
    task = in_process_predictor(load_run(run_dir)[0])
    return None if task is None else (task, run_dir)
