"""Style indicators of a set of texts, and their distance from the author's corpus (`eval.style`).

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

import logging
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from tuneforge.tasks.style.markdown import has_cjk, split_sentences

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
