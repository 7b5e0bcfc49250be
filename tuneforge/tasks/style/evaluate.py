"""Writing-style evaluation (`eval.style`): does the tuned model write more like the author?

Writes to the eval folder:
  perplexity                 (results.json) base vs tuned on the validation split's assistant tokens
  style_indicators.json      the indicators below for the author's corpus, the author's own
                             continuations of the validation prompts (reference), base and tuned
  continuations.jsonl        every validation continuation prompt with the reference, base and tuned text
  sentence_lengths.png       sentence-length histograms: author, base, tuned
  ab_sheet.csv / ab_sheet.md a blind A/B sheet: each row shows base and tuned in a random order
  ab_key.csv                 which of A and B is the tuned model, per row (keep it away from the judge)

Indicators (`style_indicators`), computed over all words of a set of texts:
  sentence length  words per sentence (sentences as cut by tuneforge.tasks.style.markdown.split_sentences);
                   mean, median, standard deviation and a histogram
  punctuation      marks per 100 words, by kind (ASCII and full-width: ，。！？；：、 count too;
                   "..." counts as an ellipsis and "--" or "——" as a dash)
  top words        the most frequent words and their share of all words
  function words   share of words that are function words (FUNCTION_WORDS: English and Chinese)
  type-token ratio moving-average TTR over windows of ttr_window words (a text shorter than the
                   window counts once, with its plain TTR), so texts of different lengths compare
Words: lowercased letter/digit runs; text with CJK characters is segmented by jieba.

Distance of a set of texts from the author's corpus (0 = the same), one number per indicator and
their mean: sentence length = Wasserstein distance between the length distributions / the author's
mean length; punctuation = sum of |rate difference| / sum of the author's rates; top words =
Jensen-Shannon distance (base 2) over the author's top words plus "all other words"; function words
and type-token ratio = |difference| / the author's value.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import random
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tuneforge.errors import ProblemCollector, UserError
from tuneforge.eval.kit import for_each_variant, held_out
from tuneforge.runs import write_json_atomic, write_text_atomic
from tuneforge.tasks.style.markdown import has_cjk, split_sentences

log = logging.getLogger(__name__)
PUNCTUATION = {
    "comma": ",，、",
    "period": ".。",
    "exclamation": "!！",
    "question": "?？",
    "semicolon": ";；",
    "colon": ":：",
    "dash": "—–",
    "ellipsis": "…",
    "quote": '"“”「」『』',
    "parenthesis": "()（）",
}
_SAME_MARK = [(re.compile(r"\.{3,}|……"), "…"), (re.compile(r"——|--"), "—")]
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
SENTENCE_BINS = list(range(0, 42, 2))  # words per sentence; longer sentences fall in the last bin
# Function words (closed-class: articles, pronouns, prepositions, conjunctions, auxiliaries, particles).
FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "some",
        "any",
        "each",
        "every",
        "no",
        "all",
        "both",
        "either",
        "neither",
        "i",
        "me",
        "my",
        "mine",
        "we",
        "us",
        "our",
        "ours",
        "you",
        "your",
        "yours",
        "he",
        "him",
        "his",
        "she",
        "her",
        "hers",
        "it",
        "its",
        "they",
        "them",
        "their",
        "theirs",
        "myself",
        "yourself",
        "himself",
        "herself",
        "itself",
        "ourselves",
        "themselves",
        "who",
        "whom",
        "whose",
        "which",
        "what",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "to",
        "into",
        "onto",
        "about",
        "above",
        "below",
        "over",
        "under",
        "between",
        "through",
        "during",
        "before",
        "after",
        "since",
        "until",
        "against",
        "among",
        "without",
        "within",
        "along",
        "across",
        "behind",
        "beyond",
        "near",
        "off",
        "out",
        "up",
        "down",
        "and",
        "or",
        "but",
        "nor",
        "so",
        "yet",
        "if",
        "then",
        "than",
        "because",
        "although",
        "though",
        "while",
        "whereas",
        "unless",
        "whether",
        "as",
        "be",
        "am",
        "is",
        "are",
        "was",
        "were",
        "been",
        "being",
        "have",
        "has",
        "had",
        "having",
        "do",
        "does",
        "did",
        "doing",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "not",
        "also",
        "just",
        "only",
        "very",
        "too",
        "there",
        "here",
        "when",
        "where",
        "why",
        "how",
        "的",
        "了",
        "着",
        "过",
        "地",
        "得",
        "之",
        "和",
        "与",
        "及",
        "或",
        "而",
        "但",
        "但是",
        "因为",
        "所以",
        "如果",
        "虽然",
        "就",
        "都",
        "也",
        "还",
        "又",
        "才",
        "在",
        "从",
        "对",
        "把",
        "被",
        "给",
        "向",
        "往",
        "于",
        "以",
        "为",
        "是",
        "有",
        "没",
        "没有",
        "不",
        "很",
        "吗",
        "呢",
        "吧",
        "啊",
        "我",
        "你",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "这",
        "那",
        "这个",
        "那个",
        "一个",
    ]
)


@dataclass
class Indicators:
    sentence_lengths: list[int] = field(default_factory=list)
    word_counts: Counter = field(default_factory=Counter)
    marks: Counter = field(default_factory=Counter)
    ttr: float = 0.0
    texts: int = 0

    @property
    def words(self) -> int:
        return sum(self.word_counts.values())

    def punctuation_rates(self) -> dict[str, float]:
        return {name: 100 * self.marks[name] / self.words if self.words else 0.0 for name in PUNCTUATION}

    def function_word_rate(self) -> float:
        return sum(self.word_counts[w] for w in FUNCTION_WORDS) / self.words if self.words else 0.0

    def word_shares(self, words: list[str]) -> list[float]:
        return [self.word_counts[w] / self.words if self.words else 0.0 for w in words]

    def to_json(self, top_words: int) -> dict:
        lengths = self.sentence_lengths
        histogram = Counter(min(n, SENTENCE_BINS[-1]) // 2 * 2 for n in lengths)
        return {
            "texts": self.texts,
            "words": self.words,
            "sentences": len(lengths),
            "sentence_length": {
                "mean": statistics.fmean(lengths) if lengths else 0.0,
                "median": statistics.median(lengths) if lengths else 0.0,
                "stdev": statistics.pstdev(lengths) if lengths else 0.0,
                "histogram": {
                    f"{b}-{b + 1}" if b < SENTENCE_BINS[-1] else f"{b}+": histogram[b] for b in SENTENCE_BINS
                },
            },
            "punctuation_per_100_words": self.punctuation_rates(),
            "top_words": [[w, round(c / self.words, 5)] for w, c in self.word_counts.most_common(top_words)],
            "function_word_rate": self.function_word_rate(),
            "type_token_ratio": self.ttr,
        }


def words(text: str) -> list[str]:
    """Lowercased words; jieba segments text that holds CJK characters."""
    if has_cjk(text):
        import jieba

        jieba.setLogLevel(logging.WARNING)  # it logs its dictionary loading at INFO
        return [token.lower() for token in jieba.lcut(text) if re.search(r"[^\W_]", token)]
    return [match.group().lower().replace("’", "'") for match in _WORD.finditer(text)]


def sentences(text: str) -> list[str]:
    return [s for line in text.splitlines() for s in split_sentences(line)]


def moving_ttr(token_lists: list[list[str]], window: int) -> float:
    """Mean type-token ratio over every window of `window` words (shorter texts: one plain TTR)."""
    ratios = []
    for tokens in token_lists:
        if len(tokens) <= window:
            ratios += [len(set(tokens)) / len(tokens)] if tokens else []
            continue
        counts = Counter(tokens[:window])
        ratios.append(len(counts) / window)
        for leaving, entering in zip(tokens, tokens[window:]):
            counts[entering] += 1
            counts[leaving] -= 1
            if not counts[leaving]:
                del counts[leaving]
            ratios.append(len(counts) / window)
    return statistics.fmean(ratios) if ratios else 0.0


def style_indicators(texts: list[str], ttr_window: int) -> Indicators:
    result = Indicators(texts=len(texts))
    token_lists = [words(text) for text in texts]
    for text, tokens in zip(texts, token_lists):
        result.word_counts.update(tokens)
        result.sentence_lengths += [n for n in (len(words(s)) for s in sentences(text)) if n]
        normalized = text
        for pattern, mark in _SAME_MARK:
            normalized = pattern.sub(mark, normalized)
        result.marks.update({name: sum(normalized.count(m) for m in marks) for name, marks in PUNCTUATION.items()})
    result.ttr = moving_ttr(token_lists, ttr_window)
    return result


def _relative(value: float, reference: float) -> float:
    return abs(value - reference) / reference if reference else abs(value)


def style_distance(generated: Indicators, author: Indicators, top_words: int) -> dict[str, float]:
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    author_lengths = author.sentence_lengths or [0]
    mean_length = statistics.fmean(author_lengths) or 1.0
    rates, author_rates = generated.punctuation_rates(), author.punctuation_rates()
    vocabulary = [w for w, _ in author.word_counts.most_common(top_words)]
    shares, author_shares = generated.word_shares(vocabulary), author.word_shares(vocabulary)
    distance = {
        "sentence_length": wasserstein_distance(generated.sentence_lengths or [0], author_lengths) / mean_length,
        "punctuation": sum(abs(rates[k] - author_rates[k]) for k in PUNCTUATION) / (sum(author_rates.values()) or 1.0),
        "top_words": float(jensenshannon(shares + [1 - sum(shares)], author_shares + [1 - sum(author_shares)], base=2)),
        "function_words": _relative(generated.function_word_rate(), author.function_word_rate()),
        "type_token_ratio": _relative(generated.ttr, author.ttr),
    }
    distance["overall"] = statistics.fmean(distance.values())
    return distance


# ---------------------------------------------------------------- the blind A/B sheet


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


# ---------------------------------------------------------------- the evaluation


def perplexity(model, dataset, pad_id: int, batch_size: int, use_adapter: bool) -> dict:
    """exp(mean negative log-likelihood) of the tokens that carry loss (the author's text)."""
    import contextlib

    import torch
    import torch.nn.functional as F

    total, count = 0.0, 0
    switch = contextlib.nullcontext() if use_adapter else model.disable_adapter()
    with torch.inference_mode(), switch:
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


def author_corpus(run) -> list[str]:
    """The author's whole articles, the reference of the style indicators. They are read from the
    source folders, so only while those are unchanged since training (sha256 in the manifest)."""
    from tuneforge.data.splits import changed_sources
    from tuneforge.tasks.style.markdown import FolderReport, read_articles

    recipe, changed = run.recipe, changed_sources(run.recipe, run.manifest)
    if changed:
        raise UserError(
            "eval.style compares with the author's articles, which changed since training",
            changed,
            fix="restore the articles as they were trained on, or train again",
        )
    problems = ProblemCollector("the author's articles cannot be read")
    articles = [
        a for path in recipe.data.train for a in read_articles(path, recipe.data.markdown, problems, FolderReport())
    ]
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
    from tuneforge.data.prepare import encode_splits
    from tuneforge.eval.generate import AdapterGenerator

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
    write_text_atomic(out_dir / "continuations.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
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


def prompt_tail(sample, characters: int = 400) -> str:
    """The article text the continuation follows (the instruction line left out), its last characters."""
    text = sample.messages[-2]["content"].split("\n\n", 1)[-1]
    return text if len(text) <= characters else "…" + text[-characters:]


def plot_sentence_lengths(output: Path, indicators: dict[str, Indicators]) -> None:
    from tuneforge.plots import pyplot, save_figure

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
