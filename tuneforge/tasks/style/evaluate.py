"""Writing-style evaluation (`eval.style`): does the tuned model write more like the author?

Writes to the eval folder:
  perplexity                 (results.json) base vs tuned on the validation split's assistant tokens
  style_indicators.json      the style indicators (indicators.py) for the author's corpus, the author's own
                             continuations of the validation prompts (reference), base and tuned
  continuations.jsonl        every validation continuation prompt with the reference, base and tuned text, and
                             each continuation's own distance from the author
  sentence_lengths.png       sentence-length histograms: author, base, tuned
  ab_sheet.csv / ab_sheet.md a blind A/B sheet, with its key in ab_key.csv (ab_sheet.py)
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

from tuneforge.data.prepare import encode_splits
from tuneforge.data.splits import changed_sources
from tuneforge.errors import ProblemCollector, UserError
from tuneforge.eval.generate import AdapterGenerator, adapter_switch
from tuneforge.eval.kit import for_each_variant, held_out
from tuneforge.files import write_json_atomic, write_text_atomic
from tuneforge.plots import pyplot, reporting_plot, save_figure
from tuneforge.tasks.style.ab_sheet import write_ab_sheet
from tuneforge.tasks.style.indicators import SENTENCE_BINS, Indicators, style_distance, style_indicators
from tuneforge.tasks.style.markdown import FolderReport, meta_path, read_articles

CONTINUATIONS = "continuations.jsonl"  # read back by `tuneforge compare` (compare.py)


def perplexity(model, dataset, pad_id: int, batch_size: int, use_adapter: bool) -> dict:
    """exp(mean negative log-likelihood) of the tokens that carry loss (the author's text)."""
    import torch
    import torch.nn.functional as F

    total, count = 0.0, 0
    with torch.inference_mode(), adapter_switch(model, use_adapter):
        for start in range(0, len(dataset), batch_size):
            rows = dataset[start : start + batch_size]
            width = max(map(len, rows["input_ids"]))
            ids = torch.tensor([r + [pad_id] * (width - len(r)) for r in rows["input_ids"]], device=model.device)
            mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows["input_ids"]], device=model.device)
            labels = torch.tensor([r + [-100] * (width - len(r)) for r in rows["labels"]], device=model.device)
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
            total += F.cross_entropy(
                logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(), ignore_index=-100, reduction="sum"
            ).item()
            count += int((labels[:, 1:] != -100).sum())
    return {"perplexity": math.exp(total / count), "mean_nll": total / count, "tokens": count, "samples": len(dataset)}


def articles_input(number: int, source: Path) -> str:
    """The name the run keeps the author's `number`th data.train entry under (RUN/inputs/), from the recipe
    alone: a single article keeps its suffix, so that its meta.json copy sits beside it by the reader's rule."""
    return f"style-articles-{number}{source.suffix}"


def article_inputs(recipe) -> dict[str, Path]:
    """What the style evaluation reads of the user's files (StyleTask.run_inputs): every data.train folder
    (or single article, with its meta.json) of the author's corpus."""
    inputs = {}
    for number, source in enumerate(recipe.data.train, start=1):
        name = articles_input(number, source)
        inputs[name] = source
        meta = meta_path(source) if source.is_file() else None
        if meta is not None:
            inputs[f"{Path(name).stem}.meta.json"] = meta
    return inputs


def author_corpus(run) -> list[str]:
    """The author's whole articles, the reference of the style indicators: the run's copies of them. A run
    trained before runs carried them reads the source folders, only while unchanged since training."""
    recipe = run.recipe
    sources = [run.input(articles_input(number, path), path) for number, path in enumerate(recipe.data.train, start=1)]
    changed = [] if run.carries_inputs else changed_sources(recipe, run.manifest)
    if changed:
        raise UserError(
            "eval.style compares with the author's articles, which changed since training",
            changed,
            fix="restore the articles as they were trained on, or train again",
        )
    problems = ProblemCollector("the author's articles cannot be read")
    articles = [a for path in sources for a in read_articles(path, recipe.data.markdown, problems, FolderReport())]
    problems.raise_if_any()
    return [article.text for article in articles]


