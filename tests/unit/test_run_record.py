"""Runs and exports that stand alone: a finished run's recipe validated as a record (its paths need not exist),
the run's own copies of what its evaluation reads (RunFolder.input), and an export folder served without
its run. The whole path, trained, moved and served: tests/integration/test_standalone_run.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import full_precision_recipe, sharegpt_records, write_jsonl, write_recipe
from tuneforge.errors import UserError
from tuneforge.export.pipeline import ArtifactBook, write_manifest
from tuneforge.files import write_json_atomic, write_text_atomic
from tuneforge.recipe.loading import load_recipe, read_yaml, recipe_to_yaml
from tuneforge.recipe.validate import validate_recipe
from tuneforge.run_folder import INPUTS_DIR, RunFolder, carry_inputs, evaluation_inputs
from tuneforge.runs import MANIFEST, RESOLVED_RECIPE
from tuneforge.serve.exports import find_export, pick_gguf
from tuneforge.targets import EXPORT_MANIFEST
from tuneforge.tasks.persona.evaluate import PROMPTS_INPUT, probe_prompts
from tuneforge.tasks.style.evaluate import author_corpus


def persona_recipe(tmp_path: Path, **model) -> Path:
    """A recipe with a data file, probe prompts and (given `adapter`) a parent run: every path a record keeps."""
    folder = tmp_path / "user"
    write_jsonl(folder / "chats.jsonl", sharegpt_records(4))
    write_jsonl(folder / "probes.jsonl", [{"prompt": "Who are you?"}, {"prompt": "Hello?"}])
    body = {
        "name": "alone",
        "model": model,
        "data": {"format": "sharegpt", "train": "chats.jsonl"},
        "eval": {"persona": {"prompts": "probes.jsonl", "name_markers": ["Captain Test"]}},
    }
    return write_recipe(folder / "alone.yaml", body)


def parent_run(tmp_path: Path) -> Path:
    parent = tmp_path / "runs" / "first" / "1"
    write_json_atomic(parent / "adapter" / "adapter_config.json", {})
    return parent


def resolved(recipe_path: Path, where: Path) -> Path:
    """The recipe as a run keeps it (recipe.resolved.yaml: every path absolute), in another folder."""
    recipe, _ = load_recipe(recipe_path)
    write_text_atomic(where / RESOLVED_RECIPE, recipe_to_yaml(recipe))
    return where / RESOLVED_RECIPE


def test_a_record_s_paths_need_not_exist(tmp_path):
    parent = parent_run(tmp_path)
    source = resolved(persona_recipe(tmp_path, adapter=str(parent)), tmp_path / "run")
    shutil.rmtree(tmp_path / "user")
    shutil.rmtree(parent)
    raw = read_yaml(source)
    recipe = validate_recipe(raw, source, record=True)
    assert recipe.data.train == [tmp_path / "user" / "chats.jsonl"] and recipe.model.adapter == parent
    assert recipe.eval.persona.prompts == tmp_path / "user" / "probes.jsonl"
    with pytest.raises(UserError) as caught:  # training checks them all
        validate_recipe(raw, source)
    message = caught.value.render()
    assert "chats.jsonl" in message and "probes.jsonl" in message and str(parent) in message


def test_a_record_is_otherwise_checked_as_usual(tmp_path):
    source = resolved(persona_recipe(tmp_path), tmp_path / "run")
    raw = read_yaml(source)
    raw["train"]["lrr"] = 0.1
    raw["lora"]["r"] = 0
    raw["data"]["train"].append("hub:not a hub id")
    with pytest.raises(UserError) as caught:
        validate_recipe(raw, source, record=True)
    message = caught.value.render()
    assert "train.lrr" in message and "lora.r" in message and "not a hub dataset id" in message


def test_a_record_s_custom_reward_file_need_not_exist(tmp_path):
    (tmp_path / "mine.py").write_text("def score(completions, **rows):\n    return [1.0] * len(completions)\n")
    data = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": f"Say hi {n}"} for n in range(10)])
    rewards = [{"name": "custom", "function": "mine.py:score"}]
    schedule = {"method": "grpo", "batch_size": 4, "grpo": {"rewards": rewards}}
    data_section = {"format": "prompts", "train": data.name, "split": {"val": 0.2}}
    source = resolved(full_precision_recipe(tmp_path, "rewarded", tmp_path, data_section, schedule), tmp_path / "run")
    (tmp_path / "mine.py").unlink()
    recipe = validate_recipe(read_yaml(source), source, record=True)
    assert recipe.train.grpo.rewards[0].function == f"{tmp_path / 'mine.py'}:score"
    with pytest.raises(UserError, match="mine.py"):
        validate_recipe(read_yaml(source), source)


def run_with_inputs(tmp_path: Path, carried: bool = True) -> Path:
    """A run folder as training leaves it, with (or, trained by an older version, without) its inputs."""
    recipe, _ = load_recipe(persona_recipe(tmp_path))
    run = tmp_path / "runs" / "alone" / "1"
    write_text_atomic(run / RESOLVED_RECIPE, recipe_to_yaml(recipe))
    manifest = {"status": "complete", "recipe": "alone"}
    if carried:
        manifest["inputs"] = carry_inputs(run, evaluation_inputs(recipe))
    write_json_atomic(run / MANIFEST, manifest)
    return run


def test_training_copies_what_the_evaluation_reads_and_the_run_reads_its_copy(tmp_path):
    run_dir = run_with_inputs(tmp_path)
    original = tmp_path / "user" / "probes.jsonl"
    entry = json.loads((run_dir / MANIFEST).read_text())["inputs"][PROMPTS_INPUT]
    assert entry["source"] == str(original) and len(entry["sha256"]) == 64
    moved = shutil.move(run_dir, tmp_path / "elsewhere")
    shutil.rmtree(tmp_path / "user")  # data, prompts and recipe gone
    run = RunFolder(Path(moved))
    assert run.input(PROMPTS_INPUT, run.recipe.eval.persona.prompts) == Path(moved) / INPUTS_DIR / PROMPTS_INPUT
    assert probe_prompts(run) == ["Who are you?", "Hello?"]


def test_a_damaged_copy_is_refused_by_name(tmp_path):
    run = RunFolder(run_with_inputs(tmp_path))
    copy = run.path / INPUTS_DIR / PROMPTS_INPUT
    copy.write_text('{"prompt": "edited"}\n')
    with pytest.raises(UserError) as caught:
        probe_prompts(run)
    assert f"{copy}: missing or changed since training" in caught.value.render()


def test_a_run_without_copies_reads_the_original_while_it_exists(tmp_path):
    run = RunFolder(run_with_inputs(tmp_path, carried=False))
    original = tmp_path / "user" / "probes.jsonl"
    assert not run.carries_inputs and not (run.path / INPUTS_DIR).exists()
    assert run.input(PROMPTS_INPUT, original) == original and probe_prompts(run) == ["Who are you?", "Hello?"]
    original.unlink()
    with pytest.raises(UserError) as caught:
        RunFolder(run.path).input(PROMPTS_INPUT, original)
    message = caught.value.render()
    assert f"{original}: not found" in message and f"restore it at {original}, or train the run again" in message


def test_an_eval_time_override_reads_the_file_it_names(tmp_path):
    run = RunFolder(run_with_inputs(tmp_path))
    other = write_jsonl(tmp_path / "other.jsonl", [{"prompt": "Other?"}])
    assert run.input(PROMPTS_INPUT, other) == other  # not the file the run copied under that name


def test_a_style_run_keeps_the_author_s_articles_and_a_single_article_s_meta(tmp_path):
    user = tmp_path / "user"
    (user / "articles" / "one").mkdir(parents=True)
    (user / "articles" / "one" / "index.md").write_text("# One\n\nThe first article, in a folder.\n")
    (user / "articles" / "one" / "meta.json").write_text('{"title": "One"}')
    (user / "single").mkdir()
    (user / "single" / "post.md").write_text("# Two\n\nThe second article, on its own.\n")
    (user / "single" / "post.meta.json").write_text('{"title": "Two"}')
    data = {"format": "markdown", "train": ["articles", "single/post.md"], "split": {"val": 0.2}}
    recipe, _ = load_recipe(write_recipe(user / "prose.yaml", {"name": "prose", "data": data, "eval": {"style": {}}}))
    inputs = evaluation_inputs(recipe)
    assert inputs == {
        "style-articles-1": user / "articles",
        "style-articles-2.md": user / "single" / "post.md",
        "style-articles-2.meta.json": user / "single" / "post.meta.json",
    }
    run = tmp_path / "runs" / "prose" / "1"
    write_text_atomic(run / RESOLVED_RECIPE, recipe_to_yaml(recipe))
    write_json_atomic(run / MANIFEST, {"status": "complete", "recipe": "prose", "inputs": carry_inputs(run, inputs)})
    shutil.rmtree(user)
    corpus = author_corpus(RunFolder(run))
    assert len(corpus) == 2 and "in a folder" in corpus[0] and "on its own" in corpus[1]


def exported_run(tmp_path: Path) -> Path:
    """A run with a finished export holding one (fake) GGUF, made by the export pipeline's own book-keeping."""
    run = RunFolder(run_with_inputs(tmp_path))
    (run.path / "export").mkdir()
    book = ArtifactBook(run.path / "export", {"adapter_sha256": "x"})
    gguf = run.path / "export" / "alone.Q8_0.gguf"
    book.make("q8_0", gguf, lambda: gguf.write_bytes(b"GGUF fake"))
    write_manifest(book, run, None)
    return run.path / "export"


