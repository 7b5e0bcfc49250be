"""Which changes a resumed run may carry (tuneforge.train.resume_changes), the table that names them, the
training facts a run records (tuneforge.train.fingerprint), and the continuity check of a resumed session
(tuneforge.train.continuity). Selection and refusal of runs: tests/unit/test_resume.py."""

from __future__ import annotations

import copy
import logging
import shutil

import pytest
from transformers import TrainerControl, TrainerState

from helpers import tiny_recipe, write_jsonl
from tuneforge.errors import UserError
from tuneforge.models import resolve_model
from tuneforge.recipe.loading import load_recipe
from tuneforge.train.continuity import ResumeContinuity, loss_band, loss_verdict
from tuneforge.train.distributed import World
from tuneforge.train.fingerprint import training_fingerprint
from tuneforge.train.resume_changes import (
    ABSENT,
    SAFE_CHANGES,
    change_record,
    change_table,
    changes_since,
    classify,
    flatten,
)

RECIPE = {
    "name": "tiny",
    "lora": {"r": 8, "alpha": 16, "target_modules": ["q_proj", "v_proj"]},
    "train": {"lr": 0.005, "max_steps": 6, "logging_steps": 1, "dpo": None, "distributed": {"timeout_s": 600}},
    "eval": {"held_out_loss": True, "persona": {"max_new_tokens": 96}},
}
FACTS = {"base_model": "m (identity 0a)", "data_sha256.train": "a" * 64, "global_batch": 4, "world_size": 1}


def edited(tree: dict, key: str, value) -> dict:
    """A copy of `tree` with one dotted key set (a null or absent section on the way becomes one)."""
    result = copy.deepcopy(tree)
    *sections, last = key.split(".")
    node = result
    for section in sections:
        if node.get(section) is None:
            node[section] = {}
        node = node[section]
    node[last] = value
    return result


def test_flatten_gives_dotted_keys_and_keeps_lists_and_empty_sections_whole():
    assert flatten({"a": {"b": 1, "c": [1, 2], "d": {}, "e": None}}) == {
        "a.b": 1,
        "a.c": [1, 2],
        "a.d": {},
        "a.e": None,
    }


@pytest.mark.parametrize(
    "key, new",
    [
        ("train.max_steps", 12),
        ("train.epochs", 3.0),
        ("train.logging_steps", 5),
        ("train.eval_steps", 50),
        ("train.save_steps", 2),
        ("train.save_total_limit", 5),
        ("train.report_to", ["tensorboard"]),
        ("train.early_stopping.patience", 4),
        ("train.distributed.timeout_s", 1200),
        ("eval.held_out_loss", False),
        ("eval.persona.max_new_tokens", 32),
        ("export.quants", ["q4_k_m"]),
        ("serve.port", 9000),
        ("description", "longer"),
    ],
)
def test_safe_changes_are_allowed(key, new):
    (change,) = changes_since(RECIPE, edited(RECIPE, key, new), FACTS, FACTS, checkpoint_step=3)
    assert change.key == key and change.new == new and change.safe


@pytest.mark.parametrize(
    "key, new",
    [
        ("train.lr", 0.001),
        ("lora.r", 16),
        ("lora.alpha", 32),
        ("lora.target_modules", ["q_proj"]),
        ("train.dpo.beta", 0.1),  # the method's settings
        ("model.base", "other"),
        ("data.split.seed", 7),
        ("train.optim", "sgd"),
        ("train.keep_best", True),  # not known to be safe: refused, as every key not listed
    ],
)
def test_changes_that_corrupt_the_run_are_refused(key, new):
    changes = changes_since(RECIPE, edited(RECIPE, key, new), FACTS, FACTS, checkpoint_step=3)
    assert key in [change.key for change in changes] and not any(change.safe for change in changes)


def test_facts_are_compared_like_recipe_keys():
    """World size may change while the global batch stays; a batch, data content or base model may not."""
    assert classify("world_size", 1, 2, 3).safe
    assert classify("strategy", "single", "fsdp2", 3).safe
    for key, old, new in [
        ("global_batch", 4, 8),
        ("data_sha256.train", "a" * 64, "b" * 64),
        ("tokenizer_sha256", "a" * 64, "b" * 64),
        ("base_model", "m (identity 0a)", "m (identity 0b)"),
    ]:
        assert not classify(key, old, new, 3).safe, key
    refused = classify("strategy", "ddp", "deepspeed", 3)
    assert not refused.safe and "DeepSpeed" in refused.note


def test_a_schedule_must_go_on_past_the_checkpoint():
    assert classify("train.max_steps", 6, 12, 4).safe
    ends_there = classify("train.max_steps", 6, 4, 4)
    assert not ends_there.safe and ends_there.note == "the checkpoint is at step 4: 4 steps leave nothing to train"
    assert classify("train.max_steps", 6, None, 4).safe  # the epochs decide; checked when training begins


def test_values_compare_parsed_not_as_text():
    assert changes_since({"a": 1.0, "b": [1, 2]}, {"b": [1, 2], "a": 1}, FACTS, FACTS, 3) == []
    (flag,) = changes_since({"a": True}, {"a": 1}, FACTS, FACTS, 3)  # YAML's true is no number
    assert (flag.old, flag.new) == (True, 1)


