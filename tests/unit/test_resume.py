"""Which run and checkpoint `--resume` picks, what it refuses, and what a failed run says about resuming.
A killed training run resuming from its checkpoint: tests/integration/test_resume_run.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import tiny_recipe
from tuneforge.errors import UserError
from tuneforge.recipe.loading import load_recipe, recipe_to_yaml, shipped_recipes
from tuneforge.runs import read_manifest
from tuneforge.train.distributed import World
from tuneforge.train.finetune import failure_recorded
from tuneforge.train.resume import select_resume


def make_run(root: Path, name: str, status: str, recipe_yaml: str, checkpoint_steps=()) -> Path:
    run = root / "tiny" / name
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"status": status}))
    (run / "recipe.resolved.yaml").write_text(recipe_yaml)
    for step in checkpoint_steps:
        (run / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True)
        (run / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    return run


def test_resume_selection_rules(tiny_llama_dir, tmp_path):
    recipe, _ = load_recipe(tiny_recipe(tmp_path, tiny_llama_dir))
    text = recipe_to_yaml(recipe)
    root = tmp_path / "runs"
    assert select_resume("auto", root, "tiny", text) is None  # nothing to resume
    finished = make_run(root, "20260101-000000", "complete", text, [3])
    assert select_resume("auto", root, "tiny", text) is None  # newest is complete
    unfinished = make_run(root, "20260102-000000", "running", text, [3, 6])
    (unfinished / "checkpoints" / "checkpoint-9").mkdir()  # half-written: no trainer_state.json
    assert select_resume("auto", root, "tiny", text) == (unfinished, unfinished / "checkpoints" / "checkpoint-6")
    assert select_resume("auto", root, "tiny", text.replace("lr: 0.005", "lr: 0.1")) is None  # other recipe
    assert select_resume("none", root, "tiny", text) is None
    assert select_resume(str(finished / "checkpoints" / "checkpoint-3"), root, "tiny", text)[1].name == "checkpoint-3"
    with pytest.raises(UserError, match="different recipe"):
        select_resume(str(unfinished), root, "tiny", text.replace("lr: 0.005", "lr: 0.1"))
    with pytest.raises(UserError, match="not a tuneforge run"):
        select_resume(str(tmp_path), root, "tiny", text)


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