def validation_continuations(run, limit: int | None) -> list:
    """The 'continue' samples of the run's own validation split (whole held-out articles)."""
    samples = [s for s in held_out(run, "eval.style", split="val") if s.meta.get("task") == "continue"][:limit]
    if not samples:
        raise UserError(
            "eval.style found no 'continue' samples in the validation split",
            fix="raise data.split.val (the split holds whole articles)",
        )
    return samples


def decoding(config) -> dict:
    options = {"repetition_penalty": config.repetition_penalty}
    if config.temperature > 0:
        options.update(do_sample=True, temperature=config.temperature, top_p=config.top_p)
    return options


def generate_both(generator, samples: list, config) -> dict[str, list[str]]:
    import torch

    conversations = [sample.messages[:-1] for sample in samples]

    def continue_all(tuned: bool) -> list[str]:
        torch.manual_seed(config.seed)  # the same sampling noise for both (when sampling)
        return generator.generate(
            conversations, config.max_new_tokens, use_adapter=tuned, batch_size=config.batch_size, **decoding(config)
        )

    return for_each_variant(continue_all, f"continuing {len(samples)} validation prompts")


def evaluate_style(run, out_dir: Path) -> tuple[dict, str]:
    recipe, config = run.recipe, run.recipe.eval.style
    author = author_corpus(run)  # refuses changed articles before any model loads
    generator = AdapterGenerator(run.path, run.manifest, recipe.model.trust_remote_code)
    val = encode_splits(
        {"val": held_out(run, "eval.style", split="val")}, generator.tokenizer, recipe.data, recipe.model.max_seq_length
    )["val"]
    pad_id = generator.tokenizer.pad_token_id if generator.tokenizer.pad_token_id is not None else 0
    ppl = for_each_variant(
        lambda tuned: perplexity(generator.model, val, pad_id, config.batch_size, tuned),
        f"perplexity on {len(val)} validation samples",
    )
    samples = validation_continuations(run, config.max_samples)
    texts = generate_both(generator, samples, config)
    texts["reference"] = [sample.messages[-1]["content"] for sample in samples]
    indicators = {"author": style_indicators(author, config.ttr_window)}
    for name in ("reference", "base", "tuned"):
        indicators[name] = style_indicators(texts[name], config.ttr_window)
    distance = {
        name: style_distance(indicators[name], indicators["author"], config.top_words)
        for name in ("reference", "base", "tuned")
    }
    write_json_atomic(
        out_dir / "style_indicators.json", {name: value.to_json(config.top_words) for name, value in indicators.items()}
    )
    rows = [
        {"prompt": prompt_tail(sample), "base": base, "tuned": tuned, "reference": reference}
        for sample, base, tuned, reference in zip(samples, texts["base"], texts["tuned"], texts["reference"])
    ]
    own = {name: continuation_distances(texts[name], indicators["author"], config) for name in ("base", "tuned")}
    lines = [{**row, "distance": {name: own[name][i] for name in own}} for i, row in enumerate(rows)]
    write_text_atomic(out_dir / CONTINUATIONS, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines))
    ab = write_ab_sheet(out_dir, rows, config.seed)
    plot_sentence_lengths(out_dir / "sentence_lengths.png", indicators)
    results = {
        "perplexity": ppl,
        "distance": distance,
        "prompts": len(samples),
        "ab_sheet": ab,
        "decoding": decoding(config),
        "indicators": "style_indicators.json",
    }
    return results, style_markdown(results, indicators, rows, config.top_words)


def continuation_distances(texts: list[str], author: Indicators, config) -> list[float]:
    """Each continuation's own overall distance from the author's corpus (0 = the same): the per-item score
    that `tuneforge compare` ranks changed continuations by."""
    return [
        style_distance(style_indicators([text], config.ttr_window), author, config.top_words)["overall"]
        for text in texts
    ]


