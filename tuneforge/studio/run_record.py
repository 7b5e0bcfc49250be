"""A run folder as the studio lists and shows it: status (live or not), recipe, base model, method, steps,
headline metrics, curves, reports and exports. Read from disk at every request; nothing is kept."""

from __future__ import annotations

import json
from pathlib import Path

from markdown_it import MarkdownIt

from tuneforge.evaluate.run import summary_rows
from tuneforge.process import is_running
from tuneforge.recipe.loading import read_yaml
from tuneforge.runs import MANIFEST, RESOLVED_RECIPE, read_manifest
from tuneforge.studio.jobs import STUDIO_DIR
from tuneforge.studio.security import inside, inside_relative

METRICS = "metrics.jsonl"
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")  # reports hold no HTML of their own


def recipe_folders(runs_dir: Path) -> list[Path]:
    if not runs_dir.is_dir():
        return []
    return sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != STUDIO_DIR)


def all_runs(runs_dir: Path) -> list[Path]:
    """Every run folder (one with a manifest), newest first."""
    found = [run for folder in recipe_folders(runs_dir) for run in folder.iterdir() if (run / MANIFEST).is_file()]
    return sorted(found, key=lambda run: run.name, reverse=True)


def run_folder(runs_dir: Path, recipe: str, run_id: str) -> Path:
    run_dir = inside(runs_dir, recipe, run_id)
    read_manifest(run_dir)  # a clear message when it is not a run
    return run_dir


def run_file(run_dir: Path, relative: str) -> Path:
    """A file inside the run folder named by a request (eval/translation.png, export/model-q8_0.gguf)."""
    path = inside_relative(run_dir, relative)
    if not path.is_file():
        raise FileNotFoundError(relative)
    return path


def live_status(manifest: dict) -> str:
    """complete | failed | interrupted | running (its process is alive) | dead (it says running, but the
    process that trained it is gone: killed without a chance to record it)."""
    status = manifest.get("status", "unknown")
    if status == "running" and is_running(manifest.get("process")) is False:
        return "dead"
    return status


def read_records(run_dir: Path, after: int = 0) -> list[dict]:
    """metrics.jsonl from line `after` on (a line still being written is left for the next read)."""
    path = run_dir / METRICS
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines()[after:]:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return records


def progress(records: list[dict], raw_recipe: dict) -> dict:
    """Step of total, tokens/s and the ETA, from the newest training record."""
    steps = [r for r in records if "loss" in r or "reward" in r]
    last = steps[-1] if steps else (records[-1] if records else {})
    total = last.get("max_steps") or (raw_recipe.get("train") or {}).get("max_steps")
    step, elapsed = last.get("step", 0), last.get("elapsed_s")
    first = steps[0] if steps else None
    eta = None
    if total and first and elapsed and step > first["step"]:
        per_step = (elapsed - first["elapsed_s"]) / (step - first["step"])
        eta = round(per_step * (total - step))
    return {
        "step": step,
        "total": total,
        "eta_s": eta,
        "tokens_per_s": last.get("train_tokens_per_second"),
        "elapsed_s": elapsed,
    }


def headline(run_dir: Path) -> list[dict]:
    """(metric, base, tuned) rows of the run's evaluation, as `tuneforge eval` prints them."""
    results_path = run_dir / "eval" / "results.json"
    if not results_path.is_file():
        return []
    rows = summary_rows(json.loads(results_path.read_text()))
    return [{"metric": metric, "base": base, "tuned": tuned} for metric, base, tuned in rows]


def raw_recipe(run_dir: Path) -> dict:
    path = run_dir / RESOLVED_RECIPE
    found = read_yaml(path) if path.is_file() else None
    return found if isinstance(found, dict) else {}


def summary(run_dir: Path) -> dict:
    """One row of the runs list, and the head of a run's page."""
    manifest = read_manifest(run_dir)
    recipe = raw_recipe(run_dir)
    records = read_records(run_dir)
    return {
        "recipe": run_dir.parent.name,
        "run_id": run_dir.name,
        "url": f"/runs/{run_dir.parent.name}/{run_dir.name}",
        "status": live_status(manifest),
        "base_model": (manifest.get("base_model") or {}).get("ref") or (recipe.get("model") or {}).get("base"),
        "method": (recipe.get("train") or {}).get("method", "sft"),
        "started": manifest.get("started"),
        "finished": manifest.get("finished"),
        "progress": progress(records, recipe),
        "headline": headline(run_dir),
        "error": manifest.get("error"),
        "exported": (run_dir / "export").is_dir(),
    }


def markdown_html(run_dir: Path, report: str, files_url: str) -> str | None:
    """A report inside the run (eval/report.md) as HTML, its relative image and file links pointing at
    `files_url` (the run's files endpoint)."""
    path = run_dir / report
    if not path.is_file():
        return None
    tokens = MARKDOWN.parse(path.read_text(encoding="utf-8"))
    folder = str(Path(report).parent)
    for token in tokens:
        for child in token.children or []:
            for attribute in ("src", "href"):
                target = child.attrGet(attribute)
                if target and "://" not in target and not target.startswith(("/", "#")):
                    child.attrSet(attribute, f"{files_url}/{folder}/{target}")
    return MARKDOWN.renderer.render(tokens, MARKDOWN.options, {})


def export_files(run_dir: Path) -> list[dict]:
    folder = run_dir / "export"
    if not folder.is_dir():
        return []
    return [
        {"path": str(path.relative_to(run_dir)), "bytes": path.stat().st_size}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]


def modelfiles(run_dir: Path) -> list[dict]:
    """The export's Ollama Modelfiles, to copy (`ollama create NAME -f Modelfile` beside the GGUF)."""
    folder = run_dir / "export" / "ollama"
    if not folder.is_dir():
        return []
    return [
        {"path": str(path.relative_to(run_dir)), "text": path.read_text(encoding="utf-8")}
        for path in sorted(folder.glob("*Modelfile*"))
        if path.is_file()
    ]