def test_keys_one_side_lacks_are_changes_and_unknown_ones_are_refused():
    old, new = {"train": {"lr": 0.1}}, {"train": {"lr": 0.1, "new_knob": 1}}
    (change,) = changes_since(old, new, FACTS, FACTS, 3)
    assert (change.key, change.old, change.new, change.safe) == ("train.new_knob", ABSENT, 1, False)
    assert change_record([change]) == {"train.new_knob": [None, 1]}


def test_every_safe_key_has_its_reason():
    assert all(reason.strip() for reason in SAFE_CHANGES.values())


def test_the_table_has_one_aligned_row_per_change():
    changes = [
        classify("train.lr", 0.005, 0.1, 3),
        classify("lora.target_modules", ["q_proj", "v_proj"], ["q_proj"], 3),
        classify("data_sha256.train", "a" * 64, "b" * 64, 3),
        classify("train.max_steps", 6, 2, 3),
    ]
    lines = change_table(changes).splitlines()
    assert lines[0].split() == ["key", "old", "new", "why"]
    assert lines[1].split() == ["train.lr", "0.005", "0.1"]
    assert lines[2].split() == ["lora.target_modules", "[q_proj,", "v_proj]", "[q_proj]"]
    assert lines[3].split() == ["data_sha256.train", "a" * 16, "b" * 16]  # enough of a sha256 to tell them apart
    assert lines[4].split()[:3] == ["train.max_steps", "6", "2"] and "nothing to train" in lines[4]
    assert len({line.index(line.split()[1]) for line in lines}) == 1, "the old values share a column"


def test_a_run_s_facts_follow_its_data_content_and_tokenizer(tiny_llama_dir, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_llama_dir, model)
    recipe, _ = load_recipe(tiny_recipe(tmp_path, model))
    facts = training_fingerprint(recipe, resolve_model(str(model)), World(), "single")
    assert facts["global_batch"] == 4 and facts["world_size"] == 1 and facts["data_sha256.val"] is None
    again = training_fingerprint(recipe, resolve_model(str(model)), World(), "single")
    assert again == facts
    write_jsonl(tmp_path / "data.jsonl", [{"conversations": []}])  # the same path, other content
    (model / "tokenizer_config.json").write_text("{}")
    now = training_fingerprint(recipe, resolve_model(str(model)), World(), "single")
    assert {key for key in facts if facts[key] != now[key]} == {"data_sha256.train", "tokenizer_sha256"}


def test_the_loss_band_is_the_window_widened_by_its_own_width():
    assert loss_band([2.0, 1.9, 2.1]) == pytest.approx((1.7, 2.3))
    assert loss_band([2.0]) == pytest.approx((1.8, 2.2))  # one loss: 10% of it on each side
    assert loss_verdict(2.25, [2.0, 1.9, 2.1])["in_line"] is True
    assert loss_verdict(4.0, [2.0, 1.9, 2.1])["in_line"] is False
    assert loss_verdict(4.0, [])["in_line"] is None


def trainer_state(global_step: int, max_steps: int) -> TrainerState:
    return TrainerState(global_step=global_step, max_steps=max_steps, is_world_process_zero=True)


def test_continuity_fails_a_session_that_does_not_begin_at_the_checkpoint():
    session: dict = {}
    check = ResumeContinuity(20, [2.0, 1.9], session)
    with pytest.raises(UserError, match="training began at step 0, not at the checkpoint's step 20"):
        check.on_train_begin(None, trainer_state(0, 40), TrainerControl())
    assert session["continuity"] == {"checkpoint_step": 20, "began_at_step": 0}


def test_continuity_reports_the_first_loss_against_the_losses_before_the_stop(caplog):
    session: dict = {}
    check = ResumeContinuity(20, [1.85, 2.10, 1.95], session)
    with caplog.at_level(logging.INFO, logger="tuneforge.train.continuity"):
        check.on_train_begin(None, trainer_state(20, 40), TrainerControl())
        check.on_log(None, trainer_state(20, 40), TrainerControl(), logs={"eval_loss": 1.9})  # not a training loss
        check.on_log(None, trainer_state(21, 40), TrainerControl(), logs={"loss": 1.93})
        check.on_log(None, trainer_state(22, 40), TrainerControl(), logs={"loss": 9.0})  # only the first is judged
    assert "resumed at step 20 of 40; first loss 1.93, in line with 1.85-2.1 before the stop" in caplog.text
    record = session["continuity"]
    assert record["in_line"] is True and record["first_loss"] == 1.93 and record["first_loss_step"] == 21
    assert record["began_at_step"] == 20 and record["band"] == pytest.approx([1.6, 2.35])


def test_a_first_loss_far_out_of_line_is_a_warning_naming_both(caplog):
    session: dict = {}
    check = ResumeContinuity(20, [1.85, 2.10, 1.95], session)
    check.on_train_begin(None, trainer_state(20, 40), TrainerControl())
    check.on_log(None, trainer_state(21, 40), TrainerControl(), logs={"loss": 10.4})
    (warning,) = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert "first loss 10.4, far out of line with 1.85-2.1 before the stop" in warning.getMessage()
    assert session["continuity"]["in_line"] is False
