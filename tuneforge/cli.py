"""The `tuneforge` command line. Thin: parse arguments, call a typed function.

Heavy libraries are imported inside the commands so `tuneforge --help` stays instant.
User mistakes (UserError) print one message and exit 2, without a traceback.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

import click

from tuneforge.bench.cli import bench
from tuneforge.cli_options import llamacpp_server_option, refuse_options, runs_dir_option
from tuneforge.errors import EXIT_USER_ERROR, StopRequested, UserError

RESUME_HELP = "auto: continue this recipe's newest unfinished run; none: new run; or a run/checkpoint folder."
override_option = click.option(
    "-o",
    "--override",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a recipe value by dotted key, e.g. -o train.lr=1e-4. Repeatable.",
)


# Commands whose work is open-ended: a stop (Ctrl-C, SIGTERM, SIGHUP) is what ends them, so exit 0.
# predict resumes where it stopped. Others (train, eval, export) exit 128 + the signal: unfinished.
STOP_IS_SUCCESS = {"serve", "chat", "predict"}
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class TaskGroup(click.Group):
    """A group that also holds the registered tasks' commands for it (tuneforge.tasks)."""

    def task_commands(self) -> dict:
        from tuneforge.tasks import task_commands

        return task_commands(None if self.name == "main" else self.name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.task_commands()})

    def get_command(self, ctx: click.Context, name: str):
        return super().get_command(ctx, name) or self.task_commands().get(name)


