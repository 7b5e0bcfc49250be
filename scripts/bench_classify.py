"""Classification label scoring, old vs new, side by side on the same texts and the same model.

    .venv/bin/python scripts/bench_classify.py [--texts 400] [--batch-size 16] [--adapter both|on|off]
        [-o model.max_seq_length=512] [--output bench/classify.json]

old: what the Predictor did before: one sequence per (text, label) pair, in the texts' own order,
right-padded to the longest pair of the batch, log-softmax over every position.
new: the Predictor now: the prompts' shared start (system prompt, instruction) run once, texts sorted
by length, one left-padded pass per batch over the rest that keeps the last position's logits (every
label's first token), label tails from the KV cache.

Texts: N reviews of 100-200 Chinese characters (length drawn uniformly, seeded), each made by joining
randomly drawn reviews of one label from recipes/sentiment/data/reviews.jsonl until it is long enough,
then cut to its length. Model: the embedded SmolLM2-135M-Instruct in float32 (as the Predictor loads
it) with a LoRA of the sentiment recipe's shape and random weights (no trained run needed: the cost is
the same, and a non-zero adapter makes the adapter-on comparison meaningful). Prompts are the sentiment
recipe's, cut by its own rule (data.filter.overlength: truncate_input, model.max_seq_length 256 unless
overridden). Both adapter settings are timed; old and new alternate block by block so that both see
the same load on a shared machine. Prints a Markdown table for BENCHMARKS.md and, with --output, JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import time
from pathlib import Path

REVIEWS = Path(__file__).resolve().parents[1] / "recipes" / "sentiment" / "data" / "reviews.jsonl"


def review_texts(count: int, seed: int = 0) -> list[str]:
    """`count` texts of 100-200 characters, each joined from short reviews that share one label."""
    rng = random.Random(seed)
    rows = [json.loads(line) for line in REVIEWS.read_text(encoding="utf-8").splitlines()]
    by_label = {label: [row["text"] for row in rows if row["label"] == label] for label in (0, 1)}
    texts = []
    for index in range(count):
        pool, length, text = by_label[index % 2], rng.randint(100, 200), ""
        while len(text) < length:
            text += rng.choice(pool)
        texts.append(text[:length])
    return texts


def old_scores(predictor, prompts: list[list[int]], use_adapter: bool) -> list[dict]:
    """The pair-by-pair scoring the Predictor used before (kept here as the reference being replaced)."""
    import torch

    from tuneforge.tasks.classification.predict import label_result

    pairs = [(prompt, label) for prompt in prompts for label in predictor.label_ids]
    width = max(len(p) + len(label) for p, label in pairs)
    pad = predictor.tokenizer.pad_token_id
    input_ids = torch.tensor([p + label + [pad] * (width - len(p) - len(label)) for p, label in pairs])
    mask = torch.tensor([[1] * (len(p) + len(label)) + [0] * (width - len(p) - len(label)) for p, label in pairs])
    adapter_off = contextlib.nullcontext() if use_adapter else predictor.model.disable_adapter()
    with torch.inference_mode(), adapter_off:
        log_probs = torch.log_softmax(predictor.model(input_ids=input_ids, attention_mask=mask).logits.float(), dim=-1)
    scores = torch.tensor(
        [
            sum(log_probs[row, len(p) + i - 1, token].item() for i, token in enumerate(label))
            for row, (p, label) in enumerate(pairs)
        ]
    ).view(len(prompts), len(predictor.labels))
    return [label_result(predictor.labels, row.tolist()) for row in torch.softmax(scores, dim=-1)]


def old_predict(predictor, texts: list[str], use_adapter: bool) -> list[dict]:
    results = []
    for start in range(0, len(texts), predictor.batch_size):
        prompts = [predictor.prompt_ids(text) for text in texts[start : start + predictor.batch_size]]
        results += old_scores(predictor, prompts, use_adapter)
    return results


def load_predictor(overrides: list[str], batch_size: int):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneforge.builtins import register_builtins
    from tuneforge.models import resolve_model
    from tuneforge.recipe.loading import load_recipe
    from tuneforge.recipe.schema import EMBEDDED_DEFAULT
    from tuneforge.tasks.classification.predict import Predictor

    register_builtins()
    recipe, _ = load_recipe("sentiment", [f"model.base={EMBEDDED_DEFAULT}", *overrides])
    folder = str(resolve_model(recipe.model.base).path)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, use_safetensors=True)
    torch.manual_seed(0)
    lora = LoraConfig(
        r=recipe.lora.r,
        lora_alpha=recipe.lora.alpha,
        target_modules=recipe.lora.target_modules,
        init_lora_weights=False,  # random A and B: the adapter changes the scores, as a trained one would
    )
    peft_model = get_peft_model(model, lora)
    return Predictor.from_model(recipe, peft_model, AutoTokenizer.from_pretrained(folder), batch_size=batch_size)


def timed(produce) -> tuple[list[dict], float]:
    start = time.perf_counter()
    results = produce()
    return results, time.perf_counter() - start


def compare(predictor, texts: list[str], use_adapter: bool, block: int) -> dict:
    """Old and new over the same texts, alternating blocks of `block` texts."""
    old, new, seconds = [], [], {"old": 0.0, "new": 0.0}
    for start in range(0, len(texts), block):
        chunk = texts[start : start + block]
        results, took = timed(lambda chunk=chunk: old_predict(predictor, chunk, use_adapter))
        old, seconds["old"] = old + results, seconds["old"] + took
        results, took = timed(lambda chunk=chunk: predictor.predict_batch(chunk, use_adapter=use_adapter))
        new, seconds["new"] = new + results, seconds["new"] + took
    delta = max(
        abs(o["probabilities"][k] - n["probabilities"][k]) for o, n in zip(old, new) for k in o["probabilities"]
    )
    return {
        "adapter": use_adapter,
        "old_s": seconds["old"],
        "new_s": seconds["new"],
        "speedup": seconds["old"] / seconds["new"],
        "labels_identical": [o["label"] for o in old] == [n["label"] for n in new],
        "max_abs_prob_delta": delta,
    }


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--block",
        type=int,
        default=200,
        help="texts per alternation of old and new; many batches, as the evaluation passes all its texts at once "
        "(sorting by length only helps across batches)",
    )
    parser.add_argument(
        "-o", dest="overrides", action="append", default=[], help="recipe override, e.g. model.max_seq_length=512"
    )
    parser.add_argument("--adapter", choices=["both", "on", "off"], default="both", help="adapter settings to time")
    parser.add_argument("--output", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args()
    texts = review_texts(args.texts)
    predictor = load_predictor(args.overrides, args.batch_size)
    lengths = sorted(len(predictor.prompt_ids(text)) for text in texts)
    settings = {"both": (True, False), "on": (True,), "off": (False,)}[args.adapter]
    rows = [compare(predictor, texts, adapter, args.block) for adapter in settings]
    setup = {
        "texts": len(texts),
        "characters": [min(map(len, texts)), max(map(len, texts))],
        "prompt_tokens": {"min": lengths[0], "median": lengths[len(lengths) // 2], "max": lengths[-1]},
        "max_seq_length": predictor.recipe.model.max_seq_length,
        "batch_size": args.batch_size,
        "torch_threads": torch.get_num_threads(),
        "label_tokens": predictor.label_ids,
    }
    print(json.dumps(setup))
    print("| adapter | old (s) | new (s) | speed-up | labels identical | max abs prob delta |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {'on' if row['adapter'] else 'off'} | {row['old_s']:.1f} | {row['new_s']:.1f} | "
            f"{row['speedup']:.2f}x | {row['labels_identical']} | {row['max_abs_prob_delta']:.2e} |"
        )
    if args.output:
        from tuneforge.files import write_json_atomic

        write_json_atomic(args.output, {"setup": setup, "results": rows})


if __name__ == "__main__":
    main()