def headline_rows(results: dict) -> list[tuple[str, float, float]]:
    """Perplexity on the held-out articles and the continuations' overall distance from the author."""
    ppl, distance = results["perplexity"], results["distance"]
    return [
        ("perplexity (validation)", ppl["base"]["perplexity"], ppl["tuned"]["perplexity"]),
        ("style distance (0 = the author)", distance["base"]["overall"], distance["tuned"]["overall"]),
    ]


def prompt_tail(sample, characters: int = 400) -> str:
    """The article text the continuation follows (the instruction line left out), its last characters."""
    text = sample.messages[-2]["content"].split("\n\n", 1)[-1]
    return text if len(text) <= characters else "…" + text[-characters:]


@reporting_plot
def plot_sentence_lengths(output: Path, indicators: dict[str, Indicators]) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(6.5, 3.6))
    edges = SENTENCE_BINS + [SENTENCE_BINS[-1] + 2]
    for name in ("author", "base", "tuned"):
        lengths = [min(n, SENTENCE_BINS[-1]) for n in indicators[name].sentence_lengths]
        if lengths:
            mean = statistics.fmean(indicators[name].sentence_lengths)
            axes.hist(
                lengths,
                bins=edges,
                weights=[1 / len(lengths)] * len(lengths),
                histtype="step",
                linewidth=1.8,
                label=f"{name} (mean {mean:.1f})",
            )
    axes.set_xlabel(f"words per sentence ({SENTENCE_BINS[-1]}+ in the last bin)")
    axes.set_ylabel("share of sentences (per 2-word bin)")
    axes.set_title("Sentence lengths: the author's corpus vs generated continuations")
    axes.legend()
    save_figure(figure, output)


def style_markdown(results: dict, indicators: dict[str, Indicators], rows: list[dict], top_words: int) -> str:
    ppl, distance = results["perplexity"], results["distance"]
    names = ["sentence_length", "punctuation", "top_words", "function_words", "type_token_ratio", "overall"]
    distance_rows = "\n".join(
        f"| {n.replace('_', ' ')} | {distance['base'][n]:.3f} | {distance['tuned'][n]:.3f} | "
        f"{distance['reference'][n]:.3f} |"
        for n in names
    )
    summary = {name: ind.to_json(top_words) for name, ind in indicators.items()}
    lines = "\n".join(
        f"| {name} | {s['sentence_length']['mean']:.1f} | {s['punctuation_per_100_words']['dash']:.2f} | "
        f"{s['punctuation_per_100_words']['exclamation']:.2f} | {s['function_word_rate']:.3f} | "
        f"{s['type_token_ratio']:.3f} | {', '.join(w for w, _ in s['top_words'][:6])} |"
        for name, s in summary.items()
    )
    example = rows[0] if rows else {"prompt": "", "base": "", "tuned": ""}
    return (
        f"## Writing style\n\nPerplexity on the validation split (held-out articles, the author's tokens): "
        f"base **{ppl['base']['perplexity']:.2f}**, tuned **{ppl['tuned']['perplexity']:.2f}** "
        f"({ppl['tuned']['tokens']} tokens).\n\nDistance of {results['prompts']} continuations from the author's "
        f"corpus (0 = identical; the author's own continuations of the same prompts as a floor):\n\n"
        f"| indicator | base | tuned | author's continuations |\n|---|---|---|---|\n{distance_rows}\n\n"
        f"| text | words/sentence | dashes /100 words | ! /100 words | function words | TTR | top words |\n"
        f"|---|---|---|---|---|---|---|\n{lines}\n\n![sentence lengths](sentence_lengths.png)\n\n"
        f"Blind A/B sheet: ab_sheet.md / ab_sheet.csv ({results['ab_sheet']['rows']} rows), key in ab_key.csv.\n\n"
        f"Example: …{example['prompt'][-160:]!r}\n- base: {example['base'][:240]!r}\n"
        f"- tuned: {example['tuned'][:240]!r}"
    )
