"""The recipe's own task metric on each deployed artifact: a tiny classification run and a tiny
translation run exported to GGUF, served by real llama.cpp servers on 127.0.0.1 and measured
through the OpenAI-compatible API (`tuneforge eval RUN --artifact ...`), against the adapter in
process; `export --eval` adds the column to the export report, and export.max_task_drop fails it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from helpers import assert_served_like_the_adapter, classification_recipe, parallel_recipe, write_corpus
from tuneforge.cli import main
from tuneforge.recipe.loading import load_recipe

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
REVIEWS = ROOT / "recipes" / "sentiment" / "data" / "reviews.jsonl"
# A label may flip between the fp32 adapter and a Q8_0 GGUF only where the two label probabilities
# are nearly tied: Q8_0 moved this tiny model's label probabilities by at most 0.001 (measured), so
# a margin above 0.05 must not flip, and 0.01 bounds the change of any probability.
CLEAR_MARGIN = 0.05


@pytest.fixture(scope="module")
def classification_export(tiny_llama_dir, tmp_path_factory):
    """A tiny classification run with its merged weights and a Q8_0 GGUF exported."""
    from tuneforge.export.pipeline import export_run
    from tuneforge.train.finetune import train_recipe

    tmp = tmp_path_factory.mktemp("artifact-eval")
    records = [json.loads(line) for line in REVIEWS.read_text(encoding="utf-8").splitlines()[:60]]
    recipe, source = load_recipe(classification_recipe(tmp, str(tiny_llama_dir), records))
    run = train_recipe(recipe, source, tmp / "runs", resume="none")
    export_run(run, ["merged", "gguf"], ["q8_0"])
    return run


def split_test_items(run: Path) -> list[tuple[str, str]]:
    from tuneforge.run_folder import RunFolder
    from tuneforge.tasks.classification.data import test_items

    return test_items(RunFolder(run), None)


def read_result(run: Path, name: str) -> dict:
    return json.loads((run / "eval" / "artifacts" / f"{name}.json").read_text())


def test_eval_artifact_measures_a_served_gguf_like_the_adapter(classification_export):
    run = classification_export
    result = CliRunner().invoke(main, ["eval", str(run), "--artifact", "adapter", "--artifact", "gguf:Q8_0,merged"])
    assert result.exit_code == 0, result.output
    adapter = read_result(run, "adapter")["tasks"]["classification"]
    served = read_result(run, "gguf-q8_0")["tasks"]["classification"]
    merged = read_result(run, "merged")["tasks"]["classification"]
    assert served["method"] == "first-token logprobs" and served["items_by_reply_text"] == 0
    assert read_result(run, "gguf-q8_0")["server"] in ("native", "python")
    for measured in (adapter, served, merged):
        assert measured["metric"] == "accuracy" and 0 <= measured["value"] <= 1 and measured["samples"] == 12
    assert adapter["drop"] == 0 and served["drop"] == pytest.approx(adapter["value"] - served["value"])
    flipped = 0
    for ours, theirs in zip(adapter["predictions"], served["predictions"]):
        margin = abs(ours["probabilities"]["positive"] - ours["probabilities"]["negative"])
        if margin > CLEAR_MARGIN:
            assert theirs["label"] == ours["label"], (ours, theirs)
        flipped += theirs["label"] != ours["label"]
        assert theirs["probabilities"]["positive"] == pytest.approx(ours["probabilities"]["positive"], abs=0.01)
    assert abs(served["value"] - adapter["value"]) <= flipped / 12
    assert [p["label"] for p in merged["predictions"]] == [p["label"] for p in adapter["predictions"]]
    table = (run / "eval" / "artifacts" / "report.md").read_text()
    assert "| gguf:q8_0 | accuracy" in table and "| adapter | accuracy" in table
    assert not list((run / "eval" / "artifacts").glob("*.tmp"))


def test_llama_cpp_pythons_server_is_measured_from_the_reply_text(classification_export):
    """The fallback server (where llama-server could not be built) keeps no logits for logprobs (that
    costs every request), so it refuses them: the labels are then read from greedy replies, and said so."""
    from tuneforge.tasks.classification.served import label_from_text

    run = classification_export
    result = CliRunner().invoke(main, ["eval", str(run), "--artifact", "gguf:q8_0", "--llamacpp-server", "python"])
    assert result.exit_code == 0, result.output
    served = read_result(run, "gguf-q8_0")
    measured = served["tasks"]["classification"]
    assert served["server"] == "python" and "logprobs refused" in served["notes"][0]
    assert measured["method"] == "reply text" and measured["items_by_reply_text"] == 12
    labels = measured["labels"]
    for prediction in measured["predictions"]:
        assert prediction["label"] == (label_from_text(prediction["reply"], labels) or "(none)")
    truth = [label for _, label in split_test_items(run)]
    hits = sum(p["label"] == t for p, t in zip(measured["predictions"], truth))
    assert measured["value"] == pytest.approx(hits / 12)


def test_the_server_choice_needs_an_artifact(classification_export):
    result = CliRunner().invoke(main, ["eval", str(classification_export), "--llamacpp-server", "python"])
    assert result.exit_code == 2 and "--llamacpp-server: not used without --artifact" in result.output


def test_a_missing_or_unknown_artifact_is_a_user_error(classification_export):
    missing = CliRunner().invoke(main, ["eval", str(classification_export), "--artifact", "gguf:q4_k_m,vllm"])
    assert missing.exit_code == 2, missing.output
    assert "gguf:q4_k_m: not exported" in missing.output and "--format merged,gguf --quant q4_k_m" in missing.output
    assert "vllm: not exported" in missing.output and "Traceback" not in missing.output
    unknown = CliRunner().invoke(main, ["eval", str(classification_export), "--artifact", "gguf:q9"])
    assert unknown.exit_code == 2 and "unknown GGUF type 'q9'" in unknown.output


def test_export_eval_adds_the_task_metric_column_with_the_adapter_as_reference(classification_export):
    run = classification_export
    result = CliRunner().invoke(main, ["export", str(run), "--format", "merged,gguf", "--quant", "q8_0", "--eval"])
    assert result.exit_code == 0, result.output
    report = json.loads((run / "export" / "report.json").read_text())
    rows = {row["artifact"]: row for row in report["artifacts"]}
    assert list(rows) == ["adapter", "merged", "f16", "q8_0"]
    assert rows["q8_0"]["task metric"].startswith("accuracy ") and rows["adapter"]["task metric"]
    measured = rows["q8_0"]["task_metrics"]["classification"]
    assert measured["metric"] == "accuracy" and 0 <= measured["value"] <= 1 and measured["drop"] is not None
    assert rows["f16"]["task_metrics"] is not None and rows["adapter"]["task_metrics"]["classification"]["drop"] == 0
    assert report["task_metric"] == {
        "reference": "adapter",
        "max_task_drop": None,
        "max_stop_drop": 0.25,
        "passed": True,
        "failures": [],
        "skipped": {},
    }
    table = (run / "export" / "report.md").read_text()
    assert "| task metric |" in table and "(reference)" in table and "FAILED" not in table
    assert (run / "export" / "export.json").is_file()


def test_max_task_drop_fails_the_export_and_says_why(classification_export, tmp_path):
    """A negative allowance: even an artifact exactly as good as the adapter is "too far below" it."""
    run = tmp_path / "runs" / "tinysent" / classification_export.name
    shutil.copytree(classification_export, run)  # the artifacts come along and are kept, not rebuilt
    resolved = run / "recipe.resolved.yaml"
    recipe = yaml.safe_load(resolved.read_text())
    recipe["export"]["max_task_drop"] = -1.0
    resolved.write_text(yaml.safe_dump(recipe, sort_keys=False))
    result = CliRunner().invoke(main, ["export", str(run), "--format", "merged,gguf", "--quant", "q8_0"])
    assert result.exit_code == 2, result.output
    assert "fell too far below the adapter" in result.output and "Traceback" not in result.output
    assert "gguf:q8_0: classification accuracy" in result.output
    assert not (run / "export" / "export.json").exists()  # serve, chat and predict refuse the artifacts
    table = (run / "export" / "report.md").read_text()
    assert table.startswith("# Export fidelity (FAILED)") and "export.max_task_drop: -1.0" in table
    assert json.loads((run / "export" / "report.json").read_text())["task_metric"]["passed"] is False


@pytest.fixture(scope="module")
def translation_export(tiny_llama_dir, tmp_path_factory):
    from tuneforge.export.pipeline import export_run
    from tuneforge.train.finetune import train_recipe

    tmp = tmp_path_factory.mktemp("artifact-translation")
    corpus = ROOT / "recipes" / "translation" / "data"
    lines = {ext: (corpus / f"corpus.{ext}").read_text(encoding="utf-8").splitlines()[:30] for ext in ("en", "ja")}
    folder = write_corpus(tmp / "data", {f"corpus.{ext}": rows for ext, rows in lines.items()})
    recipe, source = load_recipe(parallel_recipe(tmp, folder, str(tiny_llama_dir)))
    run = train_recipe(recipe, source, tmp / "runs", resume="none")
    export_run(run, ["merged", "gguf"], ["f16"])
    return run


def test_translation_bleu_of_a_served_f16_gguf_matches_the_adapter(translation_export):
    from tuneforge.evaluate.artifact import evaluate_artifacts

    results = evaluate_artifacts(translation_export, ["adapter", "gguf:f16"])
    adapter, served = (results[name]["tasks"]["translation"] for name in ("adapter", "gguf:f16"))
    assert served["metric"] == "bleu" and 0 <= served["value"] <= 100 and 0 <= served["chrf"] <= 100
    assert set(served["directions"]) == {"en-ja", "ja-en"} and served["samples"] == 6
    assert_served_like_the_adapter(adapter, served, "hypotheses")


def test_artifact_names_parse_as_comma_lists_once_each():
    from tuneforge.evaluate.artifact import parse_artifacts

    choices = parse_artifacts(["adapter", "gguf:Q4_K_M, vllm", "adapter", "lora-gguf,merged"])
    assert [c.key for c in choices] == ["adapter", "gguf:q4_k_m", "vllm", "lora-gguf", "merged"]
    assert [c.backend for c in choices] == [None, "llamacpp", "vllm", "llamacpp", None]
    assert choices[1].file_stem == "gguf-q4_k_m" and choices[1].export_fix == "--format merged,gguf --quant q4_k_m"


def test_drops_count_against_the_metric_direction():
    from tuneforge.eval.kit import task_metric
    from tuneforge.evaluate.artifact import compare_with_reference, task_failures

    def result(accuracy: float, perplexity: float) -> dict:
        return {
            "tasks": {
                "classification": task_metric("accuracy", accuracy, higher_is_better=True, method="m"),
                "style": task_metric("perplexity", perplexity, higher_is_better=False, method="m"),
            }
        }

    results = {"adapter": result(0.80, 10.0), "gguf:q4_k_m": result(0.75, 10.5), "gguf:q8_0": result(0.80, 9.0)}
    compare_with_reference(results)
    assert results["gguf:q4_k_m"]["tasks"]["classification"]["drop"] == pytest.approx(0.05)
    assert results["gguf:q4_k_m"]["tasks"]["style"]["drop"] == pytest.approx(0.5)  # higher perplexity: worse
    assert results["gguf:q8_0"]["tasks"]["style"]["drop"] == pytest.approx(-1.0)
    failures = task_failures(results, 0.1)
    assert len(failures) == 1 and failures[0].startswith("gguf:q4_k_m: style perplexity 10.5000")
    assert task_failures(results, 0.5) == []


def test_sigterm_during_an_artifact_evaluation_stops_its_server(classification_export):
    """The served artifact's llama.cpp server is a child of `tuneforge eval`: a supervisor's SIGTERM
    (handled like Ctrl-C) stops it with its whole process group, and eval exits 128 + 15."""
    import signal
    import subprocess
    import sys
    import time

    from serving import children_of, wait_gone

    command = [str(Path(sys.executable).parent / "tuneforge"), "eval", str(classification_export)]
    process = subprocess.Popen(
        [*command, "--artifact", "gguf:q8_0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not (children := children_of(process.pid)):  # the server has been started: it is starting up
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()[-2000:]
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 128 + signal.SIGTERM, process.stderr.read()[-2000:]
    assert "interrupted (SIGTERM)" in process.stderr.read()
    assert wait_gone(children, timeout=30) == []
