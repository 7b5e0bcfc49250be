"""`tuneforge eval RUN --artifact ...`: the recipe's own task metric measured on what a user deploys.

    tuneforge eval runs/sentiment/<id> --artifact adapter,merged,gguf:q8_0,gguf:q4_k_m,vllm

Each artifact is answered through one interface (tuneforge.eval.answerers): `adapter` (the run's
adapter in process, as `tuneforge eval` measures it) and `merged` (the exported merged weights,
transformers in process) directly; `gguf:<QUANT>` and `lora-gguf` served by llama.cpp and `vllm`
by vLLM, on 127.0.0.1 with a free port, through the OpenAI-compatible API. Servers are started
and stopped by serve's own machinery (plan_launch, Server), so Ctrl-C and SIGTERM stop them too.
Each task measures itself (`Task.artifact_metric`, tuneforge/tasks/<task>/served.py); results go
to RUN/eval/artifacts/<artifact>.json and a table in RUN/eval/artifacts/report.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tuneforge.errors import ProblemCollector, UserError
from tuneforge.eval.answerers import ApiAnswerer, InProcessAnswerer
from tuneforge.eval.stops import StopPrompts, held_out_prompts, measure_stops, stop_cell, stop_drop
from tuneforge.files import sha256_file, write_json_atomic, write_text_atomic
from tuneforge.recipe.schema import GGUF_QUANTS
from tuneforge.registry import Task, registered_tasks
from tuneforge.run_folder import RunFolder
from tuneforge.runs import ADAPTER_DIR
from tuneforge.serve.exports import find_export, require_artifact
from tuneforge.serve.server import Server, plan_launch

log = logging.getLogger(__name__)
SERVED = {"lora-gguf": "llamacpp", "vllm": "vllm"}  # plus gguf:<quant> on llamacpp
ARTIFACT_HELP = "adapter, merged, gguf:<QUANT> (e.g. gguf:q8_0), lora-gguf or vllm"
REFERENCE = "adapter"


@dataclass(frozen=True)
class ArtifactChoice:
    key: str  # as the user names it: adapter, merged, gguf:q8_0, lora-gguf, vllm
    export_key: str | None  # its entry in export.json; None for the in-process adapter
    backend: str | None  # llamacpp or vllm for a served one; None in process

    @property
    def file_stem(self) -> str:
        return self.key.replace(":", "-")

    @property
    def export_fix(self) -> str:
        if self.key.startswith("gguf:"):
            return f"--format merged,gguf --quant {self.export_key}"
        return f"--format merged,{self.export_key}"


def parse_artifact(text: str) -> ArtifactChoice:
    name = text.strip().lower()
    if name in (REFERENCE, "merged"):
        return ArtifactChoice(name, None if name == REFERENCE else "merged", None)
    if name in SERVED:
        return ArtifactChoice(name, name, SERVED[name])
    kind, _, quant = name.partition(":")
    if kind == "gguf" and quant in GGUF_QUANTS:
        return ArtifactChoice(name, quant, "llamacpp")
    if kind == "gguf":
        raise UserError(f"--artifact {text}: unknown GGUF type {quant!r}", fix=f"valid: {', '.join(GGUF_QUANTS)}")
    raise UserError(f"--artifact {text}: unknown artifact", fix=f"choose from {ARTIFACT_HELP}")


def parse_artifacts(values: list[str]) -> list[ArtifactChoice]:
    """Repeated options and comma lists, each artifact once, in the order given."""
    choices = [parse_artifact(part) for value in values for part in value.split(",") if part.strip()]
    return list({choice.key: choice for choice in choices}.values())


def choice_of_export_key(key: str) -> ArtifactChoice | None:
    """The measurable artifact an export.json entry is (None: Modelfiles, the bare adapter, the base GGUF)."""
    if key in GGUF_QUANTS:
        return parse_artifact(f"gguf:{key}")
    return parse_artifact(key) if key in ("merged", *SERVED) else None


def measured_tasks(recipe) -> list:
    """The recipe's evaluated tasks that can measure an artifact (they override artifact_metric)."""
    tasks = [
        t for t in registered_tasks() if t.evaluates(recipe) and type(t).artifact_metric is not Task.artifact_metric
    ]
    if not tasks:
        raise UserError(
            f"recipe {recipe.name!r} has no task metric that can be measured on an artifact",
            fix="add an eval section of classification, translation, persona, domain or style to the recipe",
        )
    return tasks


