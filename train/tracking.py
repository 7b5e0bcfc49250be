"""`train.report_to`: experiment trackers, fed by transformers' own integrations (TrainingArguments.report_to).

The Trainer's integration callbacks log every metric the Trainer logs (the loss curve, the held-out loss,
learning rate, tokens seen) on rank 0 only. This module adds what they do not know: where each tracker
stores its data by default (inside the run folder), the trackers' offline and telemetry switches (nothing
needs the network), and the run's settings (resolved recipe, base model, effective settings, data hashes)
as the trackers' parameters.

- tensorboard: event files in RUN/logs/ (TENSORBOARD_LOGGING_DIR moves them); the settings as HParams.
- mlflow: a file store in RUN/mlruns/ unless MLFLOW_TRACKING_URI is set (MLflow 3 wants
  MLFLOW_ALLOW_FILE_STORE=true for it, which is set); experiment MLFLOW_EXPERIMENT_NAME or the recipe's name;
  the settings as params. Telemetry off (MLFLOW_DISABLE_TELEMETRY) unless set.
- wandb: offline into RUN/wandb/ (`wandb sync` uploads it later) unless WANDB_MODE is set, or W&B
  credentials exist and its server answers within a few seconds; the settings as the run's config.
- trackio: its own local store (TRACKIO_DIR), project = the recipe's name; metrics only.

Each training session (a resumed run starts another) is one tracker run named after the run folder.
"""

from __future__ import annotations

import json
import logging
import netrc
import os
import socket
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger(__name__)
TENSORBOARD_DIR = "logs"
MLFLOW_DIR = "mlruns"
WANDB_HOST = "https://api.wandb.ai"
WANDB_PROBE_S = 3.0  # how long a W&B server may take to accept a connection before the run goes offline
# Where a tracker would phone home on its own (telemetry, crash reports); off unless the user set them.
QUIET_ENVIRONMENT = {
    "mlflow": {"MLFLOW_DISABLE_TELEMETRY": "true"},
    "wandb": {"WANDB_ERROR_REPORTING": "false"},
}
# W&B has no "killed" state: a non-zero exit code marks the run failed; 143 (128 + SIGTERM) says why.
WANDB_EXIT_CODES = {"FINISHED": 0, "FAILED": 1, "KILLED": 143}
PARAM_CHARS = 500  # longer values (a system prompt, say) are cut: trackers' parameters are for comparing runs


def flat_parameters(value, prefix: str = "") -> dict[str, str | int | float | bool]:
    """Nested dicts and lists as dotted keys with scalar values (None as "null", long strings cut)."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)) and any(isinstance(item, (dict, list, tuple)) for item in value):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return {prefix: scalar_parameter(value)}
    flat = {}
    for key, item in items:
        flat.update(flat_parameters(item, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def scalar_parameter(value) -> str | int | float | bool:
    if isinstance(value, (list, tuple)):
        value = ",".join(map(str, value))
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return text if len(text) <= PARAM_CHARS else text[: PARAM_CHARS - 1] + "…"


def run_parameters(recipe, manifest: dict) -> dict[str, str | int | float | bool]:
    """What the trackers record about a run: the resolved recipe and the manifest's identity of the run (base
    model, effective settings, data hashes and counts)."""
    sections = {
        "recipe": recipe.model_dump(mode="json"),  # as recipe.resolved.yaml holds it
        "base_model": manifest.get("base_model"),
        "effective": manifest.get("effective"),
        "data_splits": manifest.get("data_splits"),
        "data": {key: (manifest.get("data") or {}).get(key) for key in ("files", "loaded", "kept", "splits")},
        "git_commit": manifest.get("git_commit"),
    }
    return flat_parameters({key: value for key, value in sections.items() if value is not None})


def quiet_environment(trackers: list[str]) -> None:
    """The trackers' own switches for telemetry and crash reports, unless the user chose."""
    for name in trackers:
        for variable, value in QUIET_ENVIRONMENT.get(name, {}).items():
            os.environ.setdefault(variable, value)


def wandb_mode() -> tuple[str, str]:
    """(mode, why): WANDB_MODE when set; else online only where W&B can log in and its server answers, so that
    a machine without the network, or without credentials, never waits on a login."""
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"], "WANDB_MODE"
    url = os.environ.get("WANDB_BASE_URL", WANDB_HOST)
    host = urlparse(url).hostname or url
    if not (os.environ.get("WANDB_API_KEY") or netrc_login(host)):
        return "offline", "no W&B credentials (WANDB_API_KEY or `wandb login`)"
    if not answers(host, urlparse(url).port or (80 if url.startswith("http:") else 443)):
        return "offline", f"{host} does not answer"
    return "online", f"{host} answers"


def netrc_login(host: str) -> bool:
    try:
        return netrc.netrc().authenticators(host) is not None
    except (OSError, netrc.NetrcParseError):
        return False


