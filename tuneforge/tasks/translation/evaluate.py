"""Evaluation of a translation run on its test split (`eval.translation`).

Base and tuned model translate every test sentence (the training prompt, greedy). Per direction,
sacrebleu scores both against the references:
  - BLEU (corpus) with its four n-gram precisions, brevity penalty, hypothesis/reference lengths
    and their ratio; the tokenizer follows the target language (13a for English, zh for Chinese,
    ja-mecab for Japanese: BLEU over untokenized CJK text would count whole sentences as one word);
  - chrF (character n-grams, no tokenizer needed).
Writes translation_metrics.json, translation.md, translation_samples.jsonl (source, reference, base
and tuned hypotheses with sentence-level scores) and translation.png to the eval folder.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tuneforge.eval.kit import VARIANTS, for_each_variant, held_out
from tuneforge.eval.metrics import corpus_bleu, corpus_chrf, sentence_bleu, sentence_chrf
from tuneforge.files import write_json_atomic, write_text_atomic
from tuneforge.plots import pyplot, reporting_plot, save_figure
from tuneforge.tasks.translation.data import parse_prompt
from tuneforge.tasks.translation.translate import Translator

BLEU_TOKENIZERS = {"en": "13a", "zh_TW": "zh", "ja": "ja-mecab"}  # by target language tag
METRICS = (("bleu", "BLEU"), ("chrf", "chrF"))
SAMPLES = "translation_samples.jsonl"  # read back by `tuneforge compare` (compare.py)


@dataclass
class HeldOutPair:
    source_lang: str
    target_lang: str
    source: str
    reference: str
    where: str  # file:line of the source sentence

    @property
    def direction(self) -> str:
        return f"{self.source_lang}-{self.target_lang}"


def bleu_tokenizer(target_lang: str) -> str:
    return BLEU_TOKENIZERS.get(target_lang, "13a")


def corpus_metrics(hypotheses: list[str], references: list[str], target_lang: str) -> dict:
    """Corpus BLEU (with its parts) and chrF of one direction."""
    bleu = corpus_bleu(hypotheses, references, bleu_tokenizer(target_lang))
    return {"bleu": bleu.pop("score"), **bleu, "chrf": corpus_chrf(hypotheses, references), "samples": len(hypotheses)}


def sentence_metrics(hypothesis: str, reference: str, target_lang: str) -> dict:
    (bleu,) = sentence_bleu([hypothesis], [reference], bleu_tokenizer(target_lang))
    return {"bleu": round(bleu, 2), "chrf": round(sentence_chrf(hypothesis, reference), 2)}


def held_out_pairs(run, limit: int | None) -> dict[str, list[HeldOutPair]]:
    """The run's own test split (whole sentence groups), by direction, at most `limit` per direction."""
    by_direction: dict[str, list[HeldOutPair]] = defaultdict(list)
    for sample in held_out(run, "eval.translation"):
        source_lang, target_lang, text = parse_prompt(sample.messages[-2]["content"])
        pair = HeldOutPair(source_lang, target_lang, text, sample.messages[-1]["content"], sample.source)
        if limit is None or len(by_direction[pair.direction]) < limit:
            by_direction[pair.direction].append(pair)
    return dict(sorted(by_direction.items()))


def translate_all(run, pairs: list[HeldOutPair]) -> dict[str, list[str]]:
    config = run.recipe.eval.translation
    translator = Translator(run.path, recipe=run.recipe, manifest=run.manifest, max_new_tokens=config.max_new_tokens)
    requests = [(pair.source_lang, pair.target_lang, pair.source) for pair in pairs]
    return for_each_variant(
        lambda tuned: translator.translate_batch(requests, use_adapter=tuned, batch_size=config.batch_size),
        f"translating {len(pairs)} test sentences",
    )


