"""`tuneforge bench`: measured numbers for BENCHMARKS.md, written as JSON and a Markdown table.

Benchmarks measure; they assert nothing about speed. Each writes where the numbers came from
(machine, versions, command) next to them.
"""

from __future__ import annotations

import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from tuneforge.files import write_json_atomic, write_text_atomic
from tuneforge.runs import machine_description, package_versions


def write_results(out_dir: Path, name: str, results: list[dict], table: str, **fields) -> Path:
    """`<out>/<name>.json` (numbers plus machine, versions, command and any extra `fields`) and
    `<out>/<name>.md`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    context = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": {**machine_description(), "cpu": platform.processor() or platform.machine()},
        "packages": package_versions(),
    }
    write_json_atomic(out_dir / f"{name}.json", {**context, **fields, "results": results})
    write_text_atomic(out_dir / f"{name}.md", f"<!-- {context['command']} ({context['created']}) -->\n{table}")
    return out_dir / f"{name}.md"
