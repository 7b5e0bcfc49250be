"""GGUF files for llama.cpp and Ollama: llama.cpp's converter, then its in-process quantizer.

f32, f16 and bf16 come straight from the converter; every other type is quantized from the
f16 file with `llama_cpp.llama_model_quantize`. Files are named `{name}.{QUANT}.gguf` and are
written under a temporary name, then renamed, so a failure never leaves a file that looks valid.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.export.converter import converter_script
from tuneforge.files import staging_path

CONVERTER_TYPES = {"f32", "f16", "bf16"}
# llama.cpp ftype constant names for the quantizer
QUANT_FTYPES = {
    "q8_0": "Q8_0",
    "q6_k": "Q6_K",
    "q5_k_m": "Q5_K_M",
    "q5_k_s": "Q5_K_S",
    "q5_0": "Q5_0",
    "q4_k_m": "Q4_K_M",
    "q4_k_s": "Q4_K_S",
    "q4_0": "Q4_0",
    "q3_k_m": "Q3_K_M",
    "q2_k": "Q2_K",
}


def gguf_name(name: str, quant: str) -> str:
    return f"{name}.{quant.upper()}.gguf"


class ConverterProcess:
    """One run of llama.cpp's converter in a child that starts importing at once (convert_worker):
    started early, its imports overlap the caller's work; `run` then hands it the arguments."""

    def __init__(self, script: str, warm_model_dir: Path | None = None):
        self.script = script
        command = [
            sys.executable,
            "-m",
            "tuneforge.export.convert_worker",
            str(converter_script(script)),
            str(warm_model_dir or ""),
        ]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def run(self, source: Path, output: Path, *options: str) -> Path:
        """Convert `source` into a temporary name, then rename (a failure leaves no file that looks valid)."""
        staging = staging_path(output)
        _, stderr = self.process.communicate(json.dumps([str(source), "--outfile", str(staging), *options]))
        if self.process.returncode != 0:
            staging.unlink(missing_ok=True)
            raise UserError(
                f"llama.cpp's {self.script} failed on {source}",
                [stderr.strip()[-2000:]],
                fix=f"check that llama.cpp's {self.script} supports this architecture",
            )
        os.replace(staging, output)
        return output

    def close(self) -> None:
        """End a child that was never given work (the f16 GGUF was kept, or the export failed first)."""
        if self.process.returncode is None:
            self.process.kill()
            self.process.communicate()


def convert(model_dir: Path, output: Path, outtype: str = "f16", converter: ConverterProcess | None = None) -> Path:
    """A Hugging Face model folder → GGUF with convert_hf_to_gguf.py (in `converter` if one was started)."""
    converter = converter or ConverterProcess("convert_hf_to_gguf.py")
    return converter.run(model_dir, output, "--outtype", outtype)


def convert_lora(adapter_dir: Path, base_dir: Path, output: Path) -> Path:
    """A PEFT adapter → LoRA GGUF (for `llama-server --lora` and Ollama's ADAPTER)."""
    return ConverterProcess("convert_lora_to_gguf.py").run(
        adapter_dir, output, "--base", str(base_dir), "--outtype", "f16"
    )


def quantize(source: Path, output: Path, quant: str) -> Path:
    """Quantize an f16 GGUF in-process with llama.cpp's quantizer."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{QUANT_FTYPES[quant]}")
    staging = staging_path(output)
    with llama_log_captured() as log_lines:
        status = llama_cpp.llama_model_quantize(str(source).encode(), str(staging).encode(), params)
    if status != 0:
        staging.unlink(missing_ok=True)
        raise UserError(f"llama.cpp could not quantize {source.name} to {quant} (status {status})", log_lines[-20:])
    os.replace(staging, output)
    return output


@contextlib.contextmanager
def llama_log_captured():
    """llama.cpp's quantizer logs a line per tensor (hundreds); llama-cpp-python's log callback
    prints them to sys.stderr at or above its logger's level (ERROR once a quiet Llama was made).
    Capture every level, keep it out of the export's output; the yielded list holds the lines once
    the block has ended, for an error message."""
    lines: list[str] = []
    buffer = io.StringIO()
    logger = logging.getLogger("llama-cpp-python")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        with contextlib.redirect_stderr(buffer):
            yield lines
    finally:
        logger.setLevel(level)
        lines += buffer.getvalue().splitlines()