class FriendlyGroup(TaskGroup):
    """Turns UserError into a short message and exit code 2, and SIGTERM/SIGHUP into Ctrl-C."""

    def invoke(self, ctx: click.Context):
        previous = install_stop_handlers()
        try:
            return super().invoke(ctx)
        except UserError as error:
            click.secho(f"error: {error.render()}", fg="red", err=True)
            sys.exit(EXIT_USER_ERROR)
        except KeyboardInterrupt as stop:
            signum = stop.signum if isinstance(stop, StopRequested) else signal.SIGINT
            requested = ctx.invoked_subcommand in STOP_IS_SUCCESS
            click.echo(f"{'stopped' if requested else 'interrupted'} ({signal.Signals(signum).name})", err=True)
            sys.exit(0 if requested else 128 + signum)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def install_stop_handlers() -> dict:
    """SIGTERM and SIGHUP raise StopRequested once; a repeat while cleaning up is ignored, so the
    cleanup (stopping a server's process group, say) runs to its end."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum, frame):
        for each in STOP_SIGNALS:
            signal.signal(each, signal.SIG_IGN)
        raise StopRequested(signum)

    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    return previous


def setup_logging(verbose: bool) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    # Logs go to stderr so that stdout carries only results (a run folder, a recipe).
    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(message)s", handlers=[handler], force=True
    )
    # The openai client's HTTP library logs every request at INFO; that would interleave with chat output.
    for name in ("httpx", "httpx2"):  # openai's HTTP library, under either of its names
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    from tuneforge import console

    console.install(verbose)  # known-harmless third-party messages (tuneforge/console.py); -v shows them


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Debug logging, and the third-party messages hidden as harmless.")
@click.version_option(package_name="tuneforge")
def main(verbose: bool) -> None:
    """tuneforge: one YAML recipe from data to a served model."""
    setup_logging(verbose)


@main.command()
@click.argument("recipe")
@override_option
@click.option("--dry-run", is_flag=True, help="Print the resolved recipe and exit.")
@click.option("--resume", default="auto", show_default=True, help=RESUME_HELP)
@runs_dir_option
@click.option("--run-id", default=None, help="Name of the run folder (default: a UTC timestamp).")
@click.option(
    "--subset", type=float, default=None, help="Train on this fraction of the training split (-o data.subset=)."
)
@click.option("--epochs", type=float, default=None, help="Number of epochs (-o train.epochs=).")
@click.option(
    "--devices",
    type=click.IntRange(min=1),
    default=None,
    help="Training processes on this machine, one per GPU (CPU processes without GPUs), through torchrun.",
)
@click.option("--nnodes", type=click.IntRange(min=1), default=1, show_default=True, help="Machines taking part.")
@click.option("--node-rank", type=click.IntRange(min=0), default=0, show_default=True, help="This machine's index.")
@click.option("--master-addr", default=None, help="Address of machine 0 (with --nnodes).")
@click.option("--master-port", type=click.IntRange(1, 65535), default=None, help="Port on machine 0 (default 29500).")
@click.option("--rdzv-endpoint", default=None, metavar="HOST:PORT", help="Elastic (c10d) rendezvous instead.")
@click.pass_context
def train(
    ctx: click.Context,
    recipe: str,
    overrides: tuple[str, ...],
    dry_run: bool,
    resume: str,
    runs_dir: Path,
    run_id: str | None,
    subset: float | None,
    epochs: float | None,
    **launch_options,
) -> None:
    """Fine-tune with LoRA on a RECIPE (a shipped name or a YAML path)."""
    from tuneforge.recipe import load_recipe, recipe_to_yaml

    shortcuts = [
        f"{key}={value}" for key, value in (("data.subset", subset), ("train.epochs", epochs)) if value is not None
    ]
    loaded, source = load_recipe(recipe, [*overrides, *shortcuts])
    if dry_run:
        click.echo(recipe_to_yaml(loaded), nl=False)
        return
    from tuneforge.train.launch import LaunchOptions, launch

    options = LaunchOptions(**launch_options)
    if options.wanted():
        worker = ["-v"] if ctx.find_root().params["verbose"] else []
        worker += ["train", recipe, *(f"--override={item}" for item in [*overrides, *shortcuts])]
        worker += [f"--resume={resume}", f"--runs-dir={runs_dir}", *([f"--run-id={run_id}"] if run_id else [])]
        sys.exit(launch(options, loaded, source, worker))
    from tuneforge.train.distributed import current_world
    from tuneforge.train.finetune import train_recipe

    run_dir = train_recipe(loaded, source, runs_dir, resume, run_id)
    if current_world().is_main:  # under torchrun every process gets here; one prints
        click.echo(str(run_dir))


@main.command(name="eval")
@click.argument("run")
@runs_dir_option
@click.option(
    "--judge-url",
    default=None,
    help="LLM judge for eval.domain: an OpenAI-compatible URL (…/v1), "
    "or a run/export folder served by llama.cpp for the evaluation. Default: the recipe's eval.domain.judge.",
)
@click.option("--judge-model", default=None, help="The judge's model name (default: the first one it lists).")
@click.option(
    "--artifact",
    "artifacts",
    multiple=True,
    metavar="ARTIFACT",
    help="Measure the task metric on an exported artifact instead: adapter, merged, gguf:QUANT (e.g. "
    "gguf:q8_0), lora-gguf or vllm; served ones through the real server on 127.0.0.1. Repeatable or a comma "
    "list. Results: RUN/eval/artifacts/.",
)
@llamacpp_server_option
@click.pass_context
def evaluate(
    ctx: click.Context,
    run: str,
    runs_dir: Path,
    judge_url: str | None,
    judge_model: str | None,
    artifacts: tuple,
    llamacpp_server: str,
) -> None:
    """Run the recipe's task metrics on RUN (a run folder, or a recipe name for its newest
    complete run). Results go to RUN/eval/ as JSON, Markdown and PNG."""
    import json

    from tuneforge.eval import evaluate_run
    from tuneforge.runs import load_run
    from tuneforge.targets import resolve_run

    run_dir = resolve_run(run, runs_dir)
    if artifacts:
        if judge_url or judge_model:
            raise click.UsageError("--judge-url, --judge-model: not used with --artifact (it skips the LLM judge)")
        from tuneforge.eval.artifact import evaluate_artifacts

        evaluate_artifacts(run_dir, list(artifacts), llamacpp_server=llamacpp_server)
        click.echo(str(run_dir / "eval" / "artifacts" / "report.md"))
        return
    refuse_options(ctx, ["llamacpp_server"], "without --artifact (it picks the server of a served GGUF)")
    if (judge_url or judge_model) and load_run(run_dir)[0].eval.domain is None:
        raise click.UsageError("--judge-url, --judge-model: not used by a run without eval.domain")
    # JSON strings are YAML scalars, so a URL or model name reaches the recipe verbatim.
    judge = {"base_url": judge_url, "model": judge_model}
    overrides = [f"eval.domain.judge.{key}={json.dumps(value)}" for key, value in judge.items() if value is not None]
    click.echo(str(evaluate_run(run_dir, overrides)))


@main.command(name="export")
@click.argument("run")
@runs_dir_option
@click.option(
    "--format",
    "formats",
    default=None,
    help="Comma list of merged,gguf,ollama,lora,lora-gguf,vllm (default: the recipe's export.formats).",
)
@click.option(
    "--quant",
    "quants",
    default=None,
    help="Comma list of GGUF types, e.g. f16,q8_0,q4_k_m (default: the recipe's export.quants).",
)
@click.option(
    "--eval/--no-eval",
    "evaluate",
    default=None,
    help="Measure the recipe's task metric on every artifact against the adapter's (report.md's task metric "
    "column). Default: on when export.max_task_drop is set.",
)
def export(run: str, runs_dir: Path, formats: str | None, quants: str | None, evaluate: bool | None) -> None:
    """Export RUN (a run folder, or a recipe name for its newest complete run): merged 16-bit
    weights, GGUF files with a fidelity check, Ollama Modelfiles, the adapter, a LoRA GGUF, a vLLM bundle.
    Output: RUN/export/."""
    from tuneforge.export.artifacts import export_run
    from tuneforge.runs import load_run
    from tuneforge.targets import resolve_run

    run_dir = resolve_run(run, runs_dir)
    recipe, _ = load_run(run_dir)
    chosen_formats = formats.split(",") if formats else list(recipe.export.formats)
    chosen_quants = quants.split(",") if quants else list(recipe.export.quants)
    names = ("--format" if formats else "export.formats", "--quant" if quants else "export.quants")
    click.echo(str(export_run(run_dir, chosen_formats, chosen_quants, names, evaluate=evaluate)))


@main.group()
def recipes() -> None:
    """List, show and validate recipes."""


@recipes.command(name="list")
def recipes_list() -> None:
    """The shipped recipes."""
    from tuneforge.recipe import read_yaml, shipped_recipes

    for name, path in shipped_recipes().items():
        raw = read_yaml(path)
        description = raw.get("description", "") if isinstance(raw, dict) else ""
        click.echo(f"{name:<16} {description}")


@recipes.command(name="show")
@click.argument("recipe")
@override_option
@click.option("--explain", is_flag=True, help="One line per key: its value, type, default and what it does.")
def recipes_show(recipe: str, overrides: tuple[str, ...], explain: bool) -> None:
    """Print RECIPE with every default filled in."""
    from tuneforge.recipe import explain as explain_keys
    from tuneforge.recipe import load_recipe, recipe_to_yaml

    loaded = load_recipe(recipe, list(overrides))[0]
    click.echo("\n".join(explain_keys(loaded)) if explain else recipe_to_yaml(loaded).rstrip("\n"))


@recipes.command(name="validate")
@click.argument("recipes_", metavar="[RECIPE]...", nargs=-1)
def recipes_validate(recipes_: tuple[str, ...]) -> None:
    """Validate the given recipes, or every shipped recipe. Lists all problems."""
    from tuneforge.recipe import load_recipe, shipped_recipes

    failures = []
    for ref in recipes_ or tuple(shipped_recipes()):
        try:
            load_recipe(ref)
            click.echo(f"ok      {ref}")
        except UserError as error:
            click.echo(f"invalid {ref}")
            failures.append(error.render())
    if failures:
        raise UserError(f"{len(failures)} recipe(s) failed validation:", failures)


@main.group()
def runs() -> None:
    """List a recipe's runs, or print its newest complete one (for scripts: SFT, then DPO from it)."""


