"""Evaluation of a domain assistant on its test split (`eval.domain`).

Base and tuned model answer every test question (same system prompt, greedy). Then:
  - reference metrics against the test split's answers: ROUGE-L F1 (rouge-score, with a tokenizer
    that makes each CJK character a token, so Chinese is scored too) and BLEU (sacrebleu: corpus
    score with n-gram precisions, brevity penalty and lengths; sentence BLEU per item);
  - an LLM judge (tuneforge.eval.judge) when eval.domain.judge or `--judge-url` names one; without
    it the judge is skipped with a logged note.
Writes evaluation_results.json (averages and per-item details) and domain.png to the eval folder.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from tuneforge.eval.generate import AdapterGenerator
from tuneforge.eval.judge import CRITERIA, Judge, describe_format, judge_api_key, score_all, summarize
from tuneforge.eval.kit import VARIANTS, for_each_variant, held_out
from tuneforge.eval.metrics import bleu_tokenizer, corpus_bleu, rouge_l, sentence_bleu
from tuneforge.files import write_json_atomic
from tuneforge.plots import pyplot, reporting_plot, save_figure
from tuneforge.serve.client import connect
from tuneforge.targets import is_url

log = logging.getLogger(__name__)
RESULTS = "evaluation_results.json"  # read back by `tuneforge compare` (compare.py)
NO_JUDGE = "no judge configured (set eval.domain.judge in the recipe or pass --judge-url); LLM-as-judge skipped"


@dataclass
class Item:
    prompt: list[dict]  # system + user turns, as the model sees them
    question: str
    reference: str
    source: str  # file:line


def reference_metrics(hypotheses: list[str], references: list[str], tokenize: str) -> dict:
    rouge = rouge_l(hypotheses, references)
    return {
        "rouge_l": sum(rouge) / len(rouge),
        "bleu": corpus_bleu(hypotheses, references, tokenize),
        "per_item": {"rouge_l": rouge, "bleu": sentence_bleu(hypotheses, references, tokenize)},
    }


def test_items(run, limit: int | None) -> list[Item]:
    """The run's own test split (the samples training held out)."""
    items = []
    for sample in held_out(run, "eval.domain")[:limit]:
        prompt = sample.messages[:-1]
        question = next(m["content"] for m in reversed(prompt) if m["role"] == "user")
        items.append(Item(prompt, question, sample.messages[-1]["content"], sample.source))
    return items


def generate_answers(run, items: list[Item]) -> dict[str, list[str]]:
    config = run.recipe.eval.domain
    generator = AdapterGenerator(run.path, run.manifest, run.recipe.model.trust_remote_code)
    return for_each_variant(
        lambda tuned: generator.generate(
            [item.prompt for item in items], config.max_new_tokens, use_adapter=tuned, batch_size=config.batch_size
        ),
        f"answering {len(items)} test questions",
    )


@contextlib.contextmanager
def open_judge(config, runs_dir: Path):
    """A Judge for eval.domain.judge (connected before any generation, so a wrong URL fails fast), or None."""
    if config is None:
        log.info(NO_JUDGE)
        yield None
        return
    served_here = not is_url(config.base_url)
    with connect(
        config.base_url, runs_dir=runs_dir, api_key=judge_api_key(config), model=config.model, max_retries=2
    ) as endpoint:
        log.info("judge: model %r at %s", endpoint.model, endpoint.client.base_url)
        yield Judge(endpoint, config, served_here)


def run_judge(judge, items: list[Item], answers: dict[str, list[str]]) -> tuple[dict, dict]:
    """(summary for results, per-variant verdict lists as JSON)."""
    variants = VARIANTS if judge.config.judge_base else ("tuned",)
    verdicts = {
        variant: score_all(
            judge, [(item.question, item.reference, answer) for item, answer in zip(items, answers[variant])]
        )
        for variant in variants
    }
    summary = {
        "model": judge.model,
        "base_url": str(judge.client.base_url),
        "retries": judge.config.retries,
        "response_format": describe_format(judge.format),
        **{variant: summarize(found) for variant, found in verdicts.items()},
    }
    return summary, {variant: [v.to_json() for v in found] for variant, found in verdicts.items()}


def evaluate_domain(run, out_dir: Path) -> tuple[dict, str]:
    config, manifest = run.recipe.eval.domain, run.manifest
    items = test_items(run, config.max_samples)
    references = [item.reference for item in items]
    tokenize = bleu_tokenizer(config.bleu_tokenize, references)
    with open_judge(config.judge, run.path.parent.parent) as judge:
        answers = generate_answers(run, items)
        metrics = {variant: reference_metrics(answers[variant], references, tokenize) for variant in VARIANTS}
        judged, verdicts = run_judge(judge, items, answers) if judge else ({"skipped": NO_JUDGE}, {})
    results = {
        "test_items": len(items),
        "data_filter": data_filter_counts(manifest),
        "reference_metrics": {v: {k: m[k] for k in ("rouge_l", "bleu")} for v, m in metrics.items()},
        "judge": judged,
    }
    details = per_item(items, answers, metrics, verdicts)
    write_json_atomic(out_dir / RESULTS, {**results, "items": details})
    plot_domain(out_dir / "domain.png", results)
    return results, domain_markdown(results, details)


def headline_rows(results: dict) -> list[tuple[str, float | None, float | None]]:
    """ROUGE-L and BLEU against the references, and the judge's overall score where one judged."""
    ref, judged = results["reference_metrics"], results["judge"]
    rows = [
        ("ROUGE-L F1", ref["base"]["rouge_l"], ref["tuned"]["rouge_l"]),
        ("BLEU", ref["base"]["bleu"]["score"], ref["tuned"]["bleu"]["score"]),
    ]
    if "skipped" not in judged:
        overall = {v: judged[v]["means"]["overall"] if v in judged else None for v in VARIANTS}
        rows.append(("judge overall (1-5)", overall["base"], overall["tuned"]))
    return rows


