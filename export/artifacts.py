"""`tuneforge export RUN`: a finished run → deployable artifacts under RUN/export/.

    tuneforge export runs/quickstart/<run-id> --format merged,gguf --quant f16,q8_0,q4_k_m

Every check runs before any weights load: the run is complete and has an adapter, the
formats and quant names are known, the converter is present, the disk has room. Each
artifact is written aside and renamed; `export.json` records sizes, sha256, time taken,
versions, the source run, and each GGUF's fidelity against the merged 16-bit model.
It writes merged 16-bit weights, GGUF files, Ollama Modelfiles, the adapter, a LoRA GGUF and a
vLLM bundle.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

from tuneforge.errors import ProblemCollector, UserError
from tuneforge.export.converter import converter_script
from tuneforge.export.gguf import (
    CONVERTER_TYPES,
    QUANT_FTYPES,
    ConverterProcess,
    convert,
    convert_lora,
    gguf_name,
    quantize,
)
from tuneforge.export.ollama import write_modelfiles
from tuneforge.export.vllm import write_bundle
from tuneforge.models import resolve_model, sha256_file
from tuneforge.recipe import EXPORT_FORMATS, GGUF_QUANTS
from tuneforge.runs import RunFolder, package_versions, write_json_atomic, write_text_atomic

log = logging.getLogger(__name__)
EXPORTER_VERSION = 3  # bump when an artifact's content would change for the same inputs
TOKENIZER_PROBE = "Ünïcödé, emoji 🎉, 日本語, tabs\tand  spaces\n\nnumbers 12345 3.14"
MIN_AGREEMENT = {"f32": 0.98, "f16": 0.98, "bf16": 0.9}  # below this a conversion is broken, not lossy


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
    if not (run_dir / "adapter" / "adapter_model.safetensors").is_file():
        problems.add(f"{run_dir}: no adapter/adapter_model.safetensors")
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


def record(path: Path, started: float) -> dict:
    files = _files(path)
    return {
        "file": path.name,
        "bytes": sum(p.stat().st_size for p in files.values()),
        "sha256": {name: sha256_file(p) for name, p in files.items()},
        "seconds": round(time.time() - started, 2),
    }


def _files(path: Path) -> dict[str, Path]:
    """An artifact's files by path relative to it, subfolders included (a vLLM bundle's model/)."""
    if not path.is_dir():
        return {path.name: path}
    return {str(p.relative_to(path)): p for p in sorted(path.rglob("*")) if p.is_file()}


class ArtifactBook:
    """Produces each artifact once: one from the last export is kept when the export's inputs
    (adapter, base model) are unchanged and its files still match their recorded sha256."""

    def __init__(self, out: Path, inputs: dict):
        self.out, self.inputs, self.artifacts = out, inputs, {}
        previous_path = out / "export.json"
        previous = json.loads(previous_path.read_text()) if previous_path.is_file() else {}
        self.previous = previous.get("artifacts", {}) if previous.get("inputs") == inputs else {}
        # Only a finished export has an export.json: an interrupted re-export must not look complete.
        previous_path.unlink(missing_ok=True)

    def make(self, key: str, path: Path, build) -> Path:
        old = self.previous.get(key)
        if old and path.exists() and {name: sha256_file(p) for name, p in _files(path).items()} == old["sha256"]:
            log.info("kept %s: its inputs are unchanged", path.name)
            self.artifacts[key] = {**old, "kept": True}
            return path
        started = time.time()
        build()
        self.artifacts[key] = record(path, started)
        return path


def export_inputs(run_dir: Path, manifest: dict, base_identity: dict) -> dict:
    """What the artifacts are made from; any change (adapter, base files, this exporter) redoes them."""
    return {
        "adapter_sha256": sha256_file(run_dir / "adapter" / "adapter_model.safetensors"),
        "base_model": manifest["base_model"]["ref"],
        "base_identity": base_identity,
        "exporter": EXPORTER_VERSION,
    }


def export_run(run_dir: Path, formats: list[str], quants: list[str], names: tuple[str, str] | None = None) -> Path:
    """Exports a run; `names` are what the caller calls the format and quant lists, for its errors."""
    run = RunFolder(run_dir)
    recipe, manifest = run.recipe, run.manifest
    check_request(run_dir, formats, quants, *([names] if names else []))
    base = resolve_model(manifest["base_model"]["ref"])
    base_dir = base.path
    check_disk(run_dir, base_dir)
    from tuneforge.export.merge import merge_adapter

    out = run_dir / "export"
    out.mkdir(exist_ok=True)
    book = ArtifactBook(out, export_inputs(run_dir, manifest, base.identity))
    # Started now, the converter's imports overlap the merge (convert_worker).
    converter = ConverterProcess("convert_hf_to_gguf.py", base_dir) if "gguf" in formats else None
    try:
        merged = book.make(
            "merged",
            out / "merged",
            lambda: merge_adapter(run_dir, manifest, out / "merged", trust_remote_code=recipe.model.trust_remote_code),
        )
        if "gguf" in formats:
            export_gguf(book, merged, recipe.name, quants, converter)
            measure_fidelity(run, merged, out, book.artifacts)
    finally:
        if converter:
            converter.close()
    export_adapter(book, run_dir, base_dir, recipe.name, formats)
    if "ollama" in formats:
        lora = (
            (book.artifacts["base-f16"]["file"], book.artifacts["lora-gguf"]["file"])
            if "lora-gguf" in formats
            else None
        )
        book.make(
            "ollama",
            out / "ollama",
            lambda: write_modelfiles(out / "ollama", merged, recipe, book.artifacts[quants[0]]["file"], lora),
        )
    if "vllm" in formats:
        book.make(
            "vllm",
            out / "vllm",
            lambda: write_bundle(
                out / "vllm", merged, run_dir / "adapter", base_dir, recipe.name, recipe.serve.n_ctx, recipe.lora.r
            ),
        )
    write_report(out, book.artifacts)
    write_json_atomic(
        out / "export.json",
        {
            "source_run": str(run_dir),
            "recipe": recipe.name,
            "inputs": book.inputs,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "packages": package_versions(),
            "artifacts": book.artifacts,
        },
    )
    return out


def export_gguf(book: ArtifactBook, merged: Path, name: str, quants: list[str], converter: ConverterProcess) -> None:
    f16_path = book.out / gguf_name(name, "f16")
    f16 = book.make("f16", f16_path, lambda: convert(merged, f16_path, converter=converter))
    for quant in quants:
        path = book.out / gguf_name(name, quant)
        if quant in CONVERTER_TYPES and quant != "f16":
            book.make(quant, path, lambda q=quant, p=path: convert(merged, p, q))
        elif quant in QUANT_FTYPES:
            book.make(quant, path, lambda q=quant, p=path: quantize(f16, p, q))


def export_adapter(book: ArtifactBook, run_dir: Path, base_dir: Path, name: str, formats: list[str]) -> None:
    """The adapter alone: as safetensors (`lora`), and as a LoRA GGUF plus the base model's f16
    GGUF it applies to (`lora-gguf`), for llama.cpp's --lora and Ollama's ADAPTER."""
    if "lora" in formats:
        book.make("lora", book.out / "lora", lambda: copy_folder(run_dir / "adapter", book.out / "lora"))
    if "lora-gguf" in formats:
        lora, base = book.out / f"{name}.LORA.F16.gguf", book.out / f"{name}-base.F16.gguf"
        book.make("lora-gguf", lora, lambda: convert_lora(run_dir / "adapter", base_dir, lora))
        book.make("base-f16", base, lambda: convert(base_dir, base, "f16"))


def copy_folder(source: Path, destination: Path) -> None:
    staging = destination.with_name(f".{destination.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    shutil.rmtree(destination, ignore_errors=True)
    staging.rename(destination)


def fidelity_rows(run: RunFolder, tokenizer, count: int = 8) -> tuple[list, list]:
    """(input ids, labels) of the run's first `count` validation samples (training samples when it has no
    validation split), tokenized as training tokenized them."""
    from tuneforge.data.prepare import encode_splits

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

    from tuneforge.export.verify import check_gguf_tokenizer, gguf_logits, hf_logits, perplexity, top1_agreement

    tokenizer = AutoTokenizer.from_pretrained(str(merged))
    sequences, labels = fidelity_rows(run, tokenizer)
    texts = [tokenizer.decode(ids) for ids in sequences[:4]] + [TOKENIZER_PROBE]
    reference = hf_logits(merged, sequences)
    artifacts["merged"]["perplexity"] = round(perplexity(reference, labels), 4)
    for quant, entry in artifacts.items():
        if quant == "merged":
            continue
        check_gguf_tokenizer(out / entry["file"], tokenizer, texts)
        candidate = gguf_logits(out / entry["file"], sequences)
        entry["top1_agreement"] = round(top1_agreement(reference, candidate), 4)
        entry["perplexity"] = round(perplexity(candidate, labels), 4)
        if entry["top1_agreement"] < MIN_AGREEMENT.get(quant, 0.5):
            raise UserError(
                f"{entry['file']} disagrees with the merged model on {1 - entry['top1_agreement']:.0%} "
                "of next tokens: the conversion is broken",
                fix="report this with export/export.json",
            )


REPORT_COLUMNS = ("artifact", "file", "MB", "seconds", "top1_agreement", "perplexity")


def write_report(out: Path, artifacts: dict) -> None:
    """export/report.json and report.md: size, time to produce and fidelity of every artifact.
    A kept artifact reports the time it took when it was made."""
    rows = [
        {
            "artifact": key,
            "file": entry["file"],
            "MB": round(entry["bytes"] / 1e6, 1),
            "seconds": entry["seconds"],
            "top1_agreement": entry.get("top1_agreement"),
            "perplexity": entry.get("perplexity"),
        }
        for key, entry in artifacts.items()
    ]
    write_json_atomic(out / "report.json", {"reference": "merged", "artifacts": rows})
    cells = [
        [
            (
                "(reference)"
                if row["artifact"] == "merged" and column == "top1_agreement"
                else ""
                if row[column] is None
                else f"{row[column]:.1%}"
                if column == "top1_agreement"
                else str(row[column])
            )
            for column in REPORT_COLUMNS
        ]
        for row in rows
    ]
    table = ["| " + " | ".join(REPORT_COLUMNS) + " |", "|" + "---|" * len(REPORT_COLUMNS)]
    table += ["| " + " | ".join(row) + " |" for row in cells]
    write_text_atomic(
        out / "report.md",
        "# Export fidelity\n\nTop-1 next-token agreement and perplexity are "
        "measured on the run's held-out conversations against the merged 16-bit model.\n\n" + "\n".join(table) + "\n",
    )
