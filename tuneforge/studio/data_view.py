"""The Data screen: a recipe's data as `tuneforge data inspect` reports it, the lengths of its samples in
tokens against model.max_seq_length, and its first samples as the model sees them.

    GET /recipes/{name}/data?profile=cpu&split=train&n=5      the page
    GET /api/recipes/{name}/data?profile=cpu&split=train&n=5  the same as JSON

Only the recipe, the data and the tokenizer are loaded (no model weights); the tokenized data comes from
the data cache that training and `tuneforge data inspect` share, and the tokenizer is kept per model folder.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from tuneforge.data.prepare import prepare_datasets
from tuneforge.data.splits import SPLITS, read_split_file
from tuneforge.errors import UserError
from tuneforge.models import resolve_model
from tuneforge.recipe.loading import load_recipe, recipe_profiles
from tuneforge.recipe.schema import Recipe
from tuneforge.registry import get_method
from tuneforge.studio.context import studio_of
from tuneforge.studio.data_samples import sample_kind, sample_views
from tuneforge.studio.pages import page
from tuneforge.train.methods.rows import kept_samples

router = APIRouter()
SHOWN = Query(5, ge=1, le=50, description="how many samples of the split to show")
HISTOGRAM_BINS = 32
# Two requests for one recipe would tokenize it twice and race to fill the same data cache folder.
PREPARING = threading.Lock()
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")


@router.get("/api/recipes/{name}/data")
def data_json(request: Request, name: str, profile: str | None = None, split: str = "train", n: int = SHOWN) -> dict:
    return data_of(studio_of(request).recipe_path(name), name, profile or None, split, n)


@router.get("/recipes/{name}/data", response_class=HTMLResponse)
def data_page(request: Request, name: str, profile: str | None = None, split: str = "train", n: int = SHOWN):
    path = studio_of(request).recipe_path(name)
    header = {
        "name": name,
        "profile": profile or "",
        "profiles": profile_names(path),
        "split": split,
        "splits": SPLITS,
        "n": n,
        "nav": "recipes",
        "visible": visible_whitespace,
    }
    try:
        view = data_of(path, name, profile or None, split, n)
    except UserError as error:  # the page keeps its choosers, so another profile is one click away
        return page(request, "data.html", status_code=400, problem=error, view=None, **header)
    charts = {series: histogram_chart(hist, view["max_seq_length"]) for series, hist in view["lengths"].items()}
    return page(request, "data.html", view=view, charts=charts, problem=None, **header)


def data_of(path: Path, name: str, profile: str | None, split: str, shown: int) -> dict:
    """Everything the screen shows, as JSON: the data report, the length histograms and the first samples."""
    if split not in SPLITS:
        raise UserError(f"no split called {split!r}", fix=f"pick one of {', '.join(SPLITS)}")
    recipe, _ = load_recipe(path, profile=profile)
    tokenizer = recipe_tokenizer(recipe)
    with PREPARING:
        datasets, report = prepare_datasets(recipe.data, tokenizer, recipe.model.max_seq_length)
    kept = {
        part: kept_samples(read_split_file(report.split_files / f"{part}.jsonl"), datasets[part]) for part in SPLITS
    }
    get_method(recipe.train.method).preflight(recipe, kept["train"])  # as training checks them (GRPO's fields)
    lengths = {part: token_lengths(datasets[part]) for part in SPLITS}
    lengths = {"all": [length for part in SPLITS for length in lengths[part]]} | lengths
    kind = sample_kind(recipe)
    return {
        "recipe": name,
        "profile": profile,
        "method": recipe.train.method,
        "format": recipe.data.format,
        "max_seq_length": recipe.model.max_seq_length,
        "report": report.to_json(),
        "lengths": {series: histogram(values, recipe.model.max_seq_length) for series, values in lengths.items()},
        "split": split,
        "kind": kind,
        "kept_in_split": len(kept[split]),
        "samples": sample_views(kind, kept[split][:shown], tokenizer, recipe),
    }


def profile_names(path: Path) -> list[str]:
    """The recipe's profiles for the chooser (none where the file cannot be read: the page says why)."""
    try:
        return list(recipe_profiles(path))
    except UserError:
        return []


# ---------------------------------------------------------------- the tokenizer, kept per model folder


