"""Writing-style tasks from Markdown chunks (`format: markdown`): rewrite, continue, summarize→expand.

Every chunk (tuneforge/tasks/style/markdown.py) gives one sample per template in data.markdown.templates.
The user turn is the template's instruction ({title} filled in), a blank line and the task's text;
the assistant turn is the author's own words. No language model is involved:

  rewrite           input: the chunk with its surface style flattened: paragraphs run together,
                    dashes → commas, ! → ., ellipses → . (Chinese ——→， ！→。 ……→。), list markers
                    dropped. output: the chunk as written. The model learns to put the author's
                    punctuation, rhythm and paragraphing back.
  continue          input: the chunk up to the paragraph break nearest its middle (a sentence break
                    for a one-paragraph chunk). output: the rest. A one-sentence chunk gives none.
  summarize_expand  input: an extractive summary, the first sentence of each paragraph as "- " notes
                    (lead sentences carry a paragraph's point in most essay prose, and need no model).
                    output: the whole chunk.

Samples carry their article as `group`, so an article's tasks all land in one split (the validation
split holds whole unseen articles), and their template as meta["task"].
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from tuneforge.data.formats import Sample
from tuneforge.errors import ProblemCollector
from tuneforge.tasks.style.markdown import (
    Chunk,
    Chunker,
    FolderReport,
    glue,
    has_cjk,
    load_tokenizer,
    read_articles,
    split_sentences,
)

log = logging.getLogger(__name__)
SUMMARY_METHOD = "extractive: the first sentence of each paragraph of the chunk"
_ENDS_SENTENCE = re.compile(r"[.!?…。！？:：][\"'”’)\]」』）]*$")
_FLATTEN = [  # (pattern, replacement), applied in order
    (re.compile(r"\s*(?:——|—|–|--)\s*(?=[\u3400-\u9fff])"), "，"),
    (re.compile(r"\s*(?:——|—|–|--)\s*"), ", "),
    (re.compile(r"……|…|\.{3,}"), "."),
    (re.compile(r"！"), "。"),
    (re.compile(r"!"), "."),
    (re.compile(r"(?<=[\u3400-\u9fff])\.(?=[\u3400-\u9fff]|$)"), "。"),
    (re.compile(r"\.{2,}"), "."),
    (re.compile(r",\s*([.,;:?])"), r"\1"),
]


@dataclass
class StyleBuild:
    samples: list[Sample] = field(default_factory=list)  # meta["task"]: the template that made it
    chunks: list[Chunk] = field(default_factory=list)
    report: FolderReport = field(default_factory=FolderReport)
    skipped: dict[str, int] = field(default_factory=dict)  # template → chunks it could not use
    meta: list[dict] = field(default_factory=list)


def flatten_style(paragraphs: list[str]) -> str:
    """The passage without its surface style (the rewrite template's input)."""
    text = ""
    for paragraph in paragraphs:
        paragraph = re.sub(r"^- ", "", paragraph)
        if not _ENDS_SENTENCE.search(paragraph):  # a heading, say: end it, or it runs into the next sentence
            paragraph += "。" if has_cjk(paragraph[-1]) else "."
        text += (glue(text, paragraph) if text else "") + paragraph
    for pattern, replacement in _FLATTEN:
        text = pattern.sub(replacement, text)
    return re.sub(r" {2,}", " ", text).strip()


def continue_split(paragraphs: list[str]) -> tuple[str, str] | None:
    """(beginning, rest) at the paragraph break nearest the middle; a sentence break in one paragraph."""
    if len(paragraphs) > 1:
        sizes = [len(p) for p in paragraphs]
        cut = min(range(1, len(paragraphs)), key=lambda i: abs(sum(sizes[:i]) - sum(sizes[i:])))
        return "\n\n".join(paragraphs[:cut]), "\n\n".join(paragraphs[cut:])
    sentences = split_sentences(paragraphs[0]) if paragraphs else []
    if len(sentences) < 2:
        return None
    sizes = [len(s) for s in sentences]
    cut = min(range(1, len(sentences)), key=lambda i: abs(sum(sizes[:i]) - sum(sizes[i:])))
    return _glued(sentences[:cut]), _glued(sentences[cut:])


def _glued(sentences: list[str]) -> str:
    text = sentences[0]
    for sentence in sentences[1:]:
        text += glue(text, sentence) + sentence
    return text


def extractive_summary(paragraphs: list[str]) -> str:
    """The first sentence of each paragraph, one "- " note per line."""
    leads = [split_sentences(re.sub(r"^- ", "", p)) for p in paragraphs]
    return "\n".join(f"- {sentences[0]}" for sentences in leads if sentences)


def task_texts(template: str, chunk: Chunk) -> tuple[str, str] | None:
    """(task text for the user turn, the author's text for the assistant turn) of one template."""
    if template == "rewrite":
        return flatten_style(chunk.paragraphs), chunk.text
    if template == "continue":
        return continue_split(chunk.paragraphs)
    return extractive_summary(chunk.paragraphs), chunk.text


def chunk_samples(chunk: Chunk, data, build: StyleBuild) -> list[Sample]:
    config, samples = data.markdown, []
    system = [{"role": "system", "content": data.system_prompt}] if data.system_prompt else []
    for template in config.templates:
        texts = task_texts(template, chunk)
        if texts is None:
            build.skipped[template] = build.skipped.get(template, 0) + 1
            continue
        prompt = f"{config.instructions[template].format(title=chunk.article.title)}\n\n{texts[0]}"
        messages = [*system, {"role": "user", "content": prompt}, {"role": "assistant", "content": texts[1]}]
        samples.append(
            Sample(messages, f"{chunk.article.path}:{chunk.line}", str(chunk.article.path), meta={"task": template})
        )
    return samples


def build_style_samples(folder: Path, data, problems: ProblemCollector) -> StyleBuild:
    """Articles → chunks → samples for one data.train folder; problems collected, counts in the build."""
    config, build = data.markdown, StyleBuild()
    articles = read_articles(folder, config, problems, build.report)
    if not articles:
        return build
    chunker = Chunker(load_tokenizer(config.tokenizer), config.chunk_min_tokens, config.chunk_max_tokens)
    for article in articles:
        build.meta.append(article.meta)
        for chunk in chunker.chunks(article, build.report):
            build.chunks.append(chunk)
            build.samples += chunk_samples(chunk, data, build)
    return build


def read_markdown_folder(path: Path, data, problems: ProblemCollector) -> list[Sample]:
    """The `format: markdown` reader (training and `tuneforge data build-style` share it)."""
    build = build_style_samples(path, data, problems)
    report = build.report
    log.info(
        "%s: %d articles → %d chunks → %d samples (%s)",
        path,
        report.articles,
        len(build.chunks),
        len(build.samples),
        ", ".join(data.markdown.templates),
    )
    if report.drafts_skipped:
        log.info(
            "skipped %d draft(s) (data.markdown.skip_drafts): %s",
            len(report.drafts_skipped),
            ", ".join(report.drafts_skipped),
        )
    if report.too_short:
        log.warning(
            "%d article(s) shorter than data.markdown.chunk_min_tokens=%d gave no chunk: %s",
            len(report.too_short),
            data.markdown.chunk_min_tokens,
            ", ".join(report.too_short),
        )
    return build.samples
