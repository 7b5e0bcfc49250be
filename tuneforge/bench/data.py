"""Data-prep benchmark: our tokenize + cache path against the tokenizer's raw batch-encode rate.

    tuneforge bench data --samples 2000

Generates a ShareGPT file, then times `tuneforge.data.prepare.prepare_datasets` (read, filter,
split, chat template + loss mask, tokenized cache written) with a cold cache in a temporary
TUNEFORGE_CACHE, the same call again (cache hit), and the embedded tokenizer's batch encode of the
same conversations rendered through the chat template (rendering not timed).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from tuneforge.bench.train_inputs import write_data
from tuneforge.data.prepare import prepare_datasets
from tuneforge.models import resolve_model
from tuneforge.recipe.loading import load_recipe
from tuneforge.recipe.schema import EMBEDDED_DEFAULT
from tuneforge.tasks.conversation.schema import ConversationSection


@contextmanager
def temporary_cache():
    """A cold TUNEFORGE_CACHE for the duration (the tokenized-data cache lives under it)."""
    previous = os.environ.get("TUNEFORGE_CACHE")
    with tempfile.TemporaryDirectory(prefix="tuneforge-bench-cache-") as folder:
        os.environ["TUNEFORGE_CACHE"] = folder
        try:
            yield Path(folder)
        finally:
            os.environ.pop("TUNEFORGE_CACHE")
            if previous is not None:
                os.environ["TUNEFORGE_CACHE"] = previous


def timed(call):
    began = time.perf_counter()
    value = call()
    return time.perf_counter() - began, value


def raw_texts(path: Path, tokenizer) -> list[str]:
    roles = {"human": "user", "gpt": "assistant", "system": "system"}
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        tokenizer.apply_chat_template(
            [{"role": roles[t["from"]], "content": t["value"]} for t in record["conversations"]], tokenize=False
        )
        for record in records
    ]


def bench_data(samples: int, seq: int = 1024) -> list[dict]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(resolve_model(EMBEDDED_DEFAULT).path))
    with temporary_cache() as cache:
        data_file = write_data(cache / "sharegpt.jsonl", samples, seq)
        data = ConversationSection(
            format="sharegpt", train=[data_file], split={"val": 0.0}, filter={"overlength": "truncate"}
        )
        cold, (datasets, _) = timed(lambda: prepare_datasets(data, tokenizer, seq))
        warm, _ = timed(lambda: prepare_datasets(data, tokenizer, seq))
        texts = raw_texts(data_file, tokenizer)
        raw, encoded = timed(lambda: tokenizer(texts)["input_ids"])
    tokens = sum(len(ids) for ids in encoded)
    kept = len(datasets["train"])
    rows = [
        ("prepare_datasets, cold cache (template + loss mask + cache write)", cold, kept),
        ("prepare_datasets, warm cache (read back)", warm, kept),
        ("tokenizer batch encode, raw (no template, mask or cache)", raw, len(texts)),
    ]
    return [
        {
            "stage": stage,
            "samples": count,
            "seconds": round(seconds, 3),
            "samples_per_s": round(count / seconds, 1),
            "tokens": tokens,
            "seq": seq,
        }
        for stage, seconds, count in rows
    ]


def bench_recipe_data(names: list[str]) -> list[dict]:
    """Cold prepare_datasets (read, filter, split, template, tokenize, cache) on each recipe's own
    data with the embedded tokenizer, as its CPU make target runs it."""
    from transformers import AutoTokenizer

    embedded = resolve_model(EMBEDDED_DEFAULT).path
    tokenizer = AutoTokenizer.from_pretrained(str(embedded))
    rows = []
    for name in names:
        recipe, _ = load_recipe(name, [f"model.base={EMBEDDED_DEFAULT}"])
        with temporary_cache() as cache:
            (cache / "models").symlink_to(embedded.parent)  # the model cache is shared: nothing is reconverted
            seconds, (_, report) = timed(
                lambda data=recipe.data, seq=recipe.model.max_seq_length: prepare_datasets(data, tokenizer, seq)
            )
        rows.append(
            {
                "recipe": name,
                "format": recipe.data.format,
                "samples": report.loaded,
                "kept": sum(report.splits.values()),
                "seconds": round(seconds, 3),
                "samples_per_s": round(report.loaded / seconds, 1),
            }
        )
    return rows


def recipes_markdown(results: list[dict]) -> str:
    lines = [
        "| recipe | format | samples read | kept after filter and tokenize | seconds (cold) | samples/s |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['recipe']} | {r['format']} | {r['samples']} | {r['kept']} | {r['seconds']} | {r['samples_per_s']} |"
        for r in results
    ]
    return "\n".join(lines) + "\n"


def markdown(results: list[dict]) -> str:
    raw = results[-1]["samples_per_s"]
    lines = ["| stage | samples | seconds | samples/s | vs raw encode |", "|---|---|---|---|---|"]
    lines += [
        f"| {r['stage']} | {r['samples']} | {r['seconds']} | {r['samples_per_s']} | {r['samples_per_s'] / raw:.2f}× |"
        for r in results
    ]
    return "\n".join(lines) + f"\n\n{results[0]['tokens']} tokens in all (embedded SmolLM2 tokenizer).\n"
