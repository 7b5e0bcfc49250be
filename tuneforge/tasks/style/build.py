"""`tuneforge data build-style FOLDER --out DIR [--recipe style]`: the style dataset as files.

Writes DIR/sft_train.jsonl, DIR/sft_val.jsonl (and sft_test.jsonl when the recipe has a test split),
one {"system", "input", "output", "task", "source"} object per line, and DIR/dataset_stats.json.
It runs the code training runs (`format: markdown` through its data section's reader, then the same filter and
the same article-grouped split), so the files hold exactly the samples a run of that recipe trains
and validates on. Chunk sizes, templates and meta handling come from the recipe's data.markdown
(`-o data.markdown.chunk_max_tokens=600` and friends change them).
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections import Counter
from pathlib import Path

import click

from tuneforge.cli_options import override_option, profile_option
from tuneforge.data.prepare import DataReport, filter_samples, split_samples
from tuneforge.data.tokenize import encode_conversation
from tuneforge.errors import ProblemCollector, UserError
from tuneforge.files import write_json_atomic, write_text_atomic
from tuneforge.recipe.loading import load_recipe
from tuneforge.tasks.style.markdown import load_tokenizer
from tuneforge.tasks.style.samples import build_style_samples

log = logging.getLogger(__name__)


def load_style_recipe(folder: Path, recipe_ref: str, overrides: list[str], profile: str | None = None):
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder", fix="pass the folder that holds the Markdown articles")
    recipe, _ = load_recipe(recipe_ref, [*overrides, f"data.train={json.dumps(str(folder.resolve()))}"], profile)
    if recipe.data.format != "markdown":
        raise UserError(
            f"recipe {recipe.name!r} reads data.format: {recipe.data.format}, not markdown",
            fix="use --recipe style, or a recipe with data.format: markdown",
        )
    return recipe


def build_style(
    folder: Path, out: Path, recipe_ref: str = "style", overrides: list[str] | None = None, profile: str | None = None
) -> dict:
    """Build the dataset files; returns the stats (also written to dataset_stats.json)."""
    recipe = load_style_recipe(folder, recipe_ref, list(overrides or []), profile)
    started = time.perf_counter()
    load_tokenizer(recipe.data.markdown.tokenizer)  # cached for the build; timed apart from it
    loaded = time.perf_counter()
    problems = ProblemCollector(f"the articles in {folder} have problems")
    build = build_style_samples(folder.resolve(), recipe.data, problems)
    problems.raise_if_any(fix="correct the files named above (data.markdown in the recipe says what is required)")
    if not build.samples:
        raise UserError(
            f"{folder}: no samples: every article is shorter than data.markdown.chunk_min_tokens="
            f"{recipe.data.markdown.chunk_min_tokens}",
            fix="add text or lower chunk_min_tokens (-o)",
        )
    report = DataReport(loaded=len(build.samples))
    splits = split_samples(filter_samples(build.samples, recipe.data, report), recipe.data)
    seconds = time.perf_counter() - loaded
    written = {f"sft_{name}.jsonl": split for name, split in splits.items() if name != "test" or split}
    for name, samples in written.items():
        write_text_atomic(out / name, "".join(json.dumps(seed_record(s), ensure_ascii=False) + "\n" for s in samples))
    stats = dataset_stats(recipe, folder, build, report, splits, seconds)
    stats["tokenizer_load_seconds"] = round(loaded - started, 3)
    write_json_atomic(out / "dataset_stats.json", stats)
    log.info(
        "%s: %d samples (%s) in %.2f s",
        out,
        len(build.samples),
        ", ".join(f"{n} {k}" for k, n in stats["samples"]["splits"].items()),
        seconds,
    )
    return stats


def seed_record(sample) -> dict:
    """The predecessor project's sample layout, plus the template and where the chunk starts."""
    by_role = {message["role"]: message["content"] for message in sample.messages}
    return {
        "system": by_role.get("system", ""),
        "input": by_role["user"],
        "output": by_role["assistant"],
        "task": sample.meta["task"],
        "source": sample.source,
    }


def number_summary(values: list[int]) -> dict:
    return {"min": min(values), "mean": round(statistics.fmean(values), 1), "max": max(values)} if values else {}


def sample_lengths(recipe, samples) -> dict:
    """Token length per template as training encodes it (chat template included)."""
    tokenizer = load_tokenizer(recipe.data.markdown.tokenizer)
    lengths: dict[str, list[int]] = {}
    for sample in samples:
        ids, _ = encode_conversation(tokenizer, sample.messages, recipe.data.assistant_only_loss)
        lengths.setdefault(sample.meta["task"], []).append(len(ids))
    limit = recipe.model.max_seq_length
    return {
        task: {**number_summary(values), "over_max_seq_length": sum(v > limit for v in values)}
        for task, values in lengths.items()
    }


def dataset_stats(recipe, folder: Path, build, report, splits: dict, seconds: float) -> dict:
    config = recipe.data.markdown
    chunk_tokens = [chunk.tokens for chunk in build.chunks]
    return {
        "folder": str(folder),
        "recipe": recipe.name,
        "tokenizer": config.tokenizer,
        "articles": {
            "read": build.report.articles,
            "drafts_skipped": build.report.drafts_skipped,
            "too_short": build.report.too_short,
        },
        "chunks": {
            "count": len(build.chunks),
            "bounds": [config.chunk_min_tokens, config.chunk_max_tokens],
            "tokens": number_summary(chunk_tokens),
            "outside_bounds": build.report.chunks_outside_bounds,
        },
        "samples": {
            "built": len(build.samples),
            "by_task": dict(Counter(s.meta["task"] for s in build.samples)),
            "chunks_without_sample": build.skipped,
            "filtered": dict(report.filtered),
            "splits": {name: len(split) for name, split in splits.items()},
            "split_by": "article (all tasks of one article share a split)",
        },
        "sample_tokens": sample_lengths(recipe, build.samples),
        "max_seq_length": recipe.model.max_seq_length,
        "summary_method": "summarize_expand input: the first sentence of each paragraph of the chunk (extractive)",
        "meta": {
            "tags": dict(Counter(tag for meta in build.meta for tag in meta.get("tags", []))),
            "lang": dict(Counter(str(meta.get("lang", "unset")) for meta in build.meta)),
        },
        "seconds": round(seconds, 3),  # reading, cleaning, chunking, tasks, filter and split (not writing)
        "samples_per_second": round(len(build.samples) / seconds, 1) if seconds else None,
    }


@click.command(name="build-style")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for sft_train.jsonl, sft_val.jsonl and dataset_stats.json.",
)
@click.option(
    "--recipe",
    "recipe_ref",
    default="style",
    show_default=True,
    help="Recipe whose data.markdown (chunk sizes, templates, meta), split and model.base to use.",
)
@override_option
@profile_option
def build_style_command(
    folder: Path, out: Path, recipe_ref: str, overrides: tuple[str, ...], profile: str | None
) -> None:
    """Turn a folder of Markdown articles (each with meta.json) into the style SFT dataset files."""
    stats = build_style(folder, out, recipe_ref, list(overrides), profile)
    click.echo(
        json.dumps(
            {
                "out": str(out),
                "samples": stats["samples"]["splits"],
                "chunks": stats["chunks"]["count"],
                "samples_per_second": stats["samples_per_second"],
            }
        )
    )