def find_run_export(run_dir: Path, choices: list[ArtifactChoice]):
    """The run's finished export, checked to hold every chosen artifact (all missing ones reported together)."""
    if all(choice.export_key is None for choice in choices):
        return None
    export = find_export(str(run_dir), run_dir.parent.parent)
    problems = ProblemCollector(f"{run_dir}: the export lacks what --artifact asks for")
    for choice in choices:
        if choice.export_key and choice.export_key not in export.artifacts:
            problems.add(f"{choice.key}: not exported; run `tuneforge export {run_dir} {choice.export_fix}`")
    problems.raise_if_any(fix="export them first (re-running an export keeps what is already there)")
    return export


def api_key() -> str:
    """TUNEFORGE_API_KEY as serve reads it; else a fresh random key, so that no other local user can
    use the evaluation's server while it runs."""
    return os.environ.get("TUNEFORGE_API_KEY") or secrets.token_urlsafe(24)


def served_tokenizer(run, export):
    """The run's tokenizer (the merged export's copy): it names the labels' first tokens and renders
    prompts for prompt logprobs exactly as the served model's template does."""
    from transformers import AutoTokenizer

    merged = require_artifact(export, "merged", fix=f"run `tuneforge export {run.path} --format merged`")
    return AutoTokenizer.from_pretrained(str(merged), trust_remote_code=run.recipe.model.trust_remote_code)


@contextlib.contextmanager
def open_answerer(run, choice: ArtifactChoice, export, log_dir: Path, llamacpp_server: str = "auto") -> Iterator:
    """An answerer for one artifact; a served one's server is stopped on the way out, whatever happens.
    `llamacpp_server` (auto, native, python) picks a GGUF's server as `tuneforge serve` does."""
    if choice.backend is None:
        merged = None
        if choice.export_key:
            merged = require_artifact(export, "merged", fix=f"run `tuneforge export {run.path} --format merged`")
        yield InProcessAnswerer.of_run(run, choice.key, merged)
        return
    key = api_key()
    quant = choice.export_key if choice.key.startswith("gguf:") else None
    launch = plan_launch(
        export,
        choice.backend,
        quant=quant,
        adapter=choice.key == "lora-gguf",
        host="127.0.0.1",
        port=0,
        api_key=key,
        llamacpp_server=llamacpp_server,  # vLLM ignores it
    )
    tokenizer = served_tokenizer(run, export)
    concurrency = {"native": run.recipe.serve.parallel, "python": 1}.get(launch.server, 8)
    with Server(launch, log_path=log_dir / f"{choice.file_stem}.server.log"):
        yield ApiAnswerer(
            choice.key, launch.base_url, key, launch.model_name, tokenizer, concurrency, choice.backend, launch.server
        )


def measure(run, tasks: list, answerer, prompts: StopPrompts) -> dict:
    """The recipe's task metrics and the stop check (tuneforge.eval.stops) of one artifact."""
    started = time.perf_counter()
    results = {}
    for task in tasks:
        log.info("%s: measuring %s", answerer.name, task.name)
        results[task.name] = task.artifact_metric(run, answerer)
    log.info(
        "%s: does it stop? %d held-out prompts, %d tokens each",
        answerer.name,
        len(prompts.conversations),
        prompts.max_tokens,
    )
    return {
        "artifact": answerer.name,
        "server": answerer.server,
        "adapter_sha256": adapter_sha256(run.path),
        "seconds": round(time.perf_counter() - started, 1),
        "tasks": results,
        "stops": measure_stops(prompts, answerer),
        "notes": list(getattr(answerer, "notes", [])),
    }


def adapter_sha256(run_dir: Path) -> str:
    return sha256_file(run_dir / ADAPTER_DIR / "adapter_model.safetensors")


def evaluate_artifacts(
    run_dir: Path, artifacts: list[str], export=None, llamacpp_server: str = "auto"
) -> dict[str, dict]:
    """Measures every chosen artifact (checked to exist before any model loads or server starts);
    writes RUN/eval/artifacts/<artifact>.json and report.md; returns the results by artifact."""
    run = RunFolder(Path(run_dir))
    choices = parse_artifacts(artifacts)
    tasks = measured_tasks(run.recipe)
    export = export or find_run_export(run.path, choices)
    out = run.path / "eval" / "artifacts"
    out.mkdir(parents=True, exist_ok=True)
    results, prompts = {}, None
    for choice in choices:
        with open_answerer(run, choice, export, out, llamacpp_server) as answerer:
            prompts = prompts or held_out_prompts(run, answerer.tokenizer)  # one budget for every artifact
            results[choice.key] = measure(run, tasks, answerer, prompts)
        write_json_atomic(out / f"{choice.file_stem}.json", results[choice.key])  # kept if a later one fails
    compare_with_reference(results)
    for choice in choices:  # again, with each metric's drop from the adapter's
        write_json_atomic(out / f"{choice.file_stem}.json", results[choice.key])
    write_results_markdown(out)
    return results


