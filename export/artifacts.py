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
    task = measure_task_metrics(run, out, book.artifacts) if evaluate else None
    write_report(out, book.artifacts, task)
    if task and task["failures"]:
        # As a failed fidelity check: no export.json, so serve, chat and predict refuse the artifacts.
        raise UserError(
            "the export's task metric fell too far below the adapter's (report: export/report.md):",
            task["failures"],
            fix="export a higher-precision quant, or raise export.max_task_drop if the loss is acceptable",
        )
    write_json_atomic(
        out / "export.json",
        {
            "source_run": str(run_dir),
            "recipe": recipe.name,
            "inputs": book.inputs,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "packages": package_versions(),
            "artifacts": book.artifacts,
            **({"task_metric": task_summary(task)} if task else {}),
        },
    )
    return out


def vllm_missing() -> str | None:
    """Why the vLLM bundle cannot be served here (its environment is missing), or None."""
    from tuneforge.serve.vllm import vllm_python

    try:
        vllm_python()
    except UserError as missing:
        return missing.title
    return None


def measure_task_metrics(run: RunFolder, out: Path, artifacts: dict) -> dict:
    """The recipe's task metric on the adapter (in process: the reference) and every measurable
    artifact, served as `tuneforge eval --artifact` serves it (tuneforge.eval.artifact)."""
    from tuneforge.eval.artifact import REFERENCE, choice_of_export_key, evaluate_artifacts, task_failures
    from tuneforge.serve.exports import Export

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
    max_drop = run.recipe.export.max_task_drop
    failures = task_failures(results, max_drop) if max_drop is not None else []
    return {"results": results, "skipped": skipped, "max_task_drop": max_drop, "failures": failures}


def task_summary(task: dict) -> dict:
    return {
        "reference": "adapter",
        "max_task_drop": task["max_task_drop"],
        "passed": not task["failures"],
        "failures": task["failures"],
        "skipped": task["skipped"],
    }


def task_cell(task: dict | None, choice_key: str | None) -> str:
    """The task metric of one artifact for the report ("" where it was not measured)."""
    from tuneforge.eval.artifact import REFERENCE, metric_cell

    if task is None or choice_key not in task["results"]:
        reason = task["skipped"].get(choice_key) if task and choice_key else None
        return f"not measured: {reason}" if reason else ""
    measured = task["results"][choice_key]["tasks"].values()
    return "; ".join(f"{metric_cell(m, choice_key == REFERENCE)}" for m in measured)


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
TASK_COLUMN = "task metric"


def report_rows(artifacts: dict, task: dict | None) -> list[dict]:
    from tuneforge.eval.artifact import choice_of_export_key

    rows = [
        {
            "artifact": key,
            "file": entry["file"],
            "MB": round(entry["bytes"] / 1e6, 1),
            "seconds": entry["seconds"],
            "top1_agreement": entry.get("top1_agreement"),
            "perplexity": entry.get("perplexity"),
            **(task_fields(task, getattr(choice_of_export_key(key), "key", None)) if task else {}),
        }
        for key, entry in artifacts.items()
    ]
    if task:  # the reference of the task metric: the adapter in process, as `tuneforge eval` measures it
        blank = dict.fromkeys(REPORT_COLUMNS[2:])
        rows.insert(0, {"artifact": "adapter", "file": "adapter/", **blank, **task_fields(task, "adapter")})
    return rows


def task_fields(task: dict, choice_key: str | None) -> dict:
    """The report's task metric cell, and the numbers behind it for report.json's readers."""
    result = task["results"].get(choice_key)
    numbers = {
        name: {key: measured.get(key) for key in ("metric", "value", "drop", "higher_is_better", "method")}
        for name, measured in (result["tasks"].items() if result else ())
    }
    return {TASK_COLUMN: task_cell(task, choice_key), "task_metrics": numbers or None}


def report_cell(row: dict, column: str) -> str:
    value = row[column]
    if column == "top1_agreement" and row["artifact"] == "merged":
        return "(reference)"
    if column == TASK_COLUMN and row["artifact"] == "adapter":
        return f"{value} (reference)"
    if value is None:
        return ""
    return f"{value:.1%}" if column == "top1_agreement" else str(value)


def write_report(out: Path, artifacts: dict, task: dict | None = None) -> None:
    """export/report.json and report.md: size, time to produce and fidelity of every artifact, and
    with a task evaluation its task metric against the adapter's, marked FAILED when one fell more
    than export.max_task_drop. A kept artifact reports the time it took when it was made."""
    rows = report_rows(artifacts, task)
    columns = (*REPORT_COLUMNS, TASK_COLUMN) if task else REPORT_COLUMNS
    write_json_atomic(
        out / "report.json",
        {"reference": "merged", "artifacts": rows, **({"task_metric": task_summary(task)} if task else {})},
    )
    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    table += ["| " + " | ".join(report_cell(row, column) for column in columns) + " |" for row in rows]
    failed = bool(task and task["failures"])
    verdict = (
        "**FAILED**: export.max_task_drop exceeded, so no export.json was written:\n\n"
        + "\n".join(f"- {line}" for line in task["failures"])
        + "\n\n"
        if failed
        else ""
    )
    note = (
        " The task metric is the recipe's own, on its held-out split, greedy; in brackets its change from the "
        "adapter's (in process). Served GGUFs and bundles answered through the OpenAI-compatible API "
        "(details: RUN/eval/artifacts/)."
        if task
        else ""
    )
    write_text_atomic(
        out / "report.md",
        f"# Export fidelity{' (FAILED)' if failed else ''}\n\n{verdict}Top-1 next-token agreement and perplexity are "
        f"measured on the run's held-out conversations against the merged 16-bit model.{note}\n\n"
        + "\n".join(table)
        + "\n",
    )
