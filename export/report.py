"""export/report.json and export/report.md: what each artifact costs and how faithful it is.

One row per artifact (size, seconds to produce, top-1 agreement and perplexity against the merged
model) and, with a task evaluation, the recipe's task metric against the adapter's, with the
verdict of export.max_task_drop; and the share of held-out replies that end on their own against the
adapter's, with the verdict of export.max_stop_drop.
"""

from __future__ import annotations

from pathlib import Path

from tuneforge.eval.stops import stop_cell
from tuneforge.evaluate.artifact import REFERENCE, choice_of_export_key, metric_cell
from tuneforge.export.checks import task_summary
from tuneforge.export.ollama_check import report_note
from tuneforge.files import write_json_atomic, write_text_atomic

REPORT_COLUMNS = ("artifact", "file", "MB", "seconds", "top1_agreement", "perplexity")
TASK_COLUMN = "task metric"
STOP_COLUMN = "replies that end"
TASK_NOTE = (
    " The task metric is the recipe's own, on its held-out split, greedy; in brackets its change from the "
    "adapter's (in process). Replies that end: the share of held-out prompts whose greedy reply ended on its "
    "own within the budget, its change from the adapter's, and the mean reply length in tokens. Served GGUFs "
    "and bundles answered through the OpenAI-compatible API (details: RUN/eval/artifacts/)."
)


def task_cell(task: dict | None, choice_key: str | None) -> str:
    """The task metric of one artifact for the report ("" where it was not measured)."""
    if task is None or choice_key not in task["results"]:
        reason = task["skipped"].get(choice_key) if task and choice_key else None
        return f"not measured: {reason}" if reason else ""
    measured = task["results"][choice_key]["tasks"].values()
    return "; ".join(f"{metric_cell(m, choice_key == REFERENCE)}" for m in measured)


def task_fields(task: dict, choice_key: str | None) -> dict:
    """The report's task metric cell, and the numbers behind it for report.json's readers."""
    result = task["results"].get(choice_key)
    numbers = {
        name: {key: measured.get(key) for key in ("metric", "value", "drop", "higher_is_better", "method")}
        for name, measured in (result["tasks"].items() if result else ())
    }
    stops = result.get("stops") if result else None
    return {
        TASK_COLUMN: task_cell(task, choice_key),
        "task_metrics": numbers or None,
        STOP_COLUMN: stop_cell(stops),
        "stops": stops,
    }


def report_rows(artifacts: dict, task: dict | None) -> list[dict]:
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
        rows.insert(0, {"artifact": "adapter", "file": "adapter/", **blank, **task_fields(task, REFERENCE)})
    return rows


def report_cell(row: dict, column: str) -> str:
    value = row[column]
    if column == "top1_agreement" and row["artifact"] == "merged":
        return "(reference)"
    if column in (TASK_COLUMN, STOP_COLUMN) and row["artifact"] == "adapter":
        return f"{value} (reference)"
    if value is None:
        return ""
    return f"{value:.1%}" if column == "top1_agreement" else str(value)


def markdown_table(rows: list[dict], columns: tuple[str, ...]) -> list[str]:
    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return table + ["| " + " | ".join(report_cell(row, column) for column in columns) + " |" for row in rows]


def failure_verdict(task: dict | None) -> str:
    """The report's opening when the task metric fell too far ("" otherwise)."""
    if not (task and task["failures"]):
        return ""
    listed = "\n".join(f"- {line}" for line in task["failures"])
    return f"**FAILED**: an artifact fell too far below the adapter, so no export.json was written:\n\n{listed}\n\n"


def write_report(out: Path, artifacts: dict, task: dict | None = None) -> None:
    """export/report.json and report.md: size, time to produce and fidelity of every artifact, and
    with a task evaluation its task metric against the adapter's, marked FAILED when one fell more
    than export.max_task_drop or its share of replies that end more than export.max_stop_drop. A kept artifact reports the time it took when it was made."""
    rows = report_rows(artifacts, task)
    columns = (*REPORT_COLUMNS, TASK_COLUMN, STOP_COLUMN) if task else REPORT_COLUMNS
    write_json_atomic(
        out / "report.json",
        {"reference": "merged", "artifacts": rows, **({"task_metric": task_summary(task)} if task else {})},
    )
    verdict = failure_verdict(task)
    write_text_atomic(
        out / "report.md",
        f"# Export fidelity{' (FAILED)' if verdict else ''}\n\n{verdict}Top-1 next-token agreement and perplexity "
        f"are measured on the run's held-out conversations against the merged 16-bit model.{TASK_NOTE if task else ''}"
        "\n\n" + "\n".join(markdown_table(rows, columns)) + "\n" + report_note(artifacts),
    )
