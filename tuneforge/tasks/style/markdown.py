"""A folder of Markdown articles → clean prose paragraphs → chunks bounded in base-model tokens.

Layout: every `*.md` under the folder (recursively) is an article. Its metadata is
`<stem>.meta.json` beside it, or else `meta.json` in the same folder (the blog-backup layout
`articles/<slug>/index.md` + `articles/<slug>/meta.json`). meta.json is a JSON object; the keys
read are "title" (used in the prompts; else the first heading, else the folder or file name),
"draft" (true: skipped when data.markdown.skip_drafts), "tags" and "lang" (counted in the stats).

Cleaning keeps the author's prose and drops what is not prose (markdown-it-py parses, CommonMark):
  front matter (--- YAML --- or +++ TOML +++ at the top)  removed; meta.json holds the metadata
  headings, paragraphs, block quotes                      plain paragraphs, markers removed
  list items                                              one paragraph each, written "- item"
  emphasis, strong, strikethrough, inline code            their text, markers removed
  links [text](url), reference links                      their text; autolinks and bare URLs removed
  images ![alt](src)                                      removed, alt text too (not the author's prose)
  code fences, indented code, tables, rules               removed
  HTML (blocks and inline)                                tags removed, their text kept; comments and
                                                          <script>, <style>, <pre>, <code> removed
A line break inside a paragraph becomes a space, or nothing between two CJK characters (Chinese is
written without spaces). Every paragraph keeps the line of the file it starts on.

Chunking: paragraphs are cut into sentences; sentences are packed greedily up to chunk_max_tokens,
cutting at the last paragraph break that leaves at least chunk_min_tokens when there is one, else
between sentences. A short last chunk joins the one before it, or the two are rebalanced. A sentence
longer than chunk_max_tokens is cut between tokens. An article shorter than chunk_min_tokens gives
no chunk (counted as too short).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from tuneforge.data.sources import read_utf8
from tuneforge.errors import ProblemCollector
from tuneforge.models import resolve_model

CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_CHAR = re.compile(f"[{CJK}]")
_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\n.*?\n\1[ \t]*(?:\n|\Z)", re.DOTALL)
_BARE_URL = re.compile(r"(?:https?://|www\.)\S+")
# A sentence ends at . ! ? … (then closing quotes or brackets) before a space or the end, at Chinese
# 。！？ (no space follows them), or at a line break.
_SENTENCE = re.compile(r"""\S.*?(?:[.!?…]+["'”’)\]]*(?=\s|$)|[。！？]+[”’」』）]*|(?=\n)|$)""", re.DOTALL)


@dataclass
class Paragraph:
    text: str
    line: int  # 1-based line of the Markdown file where it starts


@dataclass
class Article:
    path: Path
    meta: dict
    title: str
    paragraphs: list[Paragraph]

    @property
    def text(self) -> str:
        return "\n\n".join(paragraph.text for paragraph in self.paragraphs)


@dataclass
class Chunk:
    article: Article
    paragraphs: list[str]  # the chunk's text, paragraph by paragraph
    line: int
    tokens: int

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass
class FolderReport:
    """What reading a folder found, for dataset_stats.json and the log (nothing dropped silently)."""

    articles: int = 0
    drafts_skipped: list[str] = field(default_factory=list)
    too_short: list[str] = field(default_factory=list)
    chunks_outside_bounds: int = 0


# ---------------------------------------------------------------- text helpers


def has_cjk(text: str) -> bool:
    return bool(_CJK_CHAR.search(text))


def glue(left: str, right: str) -> str:
    """What goes between two pieces of one paragraph: nothing between CJK characters, else a space."""
    return "" if left and right and has_cjk(left[-1]) and has_cjk(right[0]) else " "


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, surrounding spaces excluded. Abbreviations such as "e.g."
    end a sentence too: a regular expression, not a parser, and the same one everywhere."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        end -= len(match.group()) - len(match.group().rstrip())
        if start < end:
            spans.append((start, end))
    return spans


def split_sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


# ---------------------------------------------------------------- cleaning


@functools.lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def strip_front_matter(text: str) -> str:
    """Front matter replaced by as many empty lines, so that line numbers still match the file."""
    match = _FRONT_MATTER.match(text)
    return text if not match else "\n" * match.group().count("\n") + text[match.end() :]


def clean_markdown(text: str) -> list[Paragraph]:
    """The prose paragraphs of a Markdown document (rules in the module docstring)."""
    tokens = _parser().parse(strip_front_matter(text.lstrip("\ufeff")))
    paragraphs, skip_until, bullet = [], None, False
    for token in tokens:
        if skip_until is not None:
            skip_until = None if (token.type, token.level) == skip_until else skip_until
        elif token.type == "table_open":
            skip_until = ("table_close", token.level)
        elif token.type == "list_item_open":
            bullet = True
        elif token.type == "inline":
            body = inline_text(token.children or [])
            if body:
                paragraphs.append(Paragraph(f"- {body}" if bullet else body, token.map[0] + 1))
            bullet = False
        elif token.type == "html_block":
            paragraphs += [Paragraph(body, token.map[0] + 1) for body in html_paragraphs(token.content)]
    return paragraphs


def inline_text(children) -> str:
    """Text of one paragraph's inline tokens: links keep their text, images and HTML tags go."""
    parts, links = [], []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif (
            child.type in ("softbreak", "hardbreak")
            or child.type == "html_inline"
            and re.match(r"<br\b", child.content, re.IGNORECASE)
        ):
            parts.append("\n")
        elif child.type == "link_open":
            links.append((len(parts), child.markup == "autolink"))
        elif child.type == "link_close" and links:
            start, autolink = links.pop()
            if autolink:  # <https://…>: a bare address, not prose
                del parts[start:]
    return tidy("".join(parts))


def tidy(text: str) -> str:
    """Line breaks → a space (nothing between CJK), bare URLs removed, spaces collapsed."""
    text = re.sub(f"(?<=[{CJK}])[ \t]*\n[ \t]*(?=[{CJK}])", "", text)
    text = _BARE_URL.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


class _HtmlText(HTMLParser):
    """Text of an HTML fragment, with a paragraph break at each block element."""

    SKIP = {"script", "style", "pre", "code", "template", "svg"}
    BLOCKS = {
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "section",
        "article",
        "aside",
        "figure",
        "figcaption",
        "table",
        "tr",
        "hr",
        "details",
        "summary",
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in self.SKIP
        self.parts.append("\n\n" if tag in self.BLOCKS else " " if tag == "br" else "")

    def handle_endtag(self, tag):
        self.skipping -= tag in self.SKIP and self.skipping > 0
        self.parts.append("\n\n" if tag in self.BLOCKS else "")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_paragraphs(html: str) -> list[str]:
    """An HTML block's paragraphs; Markdown inside it (links, emphasis) is cleaned as inline text."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    blocks = re.split(r"\n\s*\n", "".join(parser.parts))
    cleaned = [inline_text(_parser().parseInline(block.strip())[0].children or []) for block in blocks if block.strip()]
    return [text for text in cleaned if text]


# ---------------------------------------------------------------- the folder


def find_markdown(folder: Path, problems: ProblemCollector) -> list[Path]:
    if folder.is_file():
        return [folder]
    files = sorted(path for path in folder.rglob("*.md") if path.is_file())
    if not files:
        problems.add(f"{folder}: no Markdown articles (*.md) in this folder or below it")
    return files


def meta_path(markdown: Path) -> Path | None:
    candidates = [markdown.with_name(f"{markdown.stem}.meta.json"), markdown.with_name("meta.json")]
    return next((path for path in candidates if path.is_file()), None)


def read_meta(markdown: Path, require: bool, problems: ProblemCollector) -> dict | None:
    """The article's meta.json as a dict; None (with a problem) when it is missing or invalid."""
    path = meta_path(markdown)
    if path is None:
        if require:
            problems.add(
                f"{markdown}: no meta.json beside it (looked for {markdown.with_name('meta.json')} and "
                f'{markdown.stem}.meta.json); add one such as {{"title": "..."}}, '
                f"or set data.markdown.require_meta: false"
            )
        return None if require else {}
    text = read_utf8(path, problems)
    if text is None:
        return None
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.add(f"{path}:{exc.lineno}: invalid JSON ({exc.msg} at column {exc.colno})")
        return None
    return meta if _meta_ok(path, meta, problems) else None


def _meta_ok(path: Path, meta, problems: ProblemCollector) -> bool:
    if not isinstance(meta, dict):
        problems.add(f"{path}: meta.json must hold a JSON object, got {type(meta).__name__}")
        return False
    wrong = [
        f'"{key}" must be {kind}'
        for key, kind, ok in (
            ("title", "a string", isinstance(meta.get("title", ""), str)),
            ("draft", "true or false", isinstance(meta.get("draft", False), bool)),
            (
                "tags",
                "a list of strings",
                isinstance(meta.get("tags", []), list) and all(isinstance(tag, str) for tag in meta.get("tags", [])),
            ),
        )
        if not ok
    ]
    for problem in wrong:
        problems.add(f"{path}: {problem}")
    return not wrong


def read_article(markdown: Path, meta: dict, problems: ProblemCollector) -> Article | None:
    text = read_utf8(markdown, problems)
    if text is None:
        return None
    paragraphs = clean_markdown(text)
    title = (
        meta.get("title")
        or _first_heading(text)
        or (markdown.parent.name if markdown.stem == "index" else markdown.stem)
    )
    return Article(markdown, meta, title.strip(), paragraphs)


def _first_heading(text: str) -> str | None:
    match = re.search(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", strip_front_matter(text), re.MULTILINE)
    return match.group(1) if match else None


def read_articles(folder: Path, config, problems: ProblemCollector, report: FolderReport) -> list[Article]:
    """Every article under `folder` with its meta.json (drafts skipped when config.skip_drafts)."""
    articles = []
    for markdown in find_markdown(folder, problems):
        meta = read_meta(markdown, config.require_meta, problems)
        if meta is None:
            continue
        if config.skip_drafts and meta.get("draft") is True:
            report.drafts_skipped.append(str(markdown))
            continue
        article = read_article(markdown, meta, problems)
        if article is not None:
            articles.append(article)
    report.articles += len(articles)
    return articles


# ---------------------------------------------------------------- chunking


@functools.lru_cache(maxsize=4)
def load_tokenizer(ref: str):
    """The tokenizer chunks are measured with: a model reference as in model.base."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(resolve_model(ref).path))


def token_counter(tokenizer):
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a piece of an over-long one) of paragraph `para` of an article."""

    para: int
    text: str


def _join(units: list[_Unit]) -> list[str]:
    """Units back into paragraphs: sentences of one paragraph glued, paragraphs kept apart."""
    paragraphs: list[str] = []
    for index, unit in enumerate(units):
        if index and units[index - 1].para == unit.para:
            paragraphs[-1] += glue(paragraphs[-1], unit.text) + unit.text
        else:
            paragraphs.append(unit.text)
    return paragraphs


def _units(paragraphs: list[Paragraph], tokenizer, limit: int) -> list[_Unit]:
    units = []
    for index, paragraph in enumerate(paragraphs):
        for sentence in split_sentences(paragraph.text):
            units += [_Unit(index, piece) for piece in _fit(sentence, tokenizer, limit)]
    return units


def _fit(sentence: str, tokenizer, limit: int) -> list[str]:
    """A sentence cut between tokens (at character offsets) into pieces of at most limit // 2 tokens."""
    encoding = tokenizer(sentence, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoding["offset_mapping"]
    if len(offsets) <= limit // 2:
        return [sentence]
    cuts = [offsets[index][0] for index in range(0, len(offsets), limit // 2)] + [len(sentence)]
    return [sentence[start:end].strip() for start, end in zip(cuts, cuts[1:]) if sentence[start:end].strip()]


class Chunker:
    """Packs an article's sentences into chunks of lo..hi tokens (rules in the module docstring)."""

    def __init__(self, tokenizer, lo: int, hi: int):
        self.tokenizer, self.count_text, self.lo, self.hi = tokenizer, token_counter(tokenizer), lo, hi
        self._sizes: dict[_Unit, int] = {}

    def count(self, units: list[_Unit]) -> int:
        return self.count_text("\n\n".join(_join(units)))

    def chunks(self, article: Article, report: FolderReport) -> list[Chunk]:
        units = _units(article.paragraphs, self.tokenizer, self.hi)
        if not units or self.count(units) < self.lo:
            report.too_short.append(str(article.path))
            return []
        groups = self._settle(self._pack(units))
        chunks = []
        for group in groups:
            tokens = self.count(group)
            report.chunks_outside_bounds += not self.lo <= tokens <= self.hi
            chunks.append(Chunk(article, _join(group), article.paragraphs[group[0].para].line, tokens))
        return chunks

    def _pack(self, units: list[_Unit]) -> list[list[_Unit]]:
        groups, current = [], []
        for unit in units:
            if current and self._may_exceed(current + [unit]) and self.count(current + [unit]) > self.hi:
                head, current = self._cut(current, unit)
                groups.append(head)
            current.append(unit)
        return groups + [current]

    def _may_exceed(self, units: list[_Unit]) -> bool:
        """False when `units` surely fit in hi tokens, so the exact (re-tokenizing, quadratic) count can
        be skipped. Each unit is measured with a leading space, as it sits after a seam; a byte-level
        pre-tokenizer splits the joined text at those spaces, so the joined count is close to the sum;
        two extra tokens per seam (a blank line instead of a space: measured at most 1.5 per seam on the
        sample corpus, English and Chinese) keep the sum above it. Chunk sizes are counted exactly
        afterwards either way."""
        return sum(self._size(unit) for unit in units) + 2 * len(units) > self.hi

    def _size(self, unit: _Unit) -> int:
        if unit not in self._sizes:
            self._sizes[unit] = self.count_text(" " + unit.text)
        return self._sizes[unit]

    def _cut(self, current: list[_Unit], unit: _Unit) -> tuple[list[_Unit], list[_Unit]]:
        """Emit up to the last paragraph break that leaves a full chunk and room for `unit` after it."""
        for cut in range(len(current) - 1, 0, -1):
            if (
                current[cut].para != current[cut - 1].para
                and self.count(current[:cut]) >= self.lo
                and self.count(current[cut:] + [unit]) <= self.hi
            ):
                return current[:cut], current[cut:]
        return current, []

    def _settle(self, groups: list[list[_Unit]]) -> list[list[_Unit]]:
        """A short last group joins the one before it if they fit together, else the two are rebalanced."""
        if len(groups) < 2 or self.count(groups[-1]) >= self.lo:
            return groups
        both = groups[-2] + groups[-1]
        if self.count(both) <= self.hi:
            return groups[:-2] + [both]
        return groups[:-2] + self._halves(both)

    def _halves(self, units: list[_Unit]) -> list[list[_Unit]]:
        """Two groups of about equal size: the cut is estimated from the sentences' own token counts,
        then moved one sentence at a time while the exact counts show it off balance."""
        sizes = [self.count([unit]) for unit in units]
        cut = min(range(1, len(units)), key=lambda i: abs(sum(sizes[:i]) - sum(sizes[i:])))
        for _ in range(len(units)):
            left, right = self.count(units[:cut]), self.count(units[cut:])
            step = 1 if left < self.lo or right > self.hi else -1 if right < self.lo or left > self.hi else 0
            if not step or not 0 < cut + step < len(units):
                break
            cut += step
        return [units[:cut], units[cut:]]
