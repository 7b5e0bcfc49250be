"""Export pieces that need no trained run: the vLLM LoRA rank, a missing run refused, a failed
conversion or quantization leaving no file, the fidelity report and the artifact book's reuse. A tiny trained run through merge, GGUF, LoRA GGUF and
the vLLM bundle: tests/integration/test_export_run.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tuneforge.cli import main
from tuneforge.errors import UserError


def test_vllm_lora_rank_is_raised_to_a_rank_vllm_accepts():
    from tuneforge.errors import UserError
    from tuneforge.export.vllm import vllm_lora_rank

    assert vllm_lora_rank(32) == 32  # vLLM's default of 16 would reject a rank-32 adapter
    assert vllm_lora_rank(24) == 32 and vllm_lora_rank(4) == 8
    with pytest.raises(UserError, match="largest --max-lora-rank"):
        vllm_lora_rank(1024)


def test_export_refuses_a_missing_run(tmp_path):
    result = CliRunner().invoke(main, ["export", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "not a tuneforge run" in result.output


def test_a_failed_conversion_leaves_no_file_and_an_unused_converter_ends(tmp_path):
    from tuneforge.export.gguf import ConverterProcess

    (tmp_path / "model").mkdir()
    output = tmp_path / "out.gguf"
    with pytest.raises(UserError, match="convert_hf_to_gguf.py failed on"):
        ConverterProcess("convert_hf_to_gguf.py").run(tmp_path / "model", output, "--outtype", "f16")
    assert list(tmp_path.iterdir()) == [tmp_path / "model"]
    unused = ConverterProcess("convert_hf_to_gguf.py")
    unused.close()
    assert unused.process.returncode is not None


def test_a_failed_quantization_reports_llama_cpp_log_and_leaves_no_file(tmp_path):
    from tuneforge.export.gguf import quantize

    broken = tmp_path / "broken.F16.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(UserError, match="could not quantize broken.F16.gguf to q8_0") as caught:
        quantize(broken, tmp_path / "out.Q8_0.gguf", "q8_0")
    assert caught.value.problems, "llama.cpp's own log lines explain the failure"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.F16.gguf"]


ARTIFACTS = {
    "merged": {"file": "merged", "bytes": 2_000_000, "seconds": 1.5, "sha256": {}, "perplexity": 3.2},
    "q8_0": {
        "file": "x.Q8_0.gguf",
        "bytes": 1_000_000,
        "seconds": 0.5,
        "sha256": {},
        "top1_agreement": 0.97,
        "perplexity": 3.3,
    },
}


def measured(value: float, drop: float | None) -> dict:
    return {
        "tasks": {
            "sentiment": {
                "metric": "accuracy",
                "value": value,
                "drop": drop,
                "higher_is_better": True,
                "method": "greedy",
            }
        }
    }


def test_the_report_has_a_row_per_artifact_against_the_merged_model(tmp_path):
    from tuneforge.export.report import write_report

    write_report(tmp_path, ARTIFACTS)
    table = (tmp_path / "report.md").read_text()
    assert table.startswith("# Export fidelity\n\nTop-1 next-token agreement") and "task metric" not in table
    assert "| merged | merged | 2.0 | 1.5 | (reference) | 3.2 |" in table
    assert "| q8_0 | x.Q8_0.gguf | 1.0 | 0.5 | 97.0% | 3.3 |" in table
    rows = json.loads((tmp_path / "report.json").read_text())["artifacts"]
    assert [row["artifact"] for row in rows] == ["merged", "q8_0"] and rows[1]["top1_agreement"] == 0.97


def test_a_task_metric_drop_past_the_limit_marks_the_report_failed(tmp_path):
    from tuneforge.export.report import write_report

    failure = "gguf:q8_0: sentiment accuracy 0.7000 is 0.1000 worse than the adapter's (export.max_task_drop: 0.05)"
    task = {
        "results": {"adapter": measured(0.8, None), "merged": measured(0.8, 0.0), "gguf:q8_0": measured(0.7, 0.1)},
        "skipped": {},
        "max_task_drop": 0.05,
        "max_stop_drop": 0.25,
        "failures": [failure],
    }
    write_report(tmp_path, ARTIFACTS, task)
    table = (tmp_path / "report.md").read_text()
    assert table.startswith("# Export fidelity (FAILED)\n\n**FAILED**: an artifact fell too far below the adapter")
    assert f"- {failure}" in table
    assert "| adapter | adapter/ |  |  |  |  | accuracy 0.8000 (reference) |" in table
    assert "| 97.0% | 3.3 | accuracy 0.7000 (-0.1000) |" in table
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["task_metric"]["passed"] is False and report["artifacts"][0]["artifact"] == "adapter"
    assert report["artifacts"][2]["task_metrics"]["sentiment"]["drop"] == 0.1


def test_the_artifact_book_keeps_an_unchanged_artifact_and_rebuilds_a_changed_one(tmp_path):
    from tuneforge.export.pipeline import ArtifactBook

    def build(path, text):
        return lambda: path.write_text(text)

    inputs = {"adapter_sha256": "a", "exporter": 3}
    book = ArtifactBook(tmp_path, inputs)
    book.make("f16", tmp_path / "m.F16.gguf", build(tmp_path / "m.F16.gguf", "one"))
    (tmp_path / "export.json").write_text(json.dumps({"inputs": inputs, "artifacts": book.artifacts}))
    again = ArtifactBook(tmp_path, inputs)
    assert not (tmp_path / "export.json").exists()  # an interrupted re-export must not look finished
    again.make("f16", tmp_path / "m.F16.gguf", build(tmp_path / "m.F16.gguf", "two"))
    assert again.artifacts["f16"]["kept"] and (tmp_path / "m.F16.gguf").read_text() == "one"
    (tmp_path / "export.json").write_text(json.dumps({"inputs": {**inputs, "adapter_sha256": "b"}, "artifacts": {}}))
    changed = ArtifactBook(tmp_path, inputs)
    changed.make("f16", tmp_path / "m.F16.gguf", build(tmp_path / "m.F16.gguf", "two"))
    assert "kept" not in changed.artifacts["f16"] and (tmp_path / "m.F16.gguf").read_text() == "two"