def data_filter_counts(manifest: dict) -> dict:
    """What the quality filter dropped from the training data (the run's data report)."""
    report = manifest.get("data", {})
    return {
        "loaded": report.get("loaded"),
        "kept": report.get("kept"),
        "dropped": report.get("filtered", {}),
        "splits": report.get("splits", {}),
    }


def per_item(items: list[Item], answers: dict, metrics: dict, verdicts: dict) -> list[dict]:
    rows = []
    for index, item in enumerate(items):
        row = {"source": item.source, "question": item.question, "reference": item.reference}
        for variant in VARIANTS:
            per = metrics[variant]["per_item"]
            row[variant] = {
                "answer": answers[variant][index],
                "rouge_l": per["rouge_l"][index],
                "bleu": per["bleu"][index],
            }
            if variant in verdicts:
                row[variant]["judge"] = verdicts[variant][index]
        rows.append(row)
    return rows


def domain_markdown(results: dict, details: list[dict]) -> str:
    ref = results["reference_metrics"]
    rows = [
        ("ROUGE-L F1 (mean)", ref["base"]["rouge_l"], ref["tuned"]["rouge_l"], 3),
        (
            f"BLEU (corpus, tokenize {ref['tuned']['bleu']['tokenize']})",
            ref["base"]["bleu"]["score"],
            ref["tuned"]["bleu"]["score"],
            2,
        ),
    ]
    table = "\n".join(
        f"| {name} | {base:.{digits}f} | {tuned:.{digits}f} | {tuned - base:+.{digits}f} |"
        for name, base, tuned, digits in rows
    )
    bleu_detail = "\n".join(
        f"- {v}: n-gram precisions {', '.join(f'{p:.1f}' for p in ref[v]['bleu']['precisions'])}; brevity penalty "
        f"{ref[v]['bleu']['brevity_penalty']:.3f}; length {ref[v]['bleu']['hypothesis_length']} / "
        f"{ref[v]['bleu']['reference_length']} tokens (ratio {ref[v]['bleu']['length_ratio']:.2f})"
        for v in VARIANTS
    )
    return "\n\n".join(
        [
            f"## Domain answers (test split, {results['test_items']} questions)",
            "| metric | base | tuned | change |\n|---|---|---|---|\n" + table,
            bleu_detail,
            filter_markdown(results["data_filter"]),
            judge_markdown(results["judge"]),
            "![domain](domain.png)",
            examples_markdown(details[:3]),
        ]
    )


def filter_markdown(counts: dict) -> str:
    dropped = ", ".join(f"{reason} {count}" for reason, count in counts["dropped"].items()) or "nothing"
    return (
        f"### Quality filter (training data)\n\nLoaded {counts['loaded']} records, kept {counts['kept']}; "
        f"dropped: {dropped}. Splits: {counts['splits']}."
    )


def judge_markdown(judged: dict) -> str:
    if "skipped" in judged:
        return f"### LLM judge\n\n{judged['skipped'][0].upper()}{judged['skipped'][1:]}."
    variants = [v for v in VARIANTS if v in judged]
    rows = "\n".join(
        f"| {name} | " + " | ".join(mean_cell(judged[v]["means"][name]) for v in variants) + " |" for name in CRITERIA
    )
    counts = "; ".join(
        f"{v}: {judged[v]['scored']}/{judged[v]['items']} scored, {judged[v]['failures']} failed "
        f"after {judged['retries']} retries, {judged[v]['retried']} needed a retry"
        for v in variants
    )
    return (
        f"### LLM judge ({judged['model']} at {judged['base_url']}, response_format {judged['response_format']})"
        f"\n\n| criterion (1-5) | {' | '.join(variants)} |\n|---|{'---|' * len(variants)}\n{rows}\n\n{counts}."
    )


def mean_cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"  # None: no item of that model was scored


def examples_markdown(rows: list[dict]) -> str:
    return "### Examples\n\n" + "\n".join(
        f"- **{row['question'][:160]!r}**\n  - reference: {row['reference'][:240]!r}\n  - base: "
        f"{row['base']['answer'][:240]!r}\n  - tuned: {row['tuned']['answer'][:240]!r}"
        for row in rows
    )


@reporting_plot
def plot_domain(output: Path, results: dict) -> None:
    plt = pyplot()
    ref = results["reference_metrics"]
    panels = [
        ("ROUGE-L F1 x 100", [ref[v]["rouge_l"] * 100 for v in VARIANTS]),
        ("BLEU", [ref[v]["bleu"]["score"] for v in VARIANTS]),
    ]
    judged = results["judge"]
    if "skipped" not in judged and all(judged.get(v, {}).get("means", {}).get("overall") for v in VARIANTS):
        panels.append(("judge overall (1-5) x 20", [judged[v]["means"]["overall"] * 20 for v in VARIANTS]))
    figure, axes = plt.subplots(figsize=(2.6 * len(panels) + 1, 3.2))
    width = 0.38
    for offset, variant in ((-width / 2, "base"), (width / 2, "tuned")):
        index = VARIANTS.index(variant)
        axes.bar(
            [i + offset for i in range(len(panels))], [values[index] for _, values in panels], width, label=variant
        )
    axes.set_xticks(range(len(panels)), [name for name, _ in panels], fontsize=8)
    axes.set_title(f"Test split ({results['test_items']} questions): base vs tuned")
    axes.legend()
    save_figure(figure, output)
