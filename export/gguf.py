"""GGUF files for llama.cpp and Ollama: llama.cpp's converter, then its in-process quantizer.

f32, f16 and bf16 come straight from the converter; every other type is quantized from the
f16 file with `llama_cpp.llama_model_quantize`. Files are named `{name}.{QUANT}.gguf` and are
written under a temporary name, then renamed, so a failure never leaves a file that looks valid.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.export.converter import converter_script

CONVERTER_TYPES = {"f32", "f16", "bf16"}
# llama.cpp ftype constant names for the quantizer
QUANT_FTYPES = {"q8_0": "Q8_0", "q6_k": "Q6_K", "q5_k_m": "Q5_K_M", "q5_k_s": "Q5_K_S", "q5_0": "Q5_0",
                "q4_k_m": "Q4_K_M", "q4_k_s": "Q4_K_S", "q4_0": "Q4_0", "q3_k_m": "Q3_K_M", "q2_k": "Q2_K"}


def gguf_name(name: str, quant: str) -> str:
    return f"{name}.{quant.upper()}.gguf"


def run_converter(script: str, source: Path, output: Path, *options: str) -> Path:
    """Run one of llama.cpp's converters (offline) into a temporary name, then rename."""
    staging = output.with_name(f".{output.name}.tmp")
    command = [sys.executable, str(converter_script(script)), str(source), "--outfile", str(staging), *options]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        staging.unlink(missing_ok=True)
        raise UserError(f"llama.cpp's {script} failed on {source}", [result.stderr.strip()[-2000:]],
                        fix=f"check that llama.cpp's {script} supports this architecture")
    os.replace(staging, output)
    return output


def convert(model_dir: Path, output: Path, outtype: str = "f16") -> Path:
    """A Hugging Face model folder → GGUF with convert_hf_to_gguf.py."""
    return run_converter("convert_hf_to_gguf.py", model_dir, output, "--outtype", outtype)


def convert_lora(adapter_dir: Path, base_dir: Path, output: Path) -> Path:
    """A PEFT adapter → LoRA GGUF (for `llama-server --lora` and Ollama's ADAPTER)."""
    return run_converter("convert_lora_to_gguf.py", adapter_dir, output, "--base", str(base_dir), "--outtype", "f16")


def quantize(source: Path, output: Path, quant: str) -> Path:
    """Quantize an f16 GGUF in-process with llama.cpp's quantizer."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{QUANT_FTYPES[quant]}")
    staging = output.with_name(f".{output.name}.tmp")
    status = llama_cpp.llama_model_quantize(str(source).encode(), str(staging).encode(), params)
    if status != 0:
        staging.unlink(missing_ok=True)
        raise UserError(f"llama.cpp could not quantize {source.name} to {quant} (status {status})")
    os.replace(staging, output)
    return output
