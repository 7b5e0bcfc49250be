"""`format: parallel`: Moses-style parallel corpora → translation samples in both directions.

A data folder holds plain-text files named <stem>.<language>: line N of `corpus.en` translates
line N of `corpus.zh_tw`. Files are discovered in each `data.train` folder and paired by stem;
a stem with three languages (corpus.en, corpus.zh_tw, corpus.ja) pairs every two of them. OPUS
downloads in Moses format (`<Corpus>.en-zh_TW.en` + `<Corpus>.en-zh_TW.zh_TW`) fit the same rule.

Each aligned line pair becomes one sample per direction (A→B and B→A, or the recipe's
`data.parallel.directions`): system prompt, user `<src> <tgt>\\n{text}`, assistant = the translation.
Samples of one line share a `group`, so the split keeps every direction of a sentence together.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path

from tuneforge.data.formats import Sample
from tuneforge.data.sources import read_utf8
from tuneforge.errors import ProblemCollector

log = logging.getLogger(__name__)
# File extension (case-insensitive) → language tag. All three Chinese spellings mean Traditional Chinese.
LANGUAGE_CODES = {"en": "en", "ja": "ja", "zh": "zh_TW", "zh_tw": "zh_TW", "zh_hant": "zh_TW"}
LANGUAGE_NAMES = {"en": "English", "zh_TW": "Traditional Chinese", "ja": "Japanese"}
TAG_ORDER = ("en", "zh_TW", "ja")  # a fixed order, so that samples come out the same on every machine


def language_tag(code: str) -> str:
    """`zh_tw`, `ZH-Hant`, `zh_TW` ... → the tag `zh_TW`; ValueError naming the valid codes otherwise."""
    tag = LANGUAGE_CODES.get(code.strip().lower().replace("-", "_"))
    if tag is None:
        raise ValueError(f"unknown language code {code!r}; valid codes: {', '.join(LANGUAGE_CODES)}")
    return tag


def parse_direction(text: str) -> tuple[str, str]:
    """`en-zh_TW` (or `en->zh_tw`, `en:ja`) → ("en", "zh_TW")."""
    for separator in ("->", ":", "-"):
        source, found, target = text.partition(separator)
        if found and source and target:
            pair = language_tag(source), language_tag(target)
            if pair[0] == pair[1]:
                raise ValueError(f"direction {text!r} translates a language into itself")
            return pair
    raise ValueError(f"direction {text!r} must be SOURCE-TARGET, e.g. en-zh_TW")


def translation_messages(system_prompt: str | None, source: str, target: str, text: str) -> list[dict]:
    """The prompt of one translation (training and inference share it): `<src> <tgt>\\n{text}`."""
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return [*system, {"role": "user", "content": f"<{source}> <{target}>\n{text}"}]


def parse_prompt(user_content: str) -> tuple[str, str, str]:
    """(source tag, target tag, text) back from a user turn built by translation_messages."""
    header, _, text = user_content.partition("\n")
    source, target = (tag.strip("<>") for tag in header.split(" ", 1))
    return source, target, text


# ---------------------------------------------------------------- discovery and pairing


@dataclass
class Corpus:
    """The files of one stem, by language tag, with their lines."""

    stem: Path  # folder / stem, for messages and sample groups
    files: dict[str, Path]
    lines: dict[str, list[str]]


def read_lines(path: Path, problems: ProblemCollector) -> list[str] | None:
    """Lines split on \\n only: str.splitlines would also split on U+2028 and friends inside a line
    and shift the alignment."""
    text = read_utf8(path, problems, encoding="utf-8-sig")
    if text is None:
        return None
    if not text.strip():
        problems.add(f"{path}: the file is empty")
        return None
    return [line.rstrip("\r") for line in text.removesuffix("\n").split("\n")]


def discover(folder: Path, languages: list[str] | None, problems: ProblemCollector) -> list[Corpus]:
    """Group `folder`'s language files by stem; report files without a partner and duplicate languages."""
    by_stem: dict[Path, dict[str, Path]] = defaultdict(dict)
    ignored = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        tag = LANGUAGE_CODES.get(path.suffix.lstrip(".").lower())
        if tag is None:
            ignored.append(path.name)
        elif tag in by_stem[folder / path.stem]:
            problems.add(
                f"{path}: {by_stem[folder / path.stem][tag].name} is {tag} too; keep one file per language and stem"
            )
        else:
            by_stem[folder / path.stem][tag] = path
    if ignored:
        log.info("%s: not read (no language extension): %s", folder, ", ".join(ignored))
    corpora = []
    for stem, files in by_stem.items():
        if len(files) < 2:
            problems.add(
                f"{next(iter(files.values()))}: no partner file; a parallel corpus needs {stem.name}.<lang> "
                f"in two or more of {', '.join(LANGUAGE_CODES)} (same stem)"
            )
            continue
        chosen = {tag: files[tag] for tag in TAG_ORDER if tag in files and (not languages or tag in languages)}
        if len(chosen) < 2:
            log.info("%s.*: skipped, fewer than two of data.parallel.languages (%s)", stem, ", ".join(languages))
        else:
            corpora.append(Corpus(stem, chosen, {}))
    return corpora


