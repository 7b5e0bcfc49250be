"""The Markdown report of a run comparison (tuneforge.evaluate.compare), for a reader: the two runs, the
settings that differ, the metrics side by side with their intervals, and the items whose result changed."""

from __future__ import annotations

TEXT = 240  # characters of a prompt, reference or output shown; compare.json holds them whole


def number(value) -> str:
    if value is None:
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def signed(value, digits: int = 4) -> str:
    return "–" if value is None else f"{value:+.{digits}g}"


def clip(text: str | None) -> str:
    if text is None:
        return "–"
    return repr(text if len(text) <= TEXT else text[:TEXT] + "…")


def cell(value) -> str:
    """A value in a table cell: a line of its own, with no column separator."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def comparison_markdown(comparison: dict) -> str:
    a, b = comparison["a"], comparison["b"]
    sections = [
        f"# Run comparison: {b['recipe']}/{b['run_id']} (B) against {a['recipe']}/{a['run_id']} (A)",
        runs_markdown(comparison),
        settings_markdown(comparison["settings"]),
        metrics_markdown(comparison),
    ]
    sections += [items_markdown(task, section) for task, section in comparison["tasks"].items()]
    return "\n\n".join(sections) + "\n"


def runs_markdown(comparison: dict) -> str:
    a, b = comparison["a"], comparison["b"]
    measured = f"artifact {comparison['artifact']}" if comparison["artifact"] else "`tuneforge eval` (the adapter)"
    rows = [
        ("run", a["run"], b["run"]),
        ("recipe", a["recipe"], b["recipe"]),
        ("base model", a["base_model"], b["base_model"]),
        ("method", a["method"], b["method"]),
        ("measured", measured, measured),
    ]
    return "| | A | B |\n|---|---|---|\n" + "\n".join(f"| {name} | {cell(x)} | {cell(y)} |" for name, x, y in rows)


def settings_markdown(settings: dict) -> str:
    differences = settings["differences"]
    data = ", ".join(
        f"{split} {'the same' if found['same'] else 'different'}" for split, found in settings["data_sha256"].items()
    )
    lines = [f"## Settings that differ ({len(differences)})", ""]
    if differences:
        lines += ["| key | A | B |", "|---|---|---|"]
        lines += [
            f"| `{d['key']}` | {cell(d.get('a', '(absent)'))} | {cell(d.get('b', '(absent)'))} |" for d in differences
        ]
    else:
        lines.append("None: the two resolved recipes are the same.")
    lines += ["", f"Data splits (sha256 of each split's samples): {data or 'not recorded'}."]
    return "\n".join(lines)


def metrics_markdown(comparison: dict) -> str:
    boot = comparison["bootstrap"]
    level = f"{boot['level']:.0%}"
    lines = [
        "## Metrics",
        "",
        f"B − A, with the {level} interval of a {boot['method']} ({boot['resamples']} resamples, seed "
        f"{boot['seed']}); **bold**: the interval excludes 0.",
        "",
        f"| task | metric | A | B | B − A | {level} interval | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in comparison["metrics"]:
        interval = row["interval"]
        span = f"[{signed(interval['low'])}, {signed(interval['high'])}]" if interval else "–"
        difference = f"**{signed(row['difference'])}**" if row["excludes_zero"] else signed(row["difference"])
        lines.append(
            f"| {row['task']} | {cell(row['metric'])} | {number(row['a'])} | {number(row['b'])} | {difference} | "
            f"{span} | {cell(row['note'] or '')} |"
        )
    return "\n".join(lines)


def items_markdown(task: str, section: dict) -> str:
    title = f"## {task}: items whose result changed"
    if not section["paired"]:
        return f"{title}\n\n{section['note'][0].upper()}{section['note'][1:]}."
    up, down = change_names(section)
    paired = section["items"]["b"]
    lines = [
        title,
        "",
        f"Paired on {paired} items (per-item score: {section['score']}): {section['improved_count']} {up}, "
        f"{section['worsened_count']} {down}, {section['unchanged_count']} unchanged.",
    ]
    for name, key in ((up, "improved"), (down, "worsened")):
        shown = section[key]
        if shown:
            order = "" if section["right_or_wrong"] else ", the largest changes first"
            lines += ["", f"### {name} ({len(shown)} of {section[f'{key}_count']}{order})", ""]
            lines += [item_markdown(item) for item in shown]
    return "\n".join(lines)


def change_names(section: dict) -> tuple[str, str]:
    """What an improved and a worsened item are called: wrong -> right for right-or-wrong scores."""
    return ("wrong → right", "right → wrong") if section["right_or_wrong"] else ("improved", "worsened")


def item_markdown(item: dict) -> str:
    group = f"[{item['group']}] " if item["group"] else ""
    reference = f"\n  - reference: {clip(item['reference'])}" if item["reference"] is not None else ""
    return (
        f"- {group}{clip(item['prompt'])}{reference}\n"
        f"  - A ({number(item['a']['score'])}): {clip(item['a']['output'])}\n"
        f"  - B ({number(item['b']['score'])}): {clip(item['b']['output'])}"
    )
