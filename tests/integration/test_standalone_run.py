"""A finished run stands alone: trained as a second stage (model.adapter) with a data file and probe prompts,
then moved elsewhere while its data, prompts, recipes and parent run are deleted, it still evaluates,
exports and measures its GGUF; its export folder, copied alone, still serves (llama.cpp on 127.0.0.1,
asked through the official openai client) and predicts. Everything through the real CLI. The pieces:
tests/unit/test_standalone_run.py."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import sharegpt_records, write_jsonl, write_recipe
from serving import children_of, wait_gone
from tuneforge.cli import main

pytestmark = pytest.mark.integration
TUNEFORGE = str(Path(sys.executable).parent / "tuneforge")  # the installed console script
SCHEDULE = {"max_steps": 2, "batch_size": 4, "grad_accum": 1, "lr": 5e-3, "eval_steps": None, "save_steps": 2}


def stage_recipe(folder: Path, name: str, model_dir: Path, **model) -> Path:
    """A tiny full-precision recipe reading the user's data file and probe prompts (relative to the recipe)."""
    body = {
        "name": name,
        "model": {"base": str(model_dir), "max_seq_length": 128, "load_in_4bit": False, **model},
        "lora": {"r": 8, "alpha": 16},
        "data": {"format": "sharegpt", "train": "chats.jsonl", "split": {"val": 0.25}},
        "train": {**SCHEDULE, "logging_steps": 1, "warmup_ratio": 0.0},
        "eval": {"persona": {"prompts": "probes.jsonl", "name_markers": ["Captain Test"], "max_new_tokens": 4}},
    }
    return write_recipe(folder / f"{name}.yaml", body)


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def train(recipe: Path, runs: Path) -> Path:
    return Path(invoke("train", str(recipe), "--runs-dir", str(runs), "--resume", "none").strip().splitlines()[-1])


@pytest.fixture(scope="module")
def moved_run(tiny_llama_dir, tmp_path_factory):
    """The second stage's run folder moved away from everything it was made from."""
    tmp = tmp_path_factory.mktemp("standalone")
    user, runs = tmp / "user", tmp / "runs"
    write_jsonl(user / "chats.jsonl", sharegpt_records(16))
    write_jsonl(user / "probes.jsonl", [{"prompt": "Who are you?"}, {"prompt": "Where are we sailing?"}])
    parent = train(stage_recipe(user, "first", tiny_llama_dir), runs)
    run = train(stage_recipe(user, "second", tiny_llama_dir, adapter=str(parent)), runs)
    moved = Path(shutil.move(run, tmp / "elsewhere" / "second-run"))
    shutil.rmtree(user)  # the data file, the probe prompts and both recipes
    shutil.rmtree(runs)  # the parent run
    return moved, parent, user


def test_a_moved_run_evaluates_from_its_own_copies(moved_run):
    run, parent, user = moved_run
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["parent"]["run"] == str(parent) and not parent.exists()
    assert manifest["inputs"]["persona-prompts.jsonl"]["source"] == str(user / "probes.jsonl")
    assert (run / "inputs" / "persona-prompts.jsonl").is_file()
    invoke("eval", str(run))
    results = json.loads((run / "eval" / "results.json").read_text())
    persona = results["persona"]["without_system_prompt"]
    assert persona["base"]["replies"] == persona["tuned"]["replies"] == 2
    assert results["held_out_loss"]["after"] is not None


def test_a_moved_run_exports_and_measures_its_gguf(moved_run):
    run, _, _ = moved_run
    invoke("export", str(run), "--format", "gguf", "--quant", "f16")
    exported = json.loads((run / "export" / "export.json").read_text())
    assert "f16" in exported["artifacts"] and exported["resolved_recipe"]["file"] == "recipe.resolved.yaml"
    invoke("eval", str(run), "--artifact", "gguf:f16")
    measured = json.loads((run / "eval" / "artifacts" / "gguf-f16.json").read_text())["tasks"]["persona"]
    assert measured["metric"] == "persona_share" and measured["samples"] == 2


def test_an_export_folder_copied_alone_serves_and_predicts(moved_run, tmp_path):
    run, _, _ = moved_run
    if not (run / "export" / "export.json").is_file():
        invoke("export", str(run), "--format", "gguf", "--quant", "f16")
    alone = Path(shutil.copytree(run / "export", tmp_path / "shipped" / "second"))
    hidden = run.rename(run.with_name("hidden"))  # nothing of the run but this copy of its export is there
    try:
        predict_and_serve(alone, tmp_path)
    finally:
        hidden.rename(run)


def predict_and_serve(alone: Path, tmp_path: Path) -> None:
    import openai

    requests = write_jsonl(tmp_path / "requests.jsonl", [{"id": "a", "prompt": "Hello?"}])
    invoke("predict", str(alone), "--input", str(requests), "--output", str(tmp_path / "out.jsonl"))
    (answer,) = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert answer["id"] == "a" and answer["model"] and answer["usage"]["completion_tokens"] > 0
    server = subprocess.Popen(
        [TUNEFORGE, "serve", str(alone), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        banner = server.stdout.readline()
        found = re.match(r"serving second \(llamacpp, \w+\) at (http://127\.0\.0\.1:\d+/v1)", banner)
        assert found, banner
        client = openai.OpenAI(base_url=found[1], api_key="none", max_retries=0, timeout=120)
        reply = client.chat.completions.create(
            model="second", messages=[{"role": "user", "content": "Ahoy?"}], max_tokens=8, temperature=0
        )
        assert reply.usage.completion_tokens > 0 and isinstance(reply.choices[0].message.content, str)
    finally:
        children = children_of(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        assert wait_gone(children) == []


def test_a_moved_run_compares_its_persona_replies(moved_run):
    from helpers import assert_compares_with_itself

    run, _, _ = moved_run
    comparison = assert_compares_with_itself(run)
    assert comparison["tasks"]["persona"]["items"]["b"] == 2  # two probe prompts, without a system prompt
    assert_compares_with_itself(run, "adapter")