def answers(host: str, port: int, timeout_s: float = WANDB_PROBE_S) -> bool:
    """A TCP connection within timeout_s; run in a thread, as a name lookup can outlast a socket's timeout."""
    result = []

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
            result.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout_s)
    return bool(result)


def point_at_run(trainer, run_dir: Path) -> None:
    """TensorBoard's events go to RUN/logs/ (transformers' default is under the checkpoints folder), unless
    TENSORBOARD_LOGGING_DIR chose a folder."""
    from transformers.integrations import TensorBoardCallback

    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, TensorBoardCallback) and callback.logging_dir is None:
            callback.logging_dir = str(run_dir / TENSORBOARD_DIR)


@contextmanager
def tracking_session(recipe, run_dir: Path, manifest: dict, is_main: bool, stopped=lambda: False):
    """Rank 0 opens the MLflow and W&B runs itself, before the Trainer would, so that they hold the run's
    settings and stay open for the held-out measure taken after train() (transformers would end the MLflow
    run at the end of train(), and the next log would start another). Other ranks log nothing. The tracker
    runs end FINISHED, FAILED on an error, or KILLED when `stopped()` says a stop signal ended training
    early (the run folder resumes; the resumed session is a new tracker run)."""
    trackers = list(dict.fromkeys(recipe.train.report_to))
    if not trackers or not is_main:
        yield
        return
    quiet_environment(trackers)
    record = manifest.setdefault("tracking", {})
    if "tensorboard" in trackers:
        record["tensorboard"] = os.environ.get("TENSORBOARD_LOGGING_DIR") or TENSORBOARD_DIR
    finishers = []
    try:
        if "mlflow" in trackers:
            finishers.append(start_mlflow(recipe, run_dir, record))
        if "wandb" in trackers:
            finishers.append(start_wandb(recipe, run_dir, record))
        yield
    except BaseException:
        for finish in reversed(finishers):
            finish("FAILED")
        raise
    for finish in reversed(finishers):
        finish("KILLED" if stopped() else "FINISHED")


def start_mlflow(recipe, run_dir: Path, record: dict):
    import mlflow

    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        uri = (run_dir / MLFLOW_DIR).resolve().as_uri()
        # MLflow 3 keeps its file store (no database, no server: what mlflow-skinny can write) behind this opt-in.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri(uri)  # set each time: a second run in this process must not log into the first's
    mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME") or recipe.name)
    run = mlflow.start_run(run_name=run_dir.name, tags={"tuneforge.run_dir": str(run_dir.resolve())})
    record["mlflow"] = {"tracking_uri": uri, "run_id": run.info.run_id}

    def finish(status: str) -> None:
        mlflow.end_run(status=status)

    return finish


def start_wandb(recipe, run_dir: Path, record: dict):
    import wandb

    mode, why = wandb_mode()
    if mode == "offline":
        log.info("W&B logs offline into %s/wandb (%s); `wandb sync` uploads it later", run_dir, why)
    run = wandb.init(
        project=os.environ.get("WANDB_PROJECT") or recipe.name,
        name=run_dir.name,
        dir=str(run_dir),
        mode=mode,
        reinit="finish_previous",
    )
    record["wandb"] = {"mode": mode, "run_id": run.id, "dir": "wandb"}

    def finish(status: str) -> None:
        run.finish(exit_code=WANDB_EXIT_CODES[status])

    return finish


def log_run_parameters(trainer, parameters: dict) -> None:
    """The run's settings, into every tracker that is open (called once the Trainer's callbacks set up)."""
    from transformers.integrations import TensorBoardCallback

    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, TensorBoardCallback) and callback.tb_writer is not None:
            log_tensorboard_hparams(callback.tb_writer, parameters)
    if "mlflow" in trainer.args.report_to:
        import mlflow

        log_mlflow_params(mlflow, parameters)
    if "wandb" in trainer.args.report_to:
        import wandb

        if wandb.run is not None:
            wandb.run.config.update(parameters, allow_val_change=True)


def log_tensorboard_hparams(writer, parameters: dict) -> None:
    """HParams in the same event file as the scalars, so TensorBoard's HParams tab lists the run by them."""
    from torch.utils.tensorboard.summary import hparams

    for summary in hparams(parameters, metric_dict={}):
        writer._get_file_writer().add_summary(summary)
    writer.add_text("tuneforge/settings", "```\n" + json.dumps(parameters, indent=1) + "\n```")
    writer.flush()


def log_mlflow_params(mlflow, parameters: dict) -> None:
    from mlflow.utils.validation import MAX_PARAMS_TAGS_PER_BATCH

    if mlflow.active_run() is None:
        return
    items = list(parameters.items())
    for start in range(0, len(items), MAX_PARAMS_TAGS_PER_BATCH):
        mlflow.log_params(dict(items[start : start + MAX_PARAMS_TAGS_PER_BATCH]))