def test_an_export_folder_copied_alone_is_found_with_its_recipe(tmp_path):
    export_dir = exported_run(tmp_path)
    entry = json.loads((export_dir / EXPORT_MANIFEST).read_text())["resolved_recipe"]
    assert entry["file"] == RESOLVED_RECIPE and (export_dir / RESOLVED_RECIPE).is_file()
    alone = Path(shutil.copytree(export_dir, tmp_path / "shipped" / "model"))
    shutil.rmtree(tmp_path / "runs")
    shutil.rmtree(tmp_path / "user")
    export = find_export(str(alone), tmp_path / "runs")
    assert export.folder == alone and export.recipe.name == "alone"
    assert pick_gguf(export, None) == alone / "alone.Q8_0.gguf"  # verified against export.json
    (alone / RESOLVED_RECIPE).write_text((alone / RESOLVED_RECIPE).read_text().replace("alone", "other"))
    with pytest.raises(UserError, match="recipe.resolved.yaml: missing or changed since export"):
        find_export(str(alone), tmp_path / "runs")


def test_an_export_made_before_exports_carried_a_recipe_reads_its_run_s(tmp_path):
    export_dir = exported_run(tmp_path)
    manifest = json.loads((export_dir / EXPORT_MANIFEST).read_text())
    del manifest["resolved_recipe"]
    write_json_atomic(export_dir / EXPORT_MANIFEST, manifest)
    (export_dir / RESOLVED_RECIPE).unlink()
    shutil.rmtree(tmp_path / "user")  # the run's recipe is a record there too
    assert find_export(str(export_dir.parent), tmp_path / "runs").recipe.name == "alone"
    alone = Path(shutil.copytree(export_dir, tmp_path / "shipped" / "model"))
    with pytest.raises(UserError, match="made by an older tuneforge, without its recipe"):
        find_export(str(alone), tmp_path / "runs")