def evaluate_translation(run, out_dir: Path) -> tuple[dict, str]:
    by_direction = held_out_pairs(run, run.recipe.eval.translation.max_samples)
    pairs = [pair for group in by_direction.values() for pair in group]
    hypotheses = translate_all(run, pairs)
    results: dict = {"directions": {}, "test_sentences": len(pairs)}
    start = 0
    for direction, group in by_direction.items():
        references = [pair.reference for pair in group]
        results["directions"][direction] = {
            variant: corpus_metrics(hypotheses[variant][start : start + len(group)], references, group[0].target_lang)
            for variant in VARIANTS
        }
        start += len(group)
    results["mean"] = {
        variant: {
            metric: statistics.mean(d[variant][metric] for d in results["directions"].values())
            for metric in ("bleu", "chrf")
        }
        for variant in VARIANTS
    }
    write_json_atomic(out_dir / "translation_metrics.json", results)
    write_samples(out_dir / SAMPLES, pairs, hypotheses)
    section = translation_markdown(results)
    write_text_atomic(out_dir / "translation.md", section + "\n")
    plot_translation(out_dir / "translation.png", results)
    return results, section


def headline_rows(results: dict) -> list[tuple[str, float, float]]:
    """BLEU and chrF, each the mean over the test split's directions, base and tuned."""
    means = results["mean"]
    return [(f"{name} (mean of directions)", means["base"][key], means["tuned"][key]) for key, name in METRICS]


def write_samples(path: Path, pairs: list[HeldOutPair], hypotheses: dict[str, list[str]]) -> None:
    rows = []
    for index, pair in enumerate(pairs):
        row = {"direction": pair.direction, "where": pair.where, "source": pair.source, "reference": pair.reference}
        for variant in VARIANTS:
            row[variant] = {
                "hypothesis": hypotheses[variant][index],
                **sentence_metrics(hypotheses[variant][index], pair.reference, pair.target_lang),
            }
        rows.append(json.dumps(row, ensure_ascii=False) + "\n")
    write_text_atomic(path, "".join(rows))


def translation_markdown(results: dict) -> str:
    header = (
        "| direction | sentences | tokenize | BLEU base | BLEU tuned | chrF base | chrF tuned | "
        "tuned 1/2/3/4-gram precision | tuned BP | tuned length ratio |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = []
    for direction, scores in results["directions"].items():
        base, tuned = scores["base"], scores["tuned"]
        precisions = "/".join(f"{p:.1f}" for p in tuned["precisions"])
        rows.append(
            f"| {direction} | {tuned['samples']} | {tuned['tokenize']} | {base['bleu']:.2f} | "
            f"{tuned['bleu']:.2f} | {base['chrf']:.2f} | {tuned['chrf']:.2f} | {precisions} | "
            f"{tuned['brevity_penalty']:.3f} | {tuned['length_ratio']:.3f} |"
        )
    means = results["mean"]
    rows.append(
        f"| **mean** | {results['test_sentences']} | | {means['base']['bleu']:.2f} | "
        f"{means['tuned']['bleu']:.2f} | {means['base']['chrf']:.2f} | {means['tuned']['chrf']:.2f} | | | |"
    )
    return (
        f"## Translation (test split, sacrebleu BLEU and chrF, base vs tuned)\n\n{header}\n"
        + "\n".join(rows)
        + "\n\nPer-sentence hypotheses and scores: translation_samples.jsonl.\n\n![translation](translation.png)"
    )


@reporting_plot
def plot_translation(output: Path, results: dict) -> None:
    plt = pyplot()
    directions = list(results["directions"])
    figure, axes = plt.subplots(1, 2, figsize=(max(6.0, 1.3 * len(directions) + 3), 3.2))
    width = 0.38
    for panel, metric in zip(axes, ("bleu", "chrf")):
        for offset, variant in ((-width / 2, "base"), (width / 2, "tuned")):
            values = [results["directions"][d][variant][metric] for d in directions]
            panel.bar([i + offset for i in range(len(directions))], values, width, label=variant)
        panel.set_xticks(range(len(directions)), directions, fontsize=7, rotation=30)
        panel.set_title("BLEU" if metric == "bleu" else "chrF")
    axes[0].legend()
    save_figure(figure, output)
