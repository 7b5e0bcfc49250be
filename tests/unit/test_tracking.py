"""train.report_to without training: a tracker that is not installed, the settings the trackers get, and when
W&B logs offline (TensorBoard and MLflow in a real run: tests/integration/test_tracking_run.py)."""

from __future__ import annotations

import socket
import sys

import pytest
from click.testing import CliRunner

from helpers import sharegpt_records, write_jsonl, write_recipe
from tuneforge.cli import main
from tuneforge.recipe.loading import load_recipe
from tuneforge.train.tracking import flat_parameters, run_parameters, wandb_mode


def tracked_recipe(tmp_path, trackers):
    data = write_jsonl(tmp_path / "data.jsonl", sharegpt_records(4))
    body = {"name": "tracked", "data": {"format": "sharegpt", "train": data.name}, "train": {"report_to": trackers}}
    return write_recipe(tmp_path / "tracked.yaml", body)


def test_a_tracker_that_is_not_installed_stops_training_at_once_naming_its_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # how Python marks a module absent: find_spec and import fail
    result = CliRunner().invoke(main, ["train", str(tracked_recipe(tmp_path, ["tensorboard", "wandb"]))])
    assert result.exit_code == 2, result.output
    assert "train.report_to: wandb is not installed" in result.output
    assert "pip install -e '.[wandb]'" in result.output
    assert "tensorboard" not in result.output.split("wandb is not installed")[0]  # the installed one is fine
    assert "Traceback" not in result.output and not (tmp_path / "runs").exists()


def test_an_unknown_tracker_is_a_recipe_error(tmp_path):
    result = CliRunner().invoke(main, ["train", str(tracked_recipe(tmp_path, ["comet"])), "--dry-run"])
    assert result.exit_code == 2 and "train.report_to.0" in result.output


def test_a_finished_run_loads_where_its_trackers_are_missing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # evaluation and export read the recipe again elsewhere
    recipe, _ = load_recipe(tracked_recipe(tmp_path, ["wandb"]))
    assert recipe.train.report_to == ["wandb"]


def test_the_settings_flatten_to_scalars_with_dotted_keys(tmp_path):
    recipe, _ = load_recipe(tracked_recipe(tmp_path, ["mlflow"]))
    manifest = {
        "base_model": {"ref": "embedded:x", "identity": "sha256:abc"},
        "data_splits": {"train": {"sha256": "f00", "samples": 3}},
        "data": {"files": [{"path": "a.jsonl", "sha256": "bee"}], "loaded": 4, "kept": 4, "tokens": {"big": 1}},
    }
    flat = run_parameters(recipe, manifest)
    assert flat["recipe.name"] == "tracked" and flat["recipe.train.lr"] == 2e-4
    assert flat["recipe.train.report_to"] == "mlflow" and flat["recipe.train.max_steps"] == "null"
    assert flat["recipe.lora.target_modules"] == ",".join(recipe.lora.target_modules)
    assert flat["base_model.identity"] == "sha256:abc" and flat["data_splits.train.sha256"] == "f00"
    assert flat["data.files.0.sha256"] == "bee" and not any(key.startswith("data.tokens") for key in flat)
    assert all(isinstance(value, (str, int, float, bool)) for value in flat.values())
    assert len(flat_parameters({"prompt": "x" * 5000})["prompt"]) == 500


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed: nothing listens there


def test_wandb_is_offline_without_credentials_or_an_answering_server(monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc login
    monkeypatch.setenv("NETRC", str(tmp_path / "absent-netrc"))
    assert wandb_mode()[0] == "offline" and "credentials" in wandb_mode()[1]
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    assert wandb_mode() == ("offline", "127.0.0.1 does not answer")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{server.getsockname()[1]}")
        assert wandb_mode()[0] == "online"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode() == ("disabled", "WANDB_MODE")


@pytest.mark.parametrize(("stopped", "status"), [(False, "FINISHED"), (True, "KILLED")])
def test_a_stop_signal_ends_the_mlflow_run_killed_not_finished(tmp_path, monkeypatch, stopped, status):
    """What training passes: `stopped()` is true when SIGTERM or Ctrl-C ended it at a step boundary."""
    from mlflow.tracking import MlflowClient

    from tuneforge.train.tracking import tracking_session

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    recipe, _ = load_recipe(tracked_recipe(tmp_path, ["mlflow"]))
    manifest: dict = {}
    with tracking_session(recipe, tmp_path / "run", manifest, is_main=True, stopped=lambda: stopped):
        pass
    tracked = manifest["tracking"]["mlflow"]
    assert MlflowClient(tracking_uri=tracked["tracking_uri"]).get_run(tracked["run_id"]).info.status == status