@runs.command(name="list")
@click.argument("recipe")
@runs_dir_option
def runs_list(recipe: str, runs_dir: Path) -> None:
    """Every run of RECIPE (a recipe name), oldest first: folder, status, method, steps."""
    from tuneforge.runs import list_runs, read_manifest

    for run_dir in list_runs(runs_dir, recipe):
        manifest = read_manifest(run_dir)
        # A manifest of a run that failed early has no settings or metrics yet: shown as "-".
        method = manifest.get("effective", {}).get("method", "-")
        steps = manifest.get("metrics", {}).get("global_step", "-")
        click.echo(f"{run_dir}  {manifest.get('status', '-'):<11} {method:<5} steps {steps}")


@runs.command(name="latest")
@click.argument("recipe")
@runs_dir_option
def runs_latest(recipe: str, runs_dir: Path) -> None:
    """The folder of RECIPE's newest complete run, e.g. -o model.adapter=$(tuneforge runs latest roleplay)."""
    from tuneforge.runs import latest_complete_run

    click.echo(str(latest_complete_run(runs_dir, recipe).resolve()))  # absolute: recipe paths resolve elsewhere


@main.group(cls=TaskGroup)
def data() -> None:
    """Inspect a recipe's data."""


@data.command(name="inspect")
@click.argument("recipe")
@override_option
def data_inspect(recipe: str, overrides: tuple[str, ...]) -> None:
    """Load, filter, split and tokenize RECIPE's data; print the data report."""
    import json

    from tuneforge.data.inspect import inspect_data
    from tuneforge.recipe import load_recipe

    click.echo(json.dumps(inspect_data(load_recipe(recipe, list(overrides))[0]), indent=2))