def recipe_tokenizer(recipe: Recipe):
    """The tokenizer `tuneforge data inspect` loads for the recipe, loaded once per model folder (and again
    when that folder's tokenizer files change)."""
    folder = resolve_model(recipe.model.base).path
    return cached_tokenizer(str(folder), recipe.model.trust_remote_code, tokenizer_stamp(folder))


def tokenizer_stamp(folder: Path) -> tuple:
    return tuple((name, (folder / name).stat().st_mtime_ns) for name in TOKENIZER_FILES if (folder / name).is_file())


def warm_tokenizer_stack() -> None:
    """Imports transformers' tokenizers (5-9 s on 2 cores, torch included) in the background once the studio
    listens, so the first Data page a user opens is as quick as the next; the studio starts without it."""
    from transformers import AutoTokenizer  # noqa: F401


@lru_cache(maxsize=8)
def cached_tokenizer(folder: str, trust_remote_code: bool, stamp: tuple):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)


# ---------------------------------------------------------------- lengths


def token_lengths(dataset) -> list[int]:
    """Each tokenized sample's length, read from the Arrow column (no Python list of every token id)."""
    import pyarrow.compute as pc

    return pc.list_value_length(dataset.data.column("input_ids")).to_pylist()


def histogram(lengths: list[int], max_seq_length: int) -> dict:
    """Sample lengths in tokens counted in equal bins from 0 to past the longest sample and max_seq_length."""
    top = max([max_seq_length, *lengths]) + 1
    width = math.ceil(top / HISTOGRAM_BINS)
    counts = [0] * math.ceil(top / width)
    for length in lengths:
        counts[length // width] += 1
    ordered = sorted(lengths)
    return {
        "samples": len(lengths),
        "shortest": ordered[0] if ordered else None,
        "median": ordered[len(ordered) // 2] if ordered else None,
        "longest": ordered[-1] if ordered else None,
        "bin_width": width,
        "counts": counts,
    }


def histogram_chart(hist: dict, max_seq_length: int, width: int = 720, height: int = 260) -> dict:
    """The geometry of one histogram's SVG: bars, axis ticks and the max_seq_length line."""
    left, right, top, bottom = 52, 16, 14, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    span = hist["bin_width"] * len(hist["counts"])
    peak = max(hist["counts"]) or 1

    def x_of(tokens: float) -> float:
        return round(left + tokens / span * plot_w, 1)

    def y_of(count: float) -> float:
        return round(top + plot_h - count / peak * plot_h, 1)

    bars = [
        {
            "x": x_of(index * hist["bin_width"]),
            "y": y_of(count),
            "w": round(max(plot_w / len(hist["counts"]) - 1, 1), 1),
            "h": round(count / peak * plot_h, 1),
            "count": count,
            "low": index * hist["bin_width"],
            "high": (index + 1) * hist["bin_width"] - 1,
        }
        for index, count in enumerate(hist["counts"])
    ]
    step = nice_step(span / 5)
    x_ticks = [{"x": x_of(value), "label": value} for value in range(0, span + 1, step)]
    y_ticks = [{"y": y_of(value), "label": value} for value in range(0, peak + 1, nice_step(peak / 4))]
    return {
        "width": width,
        "height": height,
        "plot": {"left": left, "right": width - right, "top": top, "bottom": top + plot_h},
        "bars": bars,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "limit_x": x_of(max_seq_length),
    }


def nice_step(raw: float) -> int:
    """The 1, 2 or 5 times a power of ten nearest above `raw` (at least 1): readable tick spacing."""
    if raw <= 1:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    return next(int(factor * power) for factor in (1, 2, 5, 10) if factor * power >= raw)


# ---------------------------------------------------------------- token text


def visible_whitespace(text: str) -> Markup:
    """A token's text, escaped, with its spaces, tabs and newlines drawn (a newline still breaks the line)."""
    marked = str(escape(text))
    # A drawn space leaves no place to wrap a long line, so each one offers a line break (<wbr>).
    for char, drawn in ((" ", "·</span><wbr>"), ("\t", "→</span><wbr>"), ("\n", "↵</span>\n")):
        marked = marked.replace(char, f'<span class="ws">{drawn}')
    return Markup(marked)
