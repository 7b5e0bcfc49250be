"""Export refuses a GGUF that llama.cpp would read differently from the HF model."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from tuneforge.cli import main

pytestmark = pytest.mark.integration


def break_tokenizer(tokenizer_json):
    """The form transformers used to rebuild GGUF vocabularies in: SentencePiece-style byte fallback
    on a byte-level BPE. HF encodes the same, but llama.cpp's converter then takes the vocabulary
    for a SentencePiece one and llama.cpp aborts on the first text it tokenizes."""
    spec = json.loads(tokenizer_json.read_text())
    spec["model"]["byte_fallback"] = True
    spec["decoder"] = {
        "type": "Sequence",
        "decoders": [
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        ],
    }
    tokenizer_json.write_text(json.dumps(spec))


def test_a_gguf_whose_vocabulary_llama_cpp_misreads_fails_the_export(tiny_trained_run, tmp_path):
    run = shutil.copytree(tiny_trained_run, tmp_path / "run")
    break_tokenizer(run / "adapter" / "tokenizer.json")
    result = CliRunner().invoke(main, ["export", str(run), "--format", "merged,gguf", "--quant", "f16"])
    assert result.exit_code == 2, result.output
    assert "llama.cpp cannot tokenize text with tiny.F16.gguf" in result.output
    assert not (run / "export" / "export.json").exists()  # nothing looks complete


def test_a_sound_export_passes_the_tokenizer_check(tiny_trained_run, tmp_path):
    run = shutil.copytree(tiny_trained_run, tmp_path / "run")
    result = CliRunner().invoke(main, ["export", str(run), "--format", "merged,gguf", "--quant", "f16"])
    assert result.exit_code == 0, result.output
    assert json.loads((run / "export" / "export.json").read_text())["artifacts"]["f16"]["top1_agreement"] >= 0.98


def test_ollama_modelfiles_point_at_the_exported_ggufs(tiny_trained_run, tmp_path):
    run = shutil.copytree(tiny_trained_run, tmp_path / "run")
    result = CliRunner().invoke(
        main, ["export", str(run), "--format", "merged,gguf,ollama,lora-gguf", "--quant", "q8_0"]
    )
    assert result.exit_code == 0, result.output
    folder = run / "export" / "ollama"
    merged, lora = (folder / "Modelfile").read_text(), (folder / "Modelfile.lora").read_text()
    assert "FROM ../tiny.Q8_0.gguf" in merged and (folder / ".." / "tiny.Q8_0.gguf").is_file()
    assert "FROM ../tiny-base.F16.gguf" in lora and "ADAPTER ../tiny.LORA.F16.gguf" in lora
    assert 'PARAMETER stop "<|im_end|>"' in merged and "PARAMETER num_ctx 2048" in merged
    artifacts = json.loads((run / "export" / "export.json").read_text())["artifacts"]
    assert set(artifacts["ollama"]["sha256"]) == {"Modelfile", "Modelfile.lora"}
    refused = CliRunner().invoke(main, ["export", str(run), "--format", "ollama"])
    assert refused.exit_code == 2 and "add gguf to --format" in refused.output
