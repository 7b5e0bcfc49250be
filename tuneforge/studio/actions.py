"""The screens that start long work: Train (a recipe), Evaluate and Export (a run), and the jobs list.

Each action is the CLI's own command run as a job (jobs.py), with the arguments the page gathered; the
page shows the command it runs ("preview command"), so what the studio does can be repeated in a terminal.
Refusals that the CLI would give at once (a bad recipe, a run still training) are given before starting.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tuneforge.errors import UserError
from tuneforge.evaluate.compare import read_results, read_side, task_items
from tuneforge.recipe.loading import load_recipe, recipe_profiles
from tuneforge.runs import new_run_id
from tuneforge.studio import run_record
from tuneforge.studio.context import Studio, studio_of
from tuneforge.studio.pages import page
from tuneforge.studio.security import PathRefused

router = APIRouter()
EXPORT_FORMATS = ("merged", "gguf", "ollama", "lora", "lora-gguf", "vllm")
QUANT = re.compile(r"^[a-z0-9_]{2,12}$")


class TrainRequest(BaseModel):
    recipe: str
    profile: str | None = None
    overrides: list[str] = Field(default_factory=list, max_length=64)
    devices: int | None = Field(default=None, ge=1, le=64)


class ExportRequest(BaseModel):
    formats: list[str] = Field(default_factory=list)
    quants: list[str] = Field(default_factory=list)
    evaluate: bool = True


def train_argv(studio: Studio, request: TrainRequest, run_id: str) -> tuple[list[str], str]:
    """`tuneforge train` as the page asked for it, and the recipe's name; the recipe is validated first, as
    --dry-run would, so a mistake gets the CLI's message before anything starts."""
    path = studio.recipe_path(request.recipe)
    recipe, _ = load_recipe(path, request.overrides, request.profile)
    argv = ["train", str(path), "--resume", "none", "--runs-dir", str(studio.runs_dir), "--run-id", run_id]
    argv += ["--profile", request.profile] if request.profile else []
    argv += [part for override in request.overrides for part in ("-o", override)]
    return argv + (["--devices", str(request.devices)] if request.devices else []), recipe.name


@router.get("/recipes/{name}/train")
def train_page(request: Request, name: str, profile: str | None = None):
    studio = studio_of(request)
    path = studio.recipe_path(name)
    return page(
        request,
        "train.html",
        nav="recipes",
        name=name,
        profile=profile,
        profiles=list(recipe_profiles(path)),
        command=" ".join(["tuneforge", *train_argv(studio, TrainRequest(recipe=name, profile=profile), "RUN-ID")[0]]),
    )


@router.post("/api/train")
def start_training(request: Request, body: TrainRequest) -> JSONResponse:
    studio = studio_of(request)
    argv, recipe_name = train_argv(studio, body, "RUN-ID")  # validates before anything starts
    with studio.jobs.lock:  # two tabs starting the same recipe in the same second get two run folders
        run_id = unused_run_id(studio, recipe_name)
        argv[argv.index("RUN-ID")] = run_id
        job = studio.jobs.start("train", recipe_name, f"{recipe_name}/{run_id}", argv)
    return JSONResponse({"job": job.public(True), "run_url": f"/runs/{recipe_name}/{run_id}"})


def unused_run_id(studio: Studio, recipe_name: str) -> str:
    """A timestamp like the CLI's, with -2, -3 ... where a folder or a job of this second already has it
    (a job's folder appears only once its training stack has loaded)."""
    base = new_run_id()
    taken = {job.run for job in studio.jobs.all()}
    run_id, count = base, 1
    while (studio.runs_dir / recipe_name / run_id).exists() or f"{recipe_name}/{run_id}" in taken:
        count += 1
        run_id = f"{base}-{count}"
    return run_id


def run_of(studio: Studio, recipe: str, run_id: str):
    run_dir = run_record.run_folder(studio.runs_dir, recipe, run_id)
    if studio.jobs.running(run=f"{recipe}/{run_id}"):
        raise UserError(f"{recipe}/{run_id} is busy with a job the studio started", fix="wait for it, or stop it")
    return run_dir


