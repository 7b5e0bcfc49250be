"""Reference metrics shared by the tasks: BLEU and chrF (sacrebleu), ROUGE-L (rouge-score).

CJK text has no spaces, so ROUGE-L counts each CJK character as a word, and BLEU uses sacrebleu's
zh (or ja-mecab) tokenizer for it: scored as whitespace words, a Chinese sentence would be one word.
"""

from __future__ import annotations

import functools
import re

# Han (with extensions A and compatibility), kana, Hangul: one token per character.
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
TOKEN = re.compile(f"[{CJK}]|[^\\W_{CJK}]+")
HAS_CJK = re.compile(f"[{CJK}]")


class CJKTokenizer:
    """rouge-score's tokenizer interface: lowercase words, and each CJK character as its own word
    (rouge-score's default keeps only [a-z0-9], which leaves Chinese text with no tokens at all)."""

    def tokenize(self, text: str) -> list[str]:
        return TOKEN.findall(text.lower())


def rouge_l(hypotheses: list[str], references: list[str]) -> list[float]:
    """ROUGE-L F1 of each hypothesis against its reference."""
    from rouge_score.rouge_scorer import RougeScorer

    scorer = RougeScorer(["rougeL"], tokenizer=CJKTokenizer())
    return [scorer.score(ref, hyp)["rougeL"].fmeasure for hyp, ref in zip(hypotheses, references)]


def bleu_tokenizer(setting: str, references: list[str]) -> str:
    """sacrebleu's tokenizer for a setting; auto: zh when any reference holds CJK text, else 13a."""
    if setting != "auto":
        return setting
    return "zh" if any(HAS_CJK.search(ref) for ref in references) else "13a"


@functools.cache
def bleu_metric(tokenize: str, sentence: bool = False):
    """sacrebleu's BLEU, built once per setting (a tokenizer such as ja-mecab loads a dictionary).
    Sentence scores use effective order, so that short answers are not zeroed."""
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize=tokenize, effective_order=sentence)


def corpus_bleu(hypotheses: list[str], references: list[str], tokenize: str) -> dict:
    score = bleu_metric(tokenize).corpus_score(hypotheses, [references])
    return {
        "score": score.score,
        "precisions": score.precisions,
        "brevity_penalty": score.bp,
        "hypothesis_length": score.sys_len,
        "reference_length": score.ref_len,
        "length_ratio": score.ratio,
        "tokenize": tokenize,
    }


def sentence_bleu(hypotheses: list[str], references: list[str], tokenize: str) -> list[float]:
    metric = bleu_metric(tokenize, sentence=True)
    return [metric.sentence_score(hyp, [ref]).score for hyp, ref in zip(hypotheses, references)]


def corpus_chrf(hypotheses: list[str], references: list[str]) -> float:
    from sacrebleu.metrics import CHRF

    return CHRF().corpus_score(hypotheses, [references]).score


def sentence_chrf(hypothesis: str, reference: str) -> float:
    from sacrebleu.metrics import CHRF

    return CHRF().sentence_score(hypothesis, [reference]).score


# Sufficient statistics: a corpus score recomputed on any subset of sentences (a bootstrap resample) from
# per-sentence counts, without tokenizing again. sacrebleu's own paired bootstrap (sacrebleu.significance)
# works this way, through these two methods of its metrics.
def bleu_statistics(hypotheses: list[str], references: list[str], tokenize: str):
    """One row of corpus-BLEU counts per sentence (lengths, n-gram matches and totals), as a numpy array."""
    import numpy as np

    return np.array(bleu_metric(tokenize)._extract_corpus_statistics(hypotheses, [references]), dtype=float)


@functools.cache
def chrf_metric():
    from sacrebleu.metrics import CHRF

    return CHRF()


def chrf_statistics(hypotheses: list[str], references: list[str]):
    """One row of chrF counts per sentence, as a numpy array."""
    import numpy as np

    return np.array(chrf_metric()._extract_corpus_statistics(hypotheses, [references]), dtype=float)


def bleu_of_statistics(rows, tokenize: str) -> float:
    """Corpus BLEU of the sentences whose rows these are (NaN for none)."""
    return bleu_metric(tokenize)._compute_score_from_stats(rows.sum(0)).score if len(rows) else float("nan")


def chrf_of_statistics(rows) -> float:
    """Corpus chrF of the sentences whose rows these are (one row: that sentence's chrF; NaN for none)."""
    return chrf_metric()._compute_score_from_stats(rows.sum(0)).score if len(rows) else float("nan")
