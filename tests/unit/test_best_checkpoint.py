"""train.early_stopping and train.keep_best: the recipe checks that run before any model loads, the trainer
arguments every method gets (the held-out measure and its direction), and the marks on the loss plot. The
runs that really stop early and keep the best adapter: tests/integration/test_best_checkpoint_run.py."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from helpers import tiny_recipe, write_jsonl, write_recipe
from tuneforge.cli import main
from tuneforge.errors import UserError
from tuneforge.recipe.loading import load_recipe
from tuneforge.train.best_checkpoint import best_checkpoint_arguments, early_stopping_callbacks
from tuneforge.train.callbacks import loss_figure, step_marks
from tuneforge.train.distributed import World
from tuneforge.train.engine import sft_config, training_arguments


def dry_run(*overrides: str):
    arguments = [arg for override in overrides for arg in ("-o", override)]
    return CliRunner().invoke(main, ["train", "quickstart", "--dry-run", *arguments])


def test_early_stopping_and_keep_best_need_a_validation_split_and_eval_steps():
    result = dry_run(
        "train.early_stopping.patience=2",
        "train.keep_best=true",
        "data.split.val=0",
        "eval.held_out_loss=false",
        "train.eval_steps=null",
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    for key in ("early_stopping", "keep_best"):
        assert f"train.{key}: needs a validation split to measure; set data.split.val > 0" in result.output
        assert f"train.{key}: needs train.eval_steps" in result.output
    assert "4 problem(s)" in result.output


def test_keep_best_needs_save_steps_a_multiple_of_eval_steps_and_says_which():
    result = dry_run("train.keep_best=true", "train.eval_steps=30", "train.save_steps=100")
    assert result.exit_code == 2
    assert "train.keep_best: train.save_steps (100) must be a multiple of train.eval_steps (30)" in result.output
    assert "set train.save_steps: 90, or train.eval_steps to a divisor of 100" in result.output


def test_early_stopping_alone_takes_any_save_steps_and_its_settings_are_checked():
    assert dry_run("train.early_stopping={}", "train.eval_steps=30", "train.save_steps=100").exit_code == 0
    result = dry_run("train.early_stopping.patience=0")
    assert result.exit_code == 2 and "train.early_stopping.patience" in result.output


@pytest.fixture
def judged_recipe(tmp_path, tiny_llama_dir):
    """A tiny SFT recipe with both switched on (eval_steps 3 = save_steps 3)."""
    recipe, _ = load_recipe(
        tiny_recipe(tmp_path, tiny_llama_dir), ["train.keep_best=true", "train.early_stopping={patience: 2}"]
    )
    return recipe


def test_the_trainer_judges_by_the_held_out_loss_where_lower_is_better(judged_recipe, tmp_path):
    config = sft_config(judged_recipe, tmp_path / "checkpoints", has_val=True)  # transformers' own checks pass
    assert config.metric_for_best_model == "eval_loss" and config.greater_is_better is False
    assert config.load_best_model_at_end is True
    stopper, counted = early_stopping_callbacks(judged_recipe.train)
    assert stopper.early_stopping_patience == 2 and stopper.early_stopping_threshold == 0.0
    assert counted.stopper is stopper  # takes the patience counter of a resumed checkpoint


def test_a_resumed_session_counts_on_from_the_checkpoint_with_the_recipe_s_patience(judged_recipe):
    from transformers import TrainerControl, TrainerState

    stopper, counted = early_stopping_callbacks(judged_recipe.train)
    saved = {"args": {"early_stopping_patience": 9, "early_stopping_threshold": 0.5}, "attributes": {}}
    saved["attributes"]["early_stopping_patience_counter"] = 1
    resumed = TrainerState(stateful_callbacks={"EarlyStoppingCallback": saved})  # as read from trainer_state.json
    counted.on_train_begin(None, resumed, TrainerControl())
    assert stopper.early_stopping_patience_counter == 1 and stopper.early_stopping_patience == 2


def test_early_stopping_turned_on_when_resuming_starts_counting_and_gets_saved(judged_recipe):
    from transformers import TrainerControl, TrainerState

    stopper, counted = early_stopping_callbacks(judged_recipe.train)
    resumed = TrainerState(stateful_callbacks={"TrainerControl": TrainerControl().state()})  # a run without it
    counted.on_train_begin(None, resumed, TrainerControl())
    assert stopper.early_stopping_patience_counter == 0
    assert resumed.stateful_callbacks["EarlyStoppingCallback"] == stopper.state()  # the checkpoint save updates it


def test_grpo_is_judged_by_its_held_out_reward_where_higher_is_better(tmp_path):
    data = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": f"Say {i}.", "reference": str(i)} for i in range(20)])
    path = write_recipe(
        tmp_path / "g.yaml",
        {
            "name": "g",
            "data": {"format": "prompts", "train": data.name, "split": {"val": 0.2}},
            "train": {
                "method": "grpo",
                "batch_size": 4,
                "eval_steps": 5,
                "save_steps": 10,
                "keep_best": True,
                "early_stopping": {"patience": 1, "min_delta": 0.05},
                "grpo": {"num_generations": 2, "rewards": [{"name": "chrf"}]},
            },
        },
    )
    recipe, _ = load_recipe(path)
    arguments = training_arguments(recipe, tmp_path / "checkpoints", True, World(), {})
    assert arguments["metric_for_best_model"] == "eval_reward" and arguments["greater_is_better"] is True


def test_an_empty_validation_split_is_a_user_error_not_a_trainer_assertion(judged_recipe):
    with pytest.raises(UserError, match=r"train.early_stopping: the validation split has no samples"):
        best_checkpoint_arguments(judged_recipe, evaluates=False)


def test_without_them_the_trainer_keeps_its_own_defaults(tmp_path, tiny_llama_dir):
    recipe, _ = load_recipe(tiny_recipe(tmp_path, tiny_llama_dir))
    assert best_checkpoint_arguments(recipe, evaluates=True) == {}
    assert early_stopping_callbacks(recipe.train) == []


def test_the_loss_plot_marks_the_best_and_the_stopped_step_with_a_legend_entry_each():
    records = [{"step": s, "loss": 2.0 - 0.1 * s} for s in range(1, 9)]
    records += [{"step": s, "eval_loss": 2.0 - 0.05 * s} for s in (2, 4, 6, 8)]
    figure = loss_figure(records, "tiny / run", step_marks(best_step=4, stopped_step=8))
    (axes,) = figure.axes
    vertical = {line.get_xdata()[0] for line in axes.get_lines() if len(set(line.get_xdata())) == 1}
    assert vertical == {4, 8}
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == ["train loss", "held-out loss", "best held-out measure (step 4)", "early stop (step 8)"]


def test_grpo_s_reward_panel_carries_the_marks_too():
    records = [{"step": s, "loss": 0.1, "rewards/chrf/mean": 0.2 * s, "eval_reward": 0.3} for s in (1, 2, 3)]
    figure = loss_figure(records, "g / run", step_marks(best_step=2, stopped_step=None))
    assert len(figure.axes) == 2
    for axes in figure.axes:
        assert "best held-out measure (step 2)" in [text.get_text() for text in axes.get_legend().get_texts()]
