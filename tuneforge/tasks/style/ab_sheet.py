"""The blind A/B sheet of the style evaluation, and `tuneforge ab-tally`'s count of a filled-in one.

ab_sheet.csv / ab_sheet.md  each row shows the base and the tuned continuation in a random order
ab_key.csv                  which of A and B is the tuned model, per row (keep it away from the judge)
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.files import write_text_atomic


def _csv_text(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def write_ab_sheet(out_dir: Path, rows: list[dict], seed: int) -> dict:
    """rows: {"prompt", "base", "tuned"}. Each sheet row shows the two in a random order (seeded)."""
    rng = random.Random(seed)
    sheet, key = [], []
    for index, row in enumerate(rows, start=1):
        order = ["base", "tuned"]
        rng.shuffle(order)
        sheet.append(
            {
                "id": f"{index:03d}",
                "prompt": row["prompt"],
                "A": row[order[0]],
                "B": row[order[1]],
                "more_like_the_author": "",
            }
        )
        key.append({"id": f"{index:03d}", "A": order[0], "B": order[1]})
    write_text_atomic(out_dir / "ab_sheet.csv", _csv_text(sheet))
    write_text_atomic(out_dir / "ab_key.csv", _csv_text(key))
    table = "\n".join(f"| {r['id']} | {_cell(r['prompt'])} | {_cell(r['A'])} | {_cell(r['B'])} |  |" for r in sheet)
    write_text_atomic(
        out_dir / "ab_sheet.md",
        (
            "# Blind A/B: which continuation sounds more like the author?\n\nFor each row, read the end of the "
            "article, then continuations A and B, and write A, B or = in the last column (or in "
            "`more_like_the_author` of ab_sheet.csv). The key is in ab_key.csv: do not open it before.\n\n"
            f"| id | the article so far (end) | A | B | more like the author |\n|---|---|---|---|---|\n{table}\n"
        ),
    )
    return {"rows": len(sheet), "files": ["ab_sheet.csv", "ab_sheet.md", "ab_key.csv"]}


def tally_ab(sheet_csv: Path, key_csv: Path) -> dict[str, int]:
    """Count a filled-in sheet's verdicts through the key: tuned, base, tie (=) and unanswered."""
    with key_csv.open(encoding="utf-8", newline="") as handle:
        key = {row["id"]: row for row in csv.DictReader(handle)}
    tally = Counter({"tuned": 0, "base": 0, "tie": 0, "unanswered": 0})
    with sheet_csv.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not {"id", "more_like_the_author"} <= set(reader.fieldnames or []):
            raise UserError(
                f"{sheet_csv}:1: the header needs the columns id and more_like_the_author",
                fix="fill in the ab_sheet.csv the evaluation wrote, keeping its header",
            )
        for number, row in enumerate(reader, start=2):
            choice = (row["more_like_the_author"] or "").strip().upper()
            if choice not in ("A", "B", "=", ""):
                raise UserError(f"{sheet_csv}:{number}: more_like_the_author is {choice!r}; write A, B, = or nothing")
            if row["id"] not in key:
                raise UserError(
                    f"{sheet_csv}:{number}: id {row['id']!r} is not in {key_csv}",
                    fix="tally a sheet with the key written beside it by the same evaluation",
                )
            tally[key[row["id"]][choice] if choice in ("A", "B") else "tie" if choice == "=" else "unanswered"] += 1
    return dict(tally)