def compare_with_reference(results: dict[str, dict]) -> None:
    """Each artifact's drop from the adapter's value of the same metric, and of its share of replies that
    end (positive: worse), in place."""
    reference = results.get(REFERENCE)
    if reference is None:
        return
    for result in results.values():
        if "stops" in result:
            result["stops"]["drop"] = stop_drop(reference.get("stops"), result["stops"])
        for task, measured in result["tasks"].items():
            base = reference["tasks"].get(task, {}).get(measured["metric"])
            if base is None or measured["value"] is None:
                measured["drop"] = None
                continue
            change = base - measured["value"]
            measured["drop"] = change if measured["higher_is_better"] else -change


def task_failures(results: dict[str, dict], max_drop: float) -> list[str]:
    """One line per artifact and task whose metric fell more than `max_drop` below the adapter's."""
    failures = []
    for artifact, result in results.items():
        for task, measured in result["tasks"].items():
            if artifact != REFERENCE and measured.get("drop") is not None and measured["drop"] > max_drop:
                failures.append(
                    f"{artifact}: {task} {measured['metric']} {measured['value']:.4f} is {measured['drop']:.4f} "
                    f"worse than the adapter's (export.max_task_drop: {max_drop})"
                )
    return failures


def stop_failures(results: dict[str, dict], max_drop: float) -> list[str]:
    """One line per artifact whose share of replies that end on their own fell more than `max_drop` below
    the adapter's."""
    failures = []
    for artifact, result in results.items():
        stops = result.get("stops", {})
        if artifact != REFERENCE and stops.get("drop") is not None and stops["drop"] > max_drop:
            failures.append(
                f"{artifact}: {stops['share']:.1%} of {stops['prompts']} held-out replies end on their own within "
                f"{stops['max_tokens']} tokens, against the adapter's {stops['share'] + stops['drop']:.1%} "
                f"(export.max_stop_drop: {max_drop}); check its EOS id, generation_config and chat template"
            )
    return failures


def metric_cell(measured: dict | None, reference: bool = False) -> str:
    """The value and, but for the adapter itself, its change from the adapter's: accuracy 0.8125 (-0.0156)."""
    if measured is None or measured["value"] is None:
        return ""
    drop = measured.get("drop")
    change = f" ({0.0 - drop:+.4f})" if drop is not None and not reference else ""  # 0.0 - 0.0 is +0.0
    return f"{measured['metric']} {measured['value']:.4f}{change}"


def write_results_markdown(out: Path) -> None:
    """report.md over every artifact measured for the current adapter (older results are left out)."""
    current = adapter_sha256(out.parent.parent)
    found = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    found = [r for r in found if r.get("adapter_sha256") == current]
    found.sort(key=lambda r: r["artifact"] != REFERENCE)
    if any(r["artifact"] == REFERENCE for r in found):
        compare_with_reference({r["artifact"]: r for r in found})
    tasks = list(dict.fromkeys(task for r in found for task in r["tasks"]))
    header = "| artifact | " + " | ".join(tasks) + " | replies that end | method | seconds |"
    lines = [header, "|---" * (len(tasks) + 4) + "|"]
    for r in found:
        methods = "; ".join(dict.fromkeys(m["method"] for m in r["tasks"].values()))
        cells = [metric_cell(r["tasks"].get(task), r["artifact"] == REFERENCE) for task in tasks]
        cells.append(stop_cell(r.get("stops")))
        lines.append(f"| {r['artifact']} | " + " | ".join(cells) + f" | {methods} | {r['seconds']} |")
    write_text_atomic(
        out / "report.md",
        "# Task metric per artifact\n\nThe recipe's own metric on its held-out split, greedy; in brackets the "
        "change from the adapter (in process). Served artifacts answered through the OpenAI-compatible API. "
        "Replies that end: the share of held-out prompts whose greedy reply ended on its own (end-of-turn "
        "token) within the budget, and the mean reply length in tokens.\n\n" + "\n".join(lines) + "\n",
    )
