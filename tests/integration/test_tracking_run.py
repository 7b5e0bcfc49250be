"""train.report_to: TensorBoard's event files and MLflow's file store, inside the run, hold the loss curve that
metrics.jsonl holds and the run's settings (recipe, base model, data hashes)."""

from __future__ import annotations

import pytest

from helpers import tiny_recipe
from tuneforge.recipe.loading import load_recipe
from tuneforge.runs import read_manifest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tracked_run(tiny_llama_dir, tmp_path_factory):
    import os

    from tuneforge.train.finetune import train_recipe

    tmp = tmp_path_factory.mktemp("tracked")
    for chosen_elsewhere in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "TENSORBOARD_LOGGING_DIR"):
        assert chosen_elsewhere not in os.environ, f"{chosen_elsewhere} would move the trackers' files"
    recipe = tiny_recipe(
        tmp, tiny_llama_dir, max_steps=4, eval_steps=2, save_steps=4, report_to=["tensorboard", "mlflow"]
    )
    loaded, source = load_recipe(recipe)
    return train_recipe(loaded, source, tmp / "runs", resume="none")


def logged_losses(run_dir) -> list[tuple[int, float]]:
    from tuneforge.train.callbacks import read_metrics

    return [(record["step"], record["loss"]) for record in read_metrics(run_dir / "metrics.jsonl") if "loss" in record]


def test_tensorboard_events_hold_the_loss_curve_and_the_settings(tracked_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    events = EventAccumulator(str(tracked_run / "logs"))
    events.Reload()
    curve = [(event.step, event.value) for event in events.Scalars("train/loss")]
    expected = logged_losses(tracked_run)
    assert [step for step, _ in curve] == [step for step, _ in expected] == [1, 2, 3, 4]
    assert [value for _, value in curve] == pytest.approx([value for _, value in expected], rel=1e-5)
    assert "eval/loss" in events.Tags()["scalars"]
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    hparams = HParamsPluginData.FromString(content).session_start_info.hparams
    manifest = read_manifest(tracked_run)
    assert hparams["recipe.name"].string_value == "tiny"
    assert hparams["recipe.lora.r"].number_value == 8
    identity = manifest["base_model"]["identity"]["config_sha256"]  # a local folder: its config's hash
    assert hparams["base_model.identity.config_sha256"].string_value == identity


def test_mlflow_file_store_holds_the_params_and_every_metric_in_one_run(tracked_run, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 reads its file store behind this opt-in
    from mlflow.tracking import MlflowClient

    manifest = read_manifest(tracked_run)
    tracked = manifest["tracking"]["mlflow"]
    assert tracked["tracking_uri"] == (tracked_run / "mlruns").resolve().as_uri()
    client = MlflowClient(tracking_uri=tracked["tracking_uri"])
    run = client.get_run(tracked["run_id"])
    assert run.info.status == "FINISHED" and run.info.run_name == tracked_run.name
    params = run.data.params
    assert params["recipe.name"] == "tiny" and params["recipe.train.seed"] == "3407"
    assert params["recipe.train.method"] == "sft" and params["recipe.lora.alpha"] == "16"
    assert params["base_model.ref"] == manifest["base_model"]["ref"]
    assert params["data_splits.train.sha256"] == manifest["data_splits"]["train"]["sha256"]
    curve = client.get_metric_history(run.info.run_id, "loss")
    expected = logged_losses(tracked_run)
    assert [metric.step for metric in curve] == [step for step, _ in expected]
    assert [metric.value for metric in curve] == pytest.approx([value for _, value in expected], rel=1e-5)
    # The held-out loss measured after train() lands in the same run, not in a second one.
    held_out = client.get_metric_history(run.info.run_id, "eval_loss")
    assert held_out[-1].value == pytest.approx(manifest["metrics"]["held_out_loss_after"], rel=1e-5)
    experiment = client.get_experiment_by_name("tiny")
    assert [found.info.run_id for found in client.search_runs([experiment.experiment_id])] == [run.info.run_id]
