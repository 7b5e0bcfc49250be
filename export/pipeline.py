"""`tuneforge export RUN`: a finished run → deployable artifacts under RUN/export/.

    tuneforge export runs/quickstart/<run-id> --format merged,gguf --quant f16,q8_0,q4_k_m

Every check runs before any weights load (export/checks.py): the run is complete and has an
adapter, the formats and quant names are known, the converter is present, the disk has room. Each
artifact is written aside and renamed; `export.json` records sizes, sha256, time taken,
versions, the source run, and each GGUF's fidelity against the merged 16-bit model; the run's resolved
recipe is copied beside it (recipe.resolved.yaml), so the export folder serves on its own.
It writes merged 16-bit weights, GGUF files, Ollama Modelfiles, the adapter, a LoRA GGUF and a
vLLM bundle, then the fidelity report (export/report.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.export.checks import check_disk, check_request, measure_fidelity, measure_task_metrics, task_summary
from tuneforge.export.gguf import (
    CONVERTER_TYPES,
    QUANT_FTYPES,
    ConverterProcess,
    convert,
    convert_lora,
    gguf_name,
    quantize,
)
from tuneforge.export.merge import merge_adapter
from tuneforge.export.ollama import write_modelfiles
from tuneforge.export.ollama_check import check_modelfiles
from tuneforge.export.report import write_report
from tuneforge.export.vllm import write_bundle
from tuneforge.files import copy_folder_atomic, sha256_file, write_json_atomic, write_text_atomic
from tuneforge.models import resolve_model
from tuneforge.run_folder import RunFolder
from tuneforge.runs import ADAPTER_DIR, RESOLVED_RECIPE, package_versions
from tuneforge.targets import EXPORT_MANIFEST

log = logging.getLogger(__name__)
EXPORTER_VERSION = 4  # bump when an artifact's content would change for the same inputs (4: EOS stops in Modelfiles)


def record(path: Path, started: float) -> dict:
    files = artifact_files(path)
    return {
        "file": path.name,
        "bytes": sum(p.stat().st_size for p in files.values()),
        "sha256": {name: sha256_file(p) for name, p in files.items()},
        "seconds": round(time.time() - started, 2),
    }


def artifact_files(path: Path) -> dict[str, Path]:
    """An artifact's files by path relative to it, subfolders included (a vLLM bundle's model/)."""
    if not path.is_dir():
        return {path.name: path}
    return {str(p.relative_to(path)): p for p in sorted(path.rglob("*")) if p.is_file()}


class ArtifactBook:
    """Produces each artifact once: one from the last export is kept when the export's inputs
    (adapter, base model) are unchanged and its files still match their recorded sha256."""

    def __init__(self, out: Path, inputs: dict):
        self.out, self.inputs, self.artifacts = out, inputs, {}
        previous_path = out / EXPORT_MANIFEST
        previous = json.loads(previous_path.read_text()) if previous_path.is_file() else {}
        self.previous = previous.get("artifacts", {}) if previous.get("inputs") == inputs else {}
        # Only a finished export has an export.json: an interrupted re-export must not look complete.
        previous_path.unlink(missing_ok=True)

    def make(self, key: str, path: Path, build: Callable[[], object]) -> Path:
        old = self.previous.get(key)
        if (
            old
            and path.exists()
            and {name: sha256_file(p) for name, p in artifact_files(path).items()} == old["sha256"]
        ):
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
        "adapter_sha256": sha256_file(run_dir / ADAPTER_DIR / "adapter_model.safetensors"),
        "base_model": manifest["base_model"]["ref"],
        "base_identity": base_identity,
        "exporter": EXPORTER_VERSION,
    }


def export_run(
    run_dir: Path,
    formats: list[str],
    quants: list[str],
    names: tuple[str, str] | None = None,
    evaluate: bool | None = None,
) -> Path:
    """Exports a run; `names` are what the caller calls the format and quant lists, for its errors.
    `evaluate` measures the recipe's task metric on every artifact (default: when
    export.max_task_drop is set, which then fails an export that falls too far below the adapter)."""
    run = RunFolder(run_dir)
    recipe, manifest = run.recipe, run.manifest
    if evaluate is None:
        evaluate = recipe.export.max_task_drop is not None
    check_request(run_dir, formats, quants, *([names] if names else []))
    base = resolve_model(manifest["base_model"]["ref"])
    check_disk(run_dir, base.path)
    out = run_dir / "export"
    out.mkdir(exist_ok=True)
    book = ArtifactBook(out, export_inputs(run_dir, manifest, base.identity))
    merged = export_weights(book, run, base.path, formats, quants)
    export_adapter(book, run_dir, base.path, recipe.name, formats)
    if "ollama" in formats:
        export_ollama(book, merged, run, quants[0], "lora-gguf" in formats)
    if "vllm" in formats:
        book.make(
            "vllm",
            out / "vllm",
            lambda: write_bundle(
                out / "vllm", merged, run_dir / ADAPTER_DIR, base.path, recipe.name, recipe.serve.n_ctx, recipe.lora.r
            ),
        )
    task = measure_task_metrics(run, out, book.artifacts) if evaluate else None
    write_report(out, book.artifacts, task)
    if task and task["failures"]:
        # As a failed fidelity check: no export.json, so serve, chat and predict refuse the artifacts.
        raise UserError(
            "an exported artifact fell too far below the adapter (report: export/report.md):",
            task["failures"],
            fix="export a higher-precision quant, or raise export.max_task_drop / export.max_stop_drop "
            "if the loss is acceptable",
        )
    write_manifest(book, run, task)
    return out


def export_weights(book: ArtifactBook, run: RunFolder, base_dir: Path, formats: list[str], quants: list[str]) -> Path:
    """The merged 16-bit model and, when asked, its GGUFs with their fidelity measured."""
    recipe, out = run.recipe, book.out
    # Started now, the converter's imports overlap the merge (convert_worker).
    converter = ConverterProcess("convert_hf_to_gguf.py", base_dir) if "gguf" in formats else None
    try:
        merged = book.make(
            "merged",
            out / "merged",
            lambda: merge_adapter(
                run.path, run.manifest, out / "merged", trust_remote_code=recipe.model.trust_remote_code
            ),
        )
        if converter:
            export_gguf(book, merged, recipe.name, quants, converter)
            measure_fidelity(run, merged, out, book.artifacts)
    finally:
        if converter:
            converter.close()
    return merged


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
    adapter = run_dir / ADAPTER_DIR
    if "lora" in formats:
        book.make("lora", book.out / "lora", lambda: copy_folder_atomic(adapter, book.out / "lora"))
    if "lora-gguf" in formats:
        lora, base = book.out / f"{name}.LORA.F16.gguf", book.out / f"{name}-base.F16.gguf"
        book.make("lora-gguf", lora, lambda: convert_lora(adapter, base_dir, lora))
        book.make("base-f16", base, lambda: convert(base_dir, base, "f16"))


def export_ollama(book: ArtifactBook, merged: Path, run: RunFolder, quant: str, with_lora: bool) -> None:
    """Modelfiles for the first quant's GGUF and, with a LoRA GGUF, for base + LoRA; each checked as
    written (a kept one too) on the run's conversations, which fails the export when it would prompt
    differently from the chat template or not stop."""
    artifacts = book.artifacts
    lora = (artifacts["base-f16"]["file"], artifacts["lora-gguf"]["file"]) if with_lora else None
    folder = book.out / "ollama"
    book.make("ollama", folder, lambda: write_modelfiles(folder, merged, run.recipe, artifacts[quant]["file"], lora))
    artifacts["ollama"]["checks"] = check_modelfiles(folder, merged, run)


def write_manifest(book: ArtifactBook, run: RunFolder, task: dict | None) -> None:
    """export.json, last: its presence is what marks the export finished. The run's resolved recipe goes
    beside it, so that serve, chat and predict need the export folder alone (serve/exports.py)."""
    recipe = book.out / RESOLVED_RECIPE
    write_text_atomic(recipe, (run.path / RESOLVED_RECIPE).read_text(encoding="utf-8"))
    write_json_atomic(
        book.out / EXPORT_MANIFEST,
        {
            "source_run": str(run.path),
            "recipe": run.recipe.name,
            "resolved_recipe": {"file": recipe.name, "sha256": sha256_file(recipe)},
            "inputs": book.inputs,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "packages": package_versions(),
            "artifacts": book.artifacts,
            **({"task_metric": task_summary(task)} if task else {}),
        },
    )