@data.command(name="convert")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="ShareGPT JSONL to write.")
@click.option("--user-label", default="user", show_default=True, help="Label of the user's turns, e.g. Master.")
@click.option("--assistant-label", default="assistant", show_default=True, help="Label of the replies, e.g. Lyra.")
@click.option("--id-prefix", default=None, help="Conversation ids are PREFIX-0001, ... (default: the file's stem).")
def data_convert(source: Path, output: Path, user_label: str, assistant_label: str, id_prefix: str | None) -> None:
    """Convert a plain-text dialogue script (README: dialogue text format) into ShareGPT JSONL."""
    from tuneforge.data.convert import parse_dialogues, write_sharegpt

    conversations = parse_dialogues(source, user_label, assistant_label)
    write_sharegpt(conversations, output, id_prefix or source.stem)
    turns = sum(len(c) for c in conversations)
    click.echo(f"{output}: {len(conversations)} conversations, {turns} turns")


@main.group()
def models() -> None:
    """Manage base models."""


@models.command(name="prepare")
@click.argument("ref", default="embedded:smollm2-135m-instruct")
def models_prepare(ref: str) -> None:
    """Resolve REF to a local folder (converting the embedded model once) and print it."""
    from tuneforge.models import resolve_model

    click.echo(str(resolve_model(ref).path))


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


@main.command()
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
    from tuneforge.serve.exports import find_export
    from tuneforge.serve.server import Server, curl_example, plan_launch

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


@main.command()
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
    from tuneforge.serve.client import chat_session, connect

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


@main.command()
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
    import json

    from tuneforge.serve.client import connect
    from tuneforge.serve.predict import predict as run_predict
    from tuneforge.serve.predict import read_requests

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


def in_process_prediction(target: str, runs_dir: Path):
    """(task, run folder) when TARGET is a run whose task predicts in-process; None otherwise."""
    from tuneforge.runs import load_run
    from tuneforge.targets import is_url, resolve_run
    from tuneforge.tasks import in_process_predictor

    if is_url(target):
        return None
    run_dir = resolve_run(target, runs_dir)
    task = in_process_predictor(load_run(run_dir)[0])
    return None if task is None else (task, run_dir)


main.add_command(bench)
