"""Export pieces that need no trained run: the vLLM LoRA rank, a missing run refused, and a failed
conversion or quantization leaving no file. A tiny trained run through merge, GGUF, LoRA GGUF and
the vLLM bundle: tests/integration/test_export_run.py."""

from __future__ import annotations

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