def load_aligned(corpus: Corpus, problems: ProblemCollector) -> bool:
    """Read every file of the corpus; all must have the same number of lines."""
    for tag, path in corpus.files.items():
        lines = read_lines(path, problems)
        if lines is None:
            return False
        corpus.lines[tag] = lines
    counts = {corpus.files[tag]: len(lines) for tag, lines in corpus.lines.items()}
    if len(set(counts.values())) > 1:
        listing = " vs ".join(f"{path} ({count} lines)" for path, count in counts.items())
        problems.add(f"line counts differ: {listing}; line N of each file must translate line N of the others")
        return False
    return True


# ---------------------------------------------------------------- samples


def corpus_directions(corpus: Corpus, directions: list[tuple[str, str]] | None) -> list[tuple[str, str]]:
    every = list(permutations(corpus.files, 2))  # A→B and B→A for every two languages
    return every if directions is None else [pair for pair in every if pair in directions]


def corpus_samples(corpus: Corpus, directions: list[tuple[str, str]], system_prompt: str | None) -> list[Sample]:
    samples, blank = [], []
    for index in range(len(next(iter(corpus.lines.values())))):
        where = f"{corpus.stem}:{index + 1}"
        text = {tag: lines[index].strip() for tag, lines in corpus.lines.items()}
        if not all(text.values()):
            blank.append(where)  # an alignment gap: only the directions between non-blank sides are kept
        for source, target in directions:
            if text[source] and text[target]:
                messages = translation_messages(system_prompt, source, target, text[source])
                messages.append({"role": "assistant", "content": text[target]})
                samples.append(Sample(messages, f"{corpus.files[source]}:{index + 1}", group=where))
    if blank:
        log.warning(
            "%s.*: %d line(s) blank in some language, skipped in the directions that need them (first: %s)",
            corpus.stem,
            len(blank),
            ", ".join(blank[:3]),
        )
    return samples


def read_parallel(path: Path, data, problems: ProblemCollector) -> list[Sample]:
    """The `format: parallel` reader: one data.train folder → samples."""
    if not path.is_dir():
        problems.add(f"{path}: format parallel reads folders of <stem>.<lang> files; name the folder in data.train")
        return []
    config = data.parallel
    directions = [parse_direction(text) for text in config.directions] if config.directions else None
    samples, found = [], set()
    for corpus in discover(path, config.languages, problems):
        if load_aligned(corpus, problems):
            chosen = corpus_directions(corpus, directions)
            found.update(chosen)
            samples += corpus_samples(corpus, chosen, data.system_prompt)
    missing = [f"{source}-{target}" for source, target in directions or [] if (source, target) not in found]
    if missing:
        log.warning("%s: no files for data.parallel.directions %s", path, ", ".join(missing))
    if not samples and not problems.problems:
        problems.add(f"{path}: no parallel files found (expected e.g. corpus.en + corpus.zh_tw)")
    return samples
