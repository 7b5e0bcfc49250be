"""Which run and checkpoint `--resume` picks, what it refuses, what a resumed run folder becomes, and what a
failed run says about resuming. Which changes are safe: tests/unit/test_resume_changes.py. A killed training
run resuming from its checkpoint, and resumes through the CLI: tests/integration/test_resume_run.py."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml

from helpers import tiny_recipe
from tuneforge.errors import UserError
from tuneforge.models import resolve_model
from tuneforge.recipe.loading import load_recipe, recipe_to_yaml, shipped_recipes
from tuneforge.runs import read_manifest
from tuneforge.train.distributed import World
from tuneforge.train.finetune import failure_recorded
from tuneforge.train.fingerprint import training_fingerprint
from tuneforge.train.resume import open_run, select_resume


def make_run(root: Path, name: str, status: str, recipe_yaml: str, checkpoint_steps=(), facts=None) -> Path:
    """A run folder as training leaves it: manifest, resolved recipe, checkpoints with their trainer state."""
    run = root / "tiny" / name
    run.mkdir(parents=True)
    manifest = {"status": status} | ({"trained_with": facts} if facts is not None else {})
    (run / "manifest.json").write_text(json.dumps(manifest))
    (run / "recipe.resolved.yaml").write_text(recipe_yaml)
    for step in checkpoint_steps:
        (run / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True)
        (run / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").write_text(
            json.dumps({"global_step": step})
        )
    return run


def changed(text: str, key: str, value) -> str:
    """The resolved recipe `text` with one dotted key set to `value`."""
    tree = yaml.safe_load(text)
    *sections, last = key.split(".")
    node = tree
    for section in sections:
        node = node[section]
    node[last] = value
    return yaml.safe_dump(tree, sort_keys=False)


@pytest.fixture
def tiny(tiny_llama_dir, tmp_path):
    """A tiny recipe, its source, its resolved text and its training facts on one process."""
    recipe, source = load_recipe(tiny_recipe(tmp_path, tiny_llama_dir))
    facts = training_fingerprint(recipe, resolve_model(str(tiny_llama_dir)), World(), "single")
    return recipe, source, recipe_to_yaml(recipe), facts


def test_resume_selection_rules(tiny, tmp_path):
    _, _, text, facts = tiny
    root = tmp_path / "runs"
    assert select_resume("auto", root, "tiny", text, facts) is None  # nothing to resume
    finished = make_run(root, "20260101-000000", "complete", text, [3], facts)
    assert select_resume("auto", root, "tiny", text, facts) is None  # newest is complete
    unfinished = make_run(root, "20260102-000000", "running", text, [3, 6], facts)
    (unfinished / "checkpoints" / "checkpoint-9").mkdir()  # half-written: no trainer_state.json
    assert select_resume("auto", root, "tiny", text, facts) == (
        unfinished,
        unfinished / "checkpoints" / "checkpoint-6",
        [],
    )
    assert select_resume("auto", root, "tiny", changed(text, "train.lr", 0.1), facts) is None  # refused change
    assert select_resume("none", root, "tiny", text, facts) is None
    picked = select_resume(str(finished / "checkpoints" / "checkpoint-3"), root, "tiny", text, facts)
    assert picked[1].name == "checkpoint-3"
    with pytest.raises(UserError, match="not a tuneforge run"):
        select_resume(str(tmp_path), root, "tiny", text, facts)


def test_auto_resumes_across_safe_changes(tiny, tmp_path):
    _, _, text, facts = tiny
    run = make_run(tmp_path / "runs", "1", "interrupted", text, [3], facts)
    longer = changed(changed(text, "train.max_steps", 12), "train.logging_steps", 2)
    picked = select_resume("auto", tmp_path / "runs", "tiny", longer, facts | {"world_size": 2})
    assert picked[0] == run
    assert {change.key: (change.old, change.new) for change in picked[2]} == {
        "train.max_steps": (6, 12),
        "train.logging_steps": (1, 2),
        "world_size": (1, 2),  # the global batch stayed the same
    }


def test_auto_starts_a_new_run_over_a_refused_change_and_logs_the_table(tiny, tmp_path, caplog):
    _, _, text, facts = tiny
    run = make_run(tmp_path / "runs", "1", "interrupted", text, [3], facts)
    with caplog.at_level(logging.INFO):
        assert select_resume("auto", tmp_path / "runs", "tiny", changed(text, "lora.r", 16), facts) is None
    assert f"not resuming {run}, starting a new run" in caplog.text
    row = next(line for line in caplog.text.splitlines() if line.strip().startswith("lora.r"))
    assert row.split() == ["lora.r", "8", "16"]


@pytest.mark.parametrize(
    "key, old, new",
    [
        ("train.lr", "0.005", "0.1"),
        ("lora.r", "8", "16"),
        ("data.split.seed", "42", "7"),
        ("train.method", "sft", "dpo"),
    ],
)
def test_an_explicit_resume_refuses_a_change_that_corrupts_the_run(tiny, tmp_path, key, old, new):
    _, _, text, facts = tiny
    run = make_run(tmp_path / "runs", "1", "interrupted", text, [3], facts)
    with pytest.raises(UserError) as refused:
        select_resume(str(run), tmp_path / "runs", "tiny", changed(text, key, yaml.safe_load(new)), facts)
    message = refused.value.render()
    assert "would corrupt the run" in message and "--resume none" in message
    assert [line.split() for line in message.splitlines() if line.strip().startswith(key)] == [[key, old, new]]


@pytest.mark.parametrize(
    "fact, new",
    [
        ("data_sha256.train", "0" * 64),  # the same file, other content
        ("tokenizer_sha256", "1" * 64),
        ("base_model", "other (identity 0123456789abcdef)"),
        ("global_batch", 8),
        ("strategy", "deepspeed"),
    ],
)
def test_an_explicit_resume_refuses_changed_training_facts(tiny, tmp_path, fact, new):
    _, _, text, facts = tiny
    run = make_run(tmp_path / "runs", "1", "interrupted", text, [3], facts)
    with pytest.raises(UserError, match=f"(?m)^  {fact} "):
        select_resume(str(run), tmp_path / "runs", "tiny", text, facts | {fact: new})


def test_a_shorter_schedule_than_the_checkpoint_is_refused(tiny, tmp_path):
    _, _, text, facts = tiny
    run = make_run(tmp_path / "runs", "1", "interrupted", text, [3], facts)
    with pytest.raises(UserError, match="the checkpoint is at step 3: 3 steps leave nothing to train"):
        select_resume(str(run), tmp_path / "runs", "tiny", changed(text, "train.max_steps", 3), facts)


def test_a_run_without_recorded_facts_resumes_only_the_same_recipe(tiny, tmp_path):
    """An older tuneforge recorded no facts: its recipe must be the same, though its keys may be in another order."""
    _, _, text, facts = tiny
    reordered = yaml.safe_dump(yaml.safe_load(text), sort_keys=True)
    assert reordered != text
    run = make_run(tmp_path / "runs", "1", "interrupted", reordered, [3])
    assert select_resume(str(run), tmp_path / "runs", "tiny", text, facts)[2] == []
    with pytest.raises(UserError, match="an older tuneforge made it"):
        select_resume(str(run), tmp_path / "runs", "tiny", changed(text, "train.max_steps", 12), facts)


def test_a_resumed_run_takes_the_new_recipe_and_facts(tiny, tiny_llama_dir, tmp_path):
    _, source, text, facts = tiny
    run = make_run(tmp_path / "runs", "1", "interrupted", text, [2, 4], facts)
    losses = [{"step": step, "loss": 3.0 - step / 10} for step in range(1, 7)] + [{"step": 4, "eval_loss": 2.0}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(record) + "\n" for record in losses))
    longer, _ = load_recipe(tiny_recipe(tmp_path, tiny_llama_dir, max_steps=12))
    run_dir, checkpoint, manifest, resumed = open_run(longer, source, tmp_path / "runs", "auto", None, facts)
    assert (run_dir, checkpoint.name) == (run, "checkpoint-4")
    assert resumed.checkpoint_step == 4 and resumed.changed == {"train.max_steps": [6, 12]}
    assert resumed.losses_before == pytest.approx([2.9, 2.8, 2.7, 2.6])  # what was logged up to the checkpoint
    assert yaml.safe_load((run / "recipe.resolved.yaml").read_text())["train"]["max_steps"] == 12
    assert read_manifest(run) == manifest and manifest["status"] == "running" and manifest["trained_with"] == facts
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3, 4, 4]


def test_a_failed_run_says_how_to_resume_it(tmp_path, caplog):
    """The recipe is named as the user names it: a shipped one by its name, any other by its file."""
    run = make_run(tmp_path / "runs", "20260101-000000", "running", "", [3])
    mine = tmp_path / "mine.yaml"
    for source, named in ((shipped_recipes()["quickstart"], "quickstart"), (mine, str(mine))):
        caplog.clear()
        with pytest.raises(RuntimeError, match="boom"), failure_recorded(run, {"status": "running"}, source, World()):
            raise RuntimeError("boom")
        assert f"`tuneforge train {named} --resume {run}` continues from its last checkpoint" in caplog.text
    assert read_manifest(run) == {"status": "failed", "error": "RuntimeError: boom"}