@router.post("/api/runs/{recipe}/{run_id}/resume")
def resume(request: Request, recipe: str, run_id: str) -> JSONResponse:
    studio = studio_of(request)
    run_dir = run_of(studio, recipe, run_id)
    status = run_record.summary(run_dir)["status"]
    if status in ("complete", "running"):
        raise UserError(f"{recipe}/{run_id} is {status}: there is nothing to resume")
    argv = [
        "train",
        str(run_dir / "recipe.resolved.yaml"),
        "--resume",
        str(run_dir),
        "--runs-dir",
        str(studio.runs_dir),
    ]
    return JSONResponse({"job": studio.jobs.start("train", recipe, f"{recipe}/{run_id}", argv).public(True)})


@router.post("/api/runs/{recipe}/{run_id}/stop")
def stop(request: Request, recipe: str, run_id: str) -> JSONResponse:
    """SIGTERM to the run's training, as a supervisor would: it checkpoints at the step boundary and exits."""
    studio = studio_of(request)
    run_record.run_folder(studio.runs_dir, recipe, run_id)
    jobs = studio.jobs.running(run=f"{recipe}/{run_id}")
    if not jobs:
        raise UserError(f"nothing the studio started is running on {recipe}/{run_id}")
    for job in jobs:
        studio.jobs.stop(job)
    return JSONResponse({"stopped": [job.id for job in jobs]})


@router.post("/api/runs/{recipe}/{run_id}/eval")
def evaluate(request: Request, recipe: str, run_id: str) -> JSONResponse:
    studio = studio_of(request)
    run_dir = run_of(studio, recipe, run_id)
    job = studio.jobs.start("eval", recipe, f"{recipe}/{run_id}", ["eval", str(run_dir)])
    return JSONResponse({"job": job.public(True)})


@router.post("/api/runs/{recipe}/{run_id}/export")
def export(request: Request, recipe: str, run_id: str, body: ExportRequest) -> JSONResponse:
    studio = studio_of(request)
    run_dir = run_of(studio, recipe, run_id)
    unknown = [name for name in body.formats if name not in EXPORT_FORMATS]
    unknown += [name for name in body.quants if not QUANT.match(name)]
    if unknown:
        raise UserError(
            f"unknown export format or quant: {', '.join(unknown)}", fix=f"formats: {', '.join(EXPORT_FORMATS)}"
        )
    argv = ["export", str(run_dir), "--eval" if body.evaluate else "--no-eval"]
    argv += ["--format", ",".join(body.formats)] if body.formats else []
    argv += ["--quant", ",".join(body.quants)] if body.quants else []
    return JSONResponse({"job": studio.jobs.start("export", recipe, f"{recipe}/{run_id}", argv).public(True)})


@router.get("/runs/{recipe}/{run_id}/samples")
def samples_page(request: Request, recipe: str, run_id: str, group: str | None = None, wrong: bool = False):
    """The evaluation item by item (each task's own reading of its results), filtered."""
    run_dir = run_record.run_folder(studio_of(request).runs_dir, recipe, run_id)
    side = read_side(run_dir)
    read_results(side, None)
    tables = []
    for task in side.tasks:
        found = task_items(task, side, None)
        items = [item for item in found.items if group in (None, "", item.group)]
        if wrong:
            items = [item for item in items if item.score is not None and is_wrong(item.score, found)]
        groups = sorted({item.group for item in found.items if item.group})
        tables.append({"task": task.name, "found": found, "shown": items, "groups": groups})
    return page(
        request, "samples.html", nav="runs", recipe=recipe, run_id=run_id, tables=tables, group=group, wrong=wrong
    )


def is_wrong(score: float, found) -> bool:
    """A wrong answer: score 0 where scores are right-or-wrong, else below the middle of the scale."""
    return score == 0 if found.right_or_wrong else score < 0.5


@router.get("/api/jobs")
def jobs(request: Request) -> JSONResponse:
    studio = studio_of(request)
    return JSONResponse({"jobs": [job.public(studio.jobs.alive(job)) for job in studio.jobs.all()]})


@router.get("/api/jobs/{job_id}")
def job(request: Request, job_id: str) -> JSONResponse:
    studio = studio_of(request)
    found = studio.jobs.get(job_id)
    if found is None:
        raise PathRefused(job_id)
    return JSONResponse({"job": found.public(studio.jobs.alive(found)), "log": studio.jobs.log_tail(found)})
