"""The Runs screens: every run with its status and headline metrics (also GET /api/runs), a run's own page
at /runs/<recipe>/<run-id>, its live metrics, its files, and the comparison of two runs."""

from __future__ import annotations

import json
import mimetypes

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from tuneforge.evaluate.compare import compare_runs
from tuneforge.evaluate.compare_report import comparison_markdown
from tuneforge.runs import read_manifest
from tuneforge.studio import run_record
from tuneforge.studio.context import studio_of
from tuneforge.studio.pages import page
from tuneforge.studio.security import PathRefused, inside

router = APIRouter()


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/runs", status_code=303)


@router.get("/api/runs")
def runs_json(request: Request) -> JSONResponse:
    runs = run_record.all_runs(studio_of(request).runs_dir)
    return JSONResponse({"runs": [run_record.summary(run) for run in runs]})


@router.get("/runs")
def runs_page(request: Request):
    studio = studio_of(request)
    runs = [run_record.summary(run) for run in run_record.all_runs(studio.runs_dir)]
    return page(request, "runs.html", nav="runs", runs=runs, jobs=jobs_public(studio))


@router.get("/runs/{recipe}/{run_id}")
def run_page(request: Request, recipe: str, run_id: str):
    studio = studio_of(request)
    run_dir = inside(studio.runs_dir, recipe, run_id)
    if not (run_dir / "manifest.json").is_file():
        return starting_page(request, studio, recipe, run_id)
    summary = run_record.summary(run_dir)
    files_url = f"{summary['url']}/files"
    data_report = run_dir / "data_report.json"
    return page(
        request,
        "run.html",
        nav="runs",
        run=summary,
        manifest=json.loads((run_dir / "manifest.json").read_text()),
        resolved=(run_dir / "recipe.resolved.yaml").read_text() if (run_dir / "recipe.resolved.yaml").is_file() else "",
        data_report=json.loads(data_report.read_text()) if data_report.is_file() else None,
        eval_report=run_record.markdown_html(run_dir, "eval/report.md", files_url),
        export_report=run_record.markdown_html(run_dir, "export/report.md", files_url),
        exports=run_record.export_files(run_dir),
        modelfiles=run_record.modelfiles(run_dir),
        vllm_readme=run_record.markdown_html(run_dir, "export/vllm/README.md", files_url),
        files_url=files_url,
        jobs=[job for job in jobs_public(studio) if job["run"] == f"{recipe}/{run_id}"],
        busy=bool(studio.jobs.running(run=f"{recipe}/{run_id}")),
    )


def starting_page(request: Request, studio, recipe: str, run_id: str):
    """A training the studio just started, before it made its run folder (loading the training stack
    takes a while): its job's log, until the folder exists. Any other missing run is a 404."""
    jobs = [job for job in jobs_public(studio) if job["run"] == f"{recipe}/{run_id}" and job["kind"] == "train"]
    if not jobs:
        raise PathRefused(f"{recipe}/{run_id}")
    return page(request, "starting.html", nav="runs", recipe=recipe, run_id=run_id, job=jobs[0])


@router.get("/api/runs/{recipe}/{run_id}/metrics")
def run_metrics(request: Request, recipe: str, run_id: str, after: int = 0) -> JSONResponse:
    """The metrics.jsonl records from line `after` on, the progress and the status: what the live chart polls."""
    run_dir = run_record.run_folder(studio_of(request).runs_dir, recipe, run_id)
    records = run_record.read_records(run_dir)  # once per poll: not the whole summary (headline metrics)
    return JSONResponse(
        {
            "records": records[max(after, 0) :],
            "next": len(records),
            "status": run_record.live_status(read_manifest(run_dir)),
            "progress": run_record.progress(records, run_record.raw_recipe(run_dir)),
        }
    )


@router.get("/runs/{recipe}/{run_id}/files/{relative:path}")
def run_file(request: Request, recipe: str, run_id: str, relative: str):
    run_dir = run_record.run_folder(studio_of(request).runs_dir, recipe, run_id)
    try:
        path = run_record.run_file(run_dir, relative)
    except FileNotFoundError:
        raise PathRefused(relative) from None
    kind = mimetypes.guess_type(path.name)[0]
    inline = kind is not None and kind.startswith(("image/", "text/"))
    return FileResponse(
        path,
        media_type=kind or "application/octet-stream",
        content_disposition_type="inline" if inline else "attachment",
    )


@router.get("/compare")
def compare_page(request: Request, a: str | None = None, b: str | None = None):
    studio = studio_of(request)
    runs = [run_record.summary(run) for run in run_record.all_runs(studio.runs_dir)]
    comparison = None
    if a and b:
        comparison = compare_runs(named_run(studio.runs_dir, a), named_run(studio.runs_dir, b))
    html = run_record.MARKDOWN.render(comparison_markdown(comparison)) if comparison else None
    return page(request, "compare.html", nav="compare", runs=runs, a=a, b=b, comparison=comparison, html=html)


@router.get("/api/compare")
def compare_json(request: Request, a: str, b: str) -> JSONResponse:
    runs_dir = studio_of(request).runs_dir
    return JSONResponse(compare_runs(named_run(runs_dir, a), named_run(runs_dir, b)))


def named_run(runs_dir, name: str):
    """A run named as "<recipe>/<run-id>" in a request."""
    recipe, _, run_id = name.partition("/")
    return run_record.run_folder(runs_dir, recipe, run_id)


def jobs_public(studio) -> list[dict]:
    return [job.public(studio.jobs.alive(job)) for job in studio.jobs.all()]
