"""Does it stop, on real artifacts: the embedded quickstart run (conftest `embedded_export`) and its
Q8_0 GGUF on llama-server end their replies to the held-out prompts alike; a copy whose merged export
names another end-of-turn id in its generation_config.json (the damage behind "my merged model never
stops"; export.json recording it, as an export that produced it would) answers but runs on to the budget,
and the export's gate (export.max_stop_drop) names it."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from tuneforge.cli import main
from tuneforge.evaluate.artifact import stop_failures
from tuneforge.files import sha256_file

pytestmark = pytest.mark.integration
NEVER_GENERATED = "<gh_stars>"  # a code-corpus marker of SmolLM2's vocabulary: no chat reply emits it


@pytest.fixture(scope="module")
def damaged_copy(embedded_export, tmp_path_factory):
    run = embedded_export.parent
    copy = tmp_path_factory.mktemp("stop-check") / "runs" / "quickstart" / run.name
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("checkpoints", "vllm", "eval"))
    config_path = copy / "export" / "merged" / "generation_config.json"
    config = json.loads(config_path.read_text())
    tokenizer_config = json.loads((copy / "export" / "merged" / "tokenizer.json").read_text())
    damaged_id = next(t["id"] for t in tokenizer_config["added_tokens"] if t["content"] == NEVER_GENERATED)
    config["eos_token_id"] = damaged_id
    config_path.write_text(json.dumps(config))
    manifest_path = copy / "export" / "export.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["artifacts"]["merged"]["sha256"]["generation_config.json"] = sha256_file(config_path)
    manifest["artifacts"].pop("vllm", None)
    manifest_path.write_text(json.dumps(manifest))
    return copy


def test_a_merged_model_that_lost_its_end_of_turn_is_caught(damaged_copy):
    result = CliRunner().invoke(main, ["eval", str(damaged_copy), "--artifact", "adapter,gguf:q8_0,merged"])
    assert result.exit_code == 0, result.output
    measured = {
        name: json.loads((damaged_copy / "eval" / "artifacts" / f"{name}.json").read_text())
        for name in ("adapter", "gguf-q8_0", "merged")
    }
    adapter, gguf, merged = (measured[name]["stops"] for name in ("adapter", "gguf-q8_0", "merged"))
    prompts = adapter["prompts"]
    assert prompts == gguf["prompts"] == merged["prompts"] > 0
    # This short run (3 steps) ends about a third of its replies within the budget (4 of 11 measured): the
    # check compares each artifact with that share, whatever it is.
    assert adapter["share"] >= 2 / prompts, adapter
    assert abs(gguf["drop"]) <= 2 / prompts, gguf  # a healthy GGUF ends them as the adapter does
    assert merged["share"] == 0 and merged["mean_tokens"] == merged["max_tokens"], merged  # every reply ran on
    assert merged["drop"] == pytest.approx(adapter["share"]) and merged["unended_examples"]
    failures = stop_failures(measured, max_drop=adapter["share"] - 0.5 / prompts)
    assert len(failures) == 1 and failures[0].startswith("merged: 0.0% of ") and "export.max_stop_drop" in failures[0]
    table = (damaged_copy / "eval" / "artifacts" / "report.md").read_text()
    assert "| merged |" in table and "0.0% (" in table and "ended" in table
