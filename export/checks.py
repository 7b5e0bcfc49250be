"""What an export must pass: the request before any weights load, then each artifact's fidelity.

Before: every problem of the request at once (formats, quants, the adapter, the converter) and
the disk space. After: every GGUF against the merged 16-bit model (llama.cpp's tokenization, top-1
next-token agreement, perplexity; a broken conversion fails the export), and, when asked, the
recipe's own task metric on every artifact against the adapter's (export.max_task_drop), and the share
of held-out replies that end on their own against the adapter's (export.max_stop_drop).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from tuneforge.data.prepare import encode_splits
from tuneforge.errors import ProblemCollector, UserError
from tuneforge.evaluate.artifact import (
    REFERENCE,
    choice_of_export_key,
    evaluate_artifacts,
    stop_failures,
    task_failures,
)
from tuneforge.export.converter import converter_script
from tuneforge.export.verify import check_gguf_tokenizer, gguf_logits, hf_logits, perplexity, top1_agreement
from tuneforge.recipe.schema import EXPORT_FORMATS, GGUF_QUANTS
from tuneforge.run_folder import RunFolder
from tuneforge.runs import ADAPTER_DIR
from tuneforge.serve.exports import Export
from tuneforge.serve.vllm import vllm_python

log = logging.getLogger(__name__)
TOKENIZER_PROBE = "Ünïcödé, emoji 🎉, 日本語, tabs\tand  spaces\n\nnumbers 12345 3.14"
MIN_AGREEMENT = {"f32": 0.98, "f16": 0.98, "bf16": 0.9}  # below this a conversion is broken, not lossy
FIDELITY_SAMPLES = 8


def check_request(
    run_dir: Path, formats: list[str], quants: list[str], names: tuple[str, str] = ("export format", "quant")
) -> None:
    """Every problem of an export request at once. `names` are what the caller calls the format
    and quant lists (the CLI: --format and --quant)."""
    problems, format_name, quant_name = ProblemCollector("cannot export"), *names
    for fmt in formats:
        if fmt not in EXPORT_FORMATS:
            problems.add(f"{format_name} {fmt}: unknown; choose from {', '.join(EXPORT_FORMATS)}")
    for quant in quants:
        if quant not in GGUF_QUANTS:
            problems.add(f"{quant_name} {quant}: unknown; valid: {', '.join(GGUF_QUANTS)}")
    if "ollama" in formats and "gguf" not in formats:
        problems.add(f"{format_name} ollama: a Modelfile needs the GGUF it points to; add gguf to {format_name}")
    if not (run_dir / ADAPTER_DIR / "adapter_model.safetensors").is_file():
        problems.add(f"{run_dir}: no {ADAPTER_DIR}/adapter_model.safetensors")
    problems.raise_if_any()
    if "gguf" in formats or "lora-gguf" in formats:
        converter_script()
        converter_script("convert_lora_to_gguf.py")


def check_disk(run_dir: Path, base_dir: Path) -> None:
    """Merged weights, GGUFs and staging copies need about three times the base's weights."""
    weights = sum(p.stat().st_size for p in base_dir.glob("*.safetensors"))
    free = shutil.disk_usage(run_dir).free
    if free < 3 * weights:
        raise UserError(
            f"not enough disk space under {run_dir}: {free / 1e9:.1f} GB free, about {3 * weights / 1e9:.1f} GB needed",
            fix="free some space or export elsewhere",
        )


def fidelity_rows(run: RunFolder, tokenizer, count: int = FIDELITY_SAMPLES) -> tuple[list, list]:
    """(input ids, labels) of the run's first `count` validation samples (training samples when it has no
    validation split), tokenized as training tokenized them."""
    recipe = run.recipe
    for name in ("val", "train"):
        # A few more samples than needed: tokenizing may drop some (data.filter.overlength: drop).
        encoded = encode_splits(
            {name: run.split(name)[: count * 8]}, tokenizer, recipe.data, recipe.model.max_seq_length
        )[name]
        if len(encoded):
            rows = encoded.select(range(min(count, len(encoded))))
            return rows["input_ids"], rows["labels"]
    raise UserError(f"{run.path}: no sample of the run survives tokenizing, so fidelity cannot be measured")


def measure_fidelity(run: RunFolder, merged: Path, out: Path, artifacts: dict) -> None:
    """Top-1 agreement and perplexity of every GGUF against the merged model; fails on broken ones."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(merged))
    sequences, labels = fidelity_rows(run, tokenizer)
    texts = [tokenizer.decode(ids) for ids in sequences[:4]] + [TOKENIZER_PROBE]
    reference = hf_logits(merged, sequences)
    artifacts["merged"]["perplexity"] = round(perplexity(reference, labels), 4)
    for quant, entry in artifacts.items():
        if quant != "merged":
            check_gguf_tokenizer(out / entry["file"], tokenizer, texts)
            measure_gguf(entry, out / entry["file"], quant, sequences, labels, reference)


def measure_gguf(entry: dict, gguf: Path, quant: str, sequences: list, labels: list, reference: list) -> None:
    """One GGUF's agreement and perplexity, recorded in its export.json entry."""
    candidate = gguf_logits(gguf, sequences)
    entry["top1_agreement"] = round(top1_agreement(reference, candidate), 4)
    entry["perplexity"] = round(perplexity(candidate, labels), 4)
    if entry["top1_agreement"] < MIN_AGREEMENT.get(quant, 0.5):
        raise UserError(
            f"{entry['file']} disagrees with the merged model on {1 - entry['top1_agreement']:.0%} "
            "of next tokens: the conversion is broken",
            fix="report this with export/export.json",
        )


def vllm_missing() -> str | None:
    """Why the vLLM bundle cannot be served here (its environment is missing), or None."""
    try:
        vllm_python()
    except UserError as missing:
        return missing.title
    return None


def measure_task_metrics(run: RunFolder, out: Path, artifacts: dict) -> dict:
    """The recipe's task metric on the adapter (in process: the reference) and every measurable
    artifact, served as `tuneforge eval --artifact` serves it (tuneforge.evaluate.artifact)."""
    choices, skipped = [REFERENCE], {}
    for key in artifacts:
        choice = choice_of_export_key(key)
        if choice is not None and choice.backend == "vllm" and (reason := vllm_missing()):
            skipped[choice.key] = reason
            log.warning("task metric of %s not measured: %s", choice.key, reason)
        elif choice is not None:
            choices.append(choice.key)
    # The export is not finished (no export.json yet): its artifacts are served from this record.
    results = evaluate_artifacts(run.path, choices, export=Export(out, {"artifacts": artifacts}, run.recipe))
    limits = run.recipe.export
    failures = task_failures(results, limits.max_task_drop) if limits.max_task_drop is not None else []
    failures += stop_failures(results, limits.max_stop_drop) if limits.max_stop_drop is not None else []
    return {
        "results": results,
        "skipped": skipped,
        "max_task_drop": limits.max_task_drop,
        "max_stop_drop": limits.max_stop_drop,
        "failures": failures,
    }


def task_summary(task: dict) -> dict:
    """The task-metric check as export.json and report.json record it."""
    return {
        "reference": "adapter",
        "max_task_drop": task["max_task_drop"],
        "max_stop_drop": task["max_stop_drop"],
        "passed": not task["failures"],
        "failures": task["failures"],
        "skipped": task["skipped"],
    }
