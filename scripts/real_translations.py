"""Real English / Traditional Chinese / Japanese sentence triples for measuring the translation recipe.

    python scripts/real_translations.py OUT_DIR [--lines 60] [--seed 7]

Django's wheel on PyPI carries the message catalogs its volunteer translators wrote (django/**/locale/
{zh_Hant,ja}/LC_MESSAGES/*.po): every English message with its Taiwanese-usage Traditional Chinese and its
Japanese translation. This script fetches that wheel with pip (at benchmark time, never at run time),
reads the catalogs out of the archive without installing it, keeps the messages that are plain sentences
(at least four words, no placeholders or markup, not fuzzy, translated in both languages, not in the
shipped corpus), and writes a seeded sample as OUT_DIR/django.{en,zh_tw,ja}, a Moses folder for the
recipe's `data.test`: `-o data.test=OUT_DIR`.
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import tempfile
import zipfile
from pathlib import Path

from pinned_download import download_pinned

ROOT = Path(__file__).resolve().parent.parent
WHEEL = "Django==5.2.8"
WHEEL_SHA256 = "37e687f7bd73ddf043e2b6b97cfe02fcbb11f2dbb3adccc6a2b18c6daa054d7f"  # the wheel as PyPI serves it
LOCALES = {"zh_tw": "zh_Hant", "ja": "ja"}
NOT_PLAIN = re.compile(r"[%{}<>\\\n_|]|https?:|\.\.\.|…")


def catalog_entries(text: str) -> dict[str, str]:
    """msgid → msgstr of a .po catalog's translated, non-fuzzy, singular entries without a context."""
    entries = {}
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#~")]
        if any(line.startswith("#,") and "fuzzy" in line for line in lines):
            continue
        fields, current = {}, None
        for line in lines:
            if line.startswith("#"):
                continue
            if line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
            else:
                current, _, quoted = line.partition(" ")
                fields[current] = ast.literal_eval(quoted)
        if set(fields) == {"msgid", "msgstr"} and fields["msgid"] and fields["msgstr"]:
            entries[fields["msgid"]] = fields["msgstr"]
    return entries


def fetch_catalogs() -> dict[str, dict[str, str]]:
    """Per target language: every msgid of Django's catalogs with its translation."""
    catalogs = {lang: {} for lang in LOCALES}
    with tempfile.TemporaryDirectory() as folder:
        archive = download_pinned(WHEEL, WHEEL_SHA256, Path(folder), wheel=True)
        with zipfile.ZipFile(archive) as wheel:
            for lang, locale in LOCALES.items():
                for name in sorted(wheel.namelist()):
                    if name.endswith(".po") and f"/locale/{locale}/LC_MESSAGES/" in name:
                        catalogs[lang].update(catalog_entries(wheel.read(name).decode("utf-8")))
    return catalogs


def is_plain_sentence(english: str, translations: list[str]) -> bool:
    return (
        len(english.split()) >= 4
        and len(english) <= 120
        and english[0].isupper()
        and not any(NOT_PLAIN.search(text) for text in [english, *translations])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    catalogs = fetch_catalogs()
    shipped = set((ROOT / "recipes/translation/data/corpus.en").read_text(encoding="utf-8").splitlines())
    triples = sorted(
        (english, *(catalogs[lang][english].strip() for lang in LOCALES))
        for english in set(catalogs["zh_tw"]) & set(catalogs["ja"])
        if english not in shipped and is_plain_sentence(english, [catalogs[lang][english] for lang in LOCALES])
    )
    print(f"{len(triples)} plain sentences translated into both; keeping {min(args.lines, len(triples))}")
    random.Random(args.seed).shuffle(triples)
    kept = triples[: args.lines]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for column, lang in enumerate(["en", *LOCALES]):
        (args.out_dir / f"django.{lang}").write_text("".join(row[column] + "\n" for row in kept), encoding="utf-8")
    print(f"{args.out_dir}/django.{{en,zh_tw,ja}}: {len(kept)} lines")


if __name__ == "__main__":
    main()
