"""The style recipe: Markdown cleaning and chunking, the three writing tasks, `data build-style`,
the style indicators and the blind A/B sheet. A tiny end-to-end run with `eval.style`:
tests/integration/test_style_run.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tuneforge.cli import main
from tuneforge.errors import UserError
from tuneforge.recipe.loading import load_recipe
from tuneforge.tasks.style.markdown import Chunk, Chunker, FolderReport, clean_markdown, split_sentences

ARTICLES = Path(__file__).resolve().parents[2] / "recipes" / "style" / "data" / "articles"


def texts(markdown: str) -> list[str]:
    return [paragraph.text for paragraph in clean_markdown(markdown)]


def write_article(folder: Path, slug: str, body: str, meta: dict | str | None = None) -> Path:
    """<folder>/<slug>/index.md and, unless meta is None, meta.json (a dict, or raw text for bad JSON)."""
    (folder / slug).mkdir(parents=True, exist_ok=True)
    (folder / slug / "index.md").write_text(body, encoding="utf-8")
    if meta is not None:
        raw = meta if isinstance(meta, str) else json.dumps(meta)
        (folder / slug / "meta.json").write_text(raw, encoding="utf-8")
    return folder / slug / "index.md"


def prose(seed: int, paragraphs: int = 6) -> str:
    """Distinct, punchy paragraphs for a test article."""
    return "\n\n".join(
        f"Paragraph {seed}-{p} starts here. It is short — on purpose. Number {seed * 100 + p} "
        f"is the point. Ship the small thing today!"
        for p in range(paragraphs)
    )


# ---------------------------------------------------------------- cleaning


@pytest.mark.parametrize(
    "markdown, expected",
    [
        ("---\ntitle: x\ntags: [a]\n---\nBody text.", ["Body text."]),  # YAML front matter
        ("+++\ntitle = 'x'\n+++\nBody text.", ["Body text."]),  # TOML front matter
        ("Read [the guide](https://example.com/g) now.", ["Read the guide now."]),  # inline link
        ("Read [the guide][g] now.\n\n[g]: https://example.com/g", ["Read the guide now."]),  # reference link
        ("See <https://example.com> or https://example.org/x today.", ["See or today."]),  # autolink, bare URL
        ("Before ![a diagram](img/d.png) after.", ["Before after."]),  # image and its alt
        ("Text.\n\n```python\nprint('hi')\n```\n\nMore.", ["Text.", "More."]),  # code fence
        ("Text.\n\n    indented = code\n\nMore.", ["Text.", "More."]),  # indented code
        ("Run `make test` first.", ["Run make test first."]),  # inline code
        ("# Title\n\nSome *soft* and **loud** ~~gone~~ words.", ["Title", "Some soft and loud gone words."]),
        ("- one\n- two\n\n1. first", ["- one", "- two", "- first"]),  # lists
        ("> Quoted line.", ["Quoted line."]),  # block quote
        ("| a | b |\n|---|---|\n| 1 | 2 |\n\nAfter.", ["After."]),  # table
        ("Para.\n\n---\n\nNext.", ["Para.", "Next."]),  # horizontal rule
        ('<div class="aside">\nAn <em>aside</em> — kept.<br>\nSame block.\n</div>', ["An aside — kept. Same block."]),
        ("<!-- a private note -->\n\nVisible.", ["Visible."]),  # HTML comment
        ("<script>var x = 1;</script>\n\n<p>Shown <code>hidden()</code> too.</p>", ["Shown too."]),  # script, code
        ("Inline <span>html</span> and <!-- note --> stays<br>clean.", ["Inline html and stays clean."]),
        ("Line one\nline two.", ["Line one line two."]),  # soft break
    ],
)
def test_cleaning_each_markdown_construct(markdown, expected):
    assert texts(markdown) == expected


def test_paragraphs_keep_their_line_in_the_file():
    paragraphs = clean_markdown("---\ntitle: x\n---\n\n# Head\n\nFirst.\n\n```\ncode\n```\n\nSecond.")
    assert [(p.text, p.line) for p in paragraphs] == [("Head", 5), ("First.", 7), ("Second.", 13)]


def test_chinese_markdown_is_cleaned_without_inserted_spaces():
    markdown = "---\ntitle: 测试\n---\n# 小步快跑\n\n我们今天去公园，\n天气很好！[详情](https://example.com)。\n\n![图片](a.png)\n"
    assert texts(markdown) == ["小步快跑", "我们今天去公园，天气很好！详情。"]
    assert split_sentences("我们走吧。天气很好！你呢？好") == ["我们走吧。", "天气很好！", "你呢？", "好"]


def test_sentences_split_at_end_punctuation_only():
    assert split_sentences('It works. Really? "Yes!" Version 3.5 ships… now') == [
        "It works.",
        "Really?",
        '"Yes!"',
        "Version 3.5 ships…",
        "now",
    ]


# ---------------------------------------------------------------- chunking (the real tokenizer)


def article_of(text: str, name: str = "a.md"):
    from tuneforge.tasks.style.markdown import Article

    return Article(Path(name), {}, "T", clean_markdown(text))


def test_chunks_stay_within_bounds_and_lose_no_sentence(tokenizer):
    lo, hi = 40, 100
    article = article_of("\n\n".join(prose(seed, 3) for seed in range(8)))
    report = FolderReport()
    chunks = Chunker(tokenizer, lo, hi).chunks(article, report)
    counts = [len(tokenizer(chunk.text, add_special_tokens=False)["input_ids"]) for chunk in chunks]
    assert len(chunks) > 3 and all(lo <= n <= hi for n in counts), counts
    assert counts == [chunk.tokens for chunk in chunks] and report.chunks_outside_bounds == 0
    original = [s for p in article.paragraphs for s in split_sentences(p.text)]
    assert [s for chunk in chunks for p in chunk.paragraphs for s in split_sentences(p)] == original


def test_the_sample_corpus_chunks_within_300_to_800_tokens(tokenizer):
    from tuneforge.errors import ProblemCollector
    from tuneforge.tasks.style.markdown import read_articles
    from tuneforge.tasks.style.schema import MarkdownData

    report, problems = FolderReport(), ProblemCollector("x")
    articles = read_articles(ARTICLES, MarkdownData(), problems, report)
    chunks = [c for a in articles for c in Chunker(tokenizer, 300, 800).chunks(a, report)]
    assert not problems.problems and len(articles) >= 12 and len(report.drafts_skipped) == 1
    assert all(300 <= len(tokenizer(c.text, add_special_tokens=False)["input_ids"]) <= 800 for c in chunks)


def test_an_overlong_sentence_is_cut_and_a_short_article_is_counted(tokenizer):
    long_sentence = " ".join(f"word{i}" for i in range(400))  # no sentence end at all
    report = FolderReport()
    chunks = Chunker(tokenizer, 40, 100).chunks(article_of(long_sentence), report)
    assert chunks and all(40 <= c.tokens <= 100 for c in chunks)
    assert Chunker(tokenizer, 40, 100).chunks(article_of("Too short.", "short.md"), report) == []
    assert report.too_short == ["short.md"]


# ---------------------------------------------------------------- the three tasks


def style_data():
    return load_recipe("style", ["model.base=embedded:smollm2-135m-instruct"])[0].data


def test_three_templates_from_one_chunk():
    from tuneforge.tasks.style.samples import StyleBuild, chunk_samples

    data = style_data()
    article = article_of("# Head\n\nShort. Punchy — always! Then more.\n\nSecond one. Again...\n\n- A list item")
    article.title = "My Title"
    chunk = Chunk(article, [p.text for p in article.paragraphs], 1, 30)
    samples = chunk_samples(chunk, data, StyleBuild())
    by_task = {s.meta["task"]: s for s in samples}
    assert list(by_task) == ["rewrite", "continue", "summarize_expand"]
    assert all(s.messages[0] == {"role": "system", "content": data.system_prompt} for s in samples)
    assert all(s.group == "a.md" and s.source == "a.md:1" for s in samples)
    rewrite = by_task["rewrite"].messages
    assert rewrite[1]["content"] == (
        'Rewrite this passage from my article "My Title" in my own style.\n\n'
        "Head. Short. Punchy, always. Then more. Second one. Again. A list item."
    )
    assert rewrite[2]["content"] == chunk.text
    head, rest = (
        by_task["continue"].messages[1]["content"].split("\n\n", 1)[1],
        by_task["continue"].messages[2]["content"],
    )
    assert f"{head}\n\n{rest}" == chunk.text and rest.startswith("Second one.")
    summary = by_task["summarize_expand"].messages[1]["content"].split("\n\n", 1)[1]
    assert summary == "- Head\n- Short.\n- Second one.\n- A list item"
    assert by_task["summarize_expand"].messages[2]["content"] == chunk.text


def test_a_one_sentence_chunk_has_no_continuation():
    from tuneforge.tasks.style.samples import StyleBuild, chunk_samples

    build = StyleBuild()
    chunk = Chunk(article_of("Just one sentence here."), ["Just one sentence here."], 1, 5)
    assert [s.meta["task"] for s in chunk_samples(chunk, style_data(), build)] == ["rewrite", "summarize_expand"]
    assert build.skipped == {"continue": 1}


def test_schema_defaults_and_pairings(tmp_path):
    recipe, _ = load_recipe("style", ["model.base=embedded:smollm2-135m-instruct"])
    assert recipe.data.markdown.tokenizer == "embedded:smollm2-135m-instruct"
    assert recipe.data.markdown.instructions["continue"].startswith("Continue my article")
    (tmp_path / "chat.jsonl").write_text("{}\n")
    with pytest.raises(UserError, match="goes with format: markdown"):
        load_recipe("style", ["data.format=sharegpt", f"data.train={tmp_path / 'chat.jsonl'}"])
    with pytest.raises(UserError, match="at least twice"):
        load_recipe("style", ["data.markdown.chunk_min_tokens=500"])
    with pytest.raises(UserError, match="needs data.format: markdown with the 'continue'"):
        load_recipe("style", ["data.markdown.templates=[rewrite]"])
    with pytest.raises(UserError, match="only placeholder is"):
        load_recipe("style", ["data.markdown.instructions.rewrite=Rewrite {text}"])


def test_the_split_keeps_articles_together_and_ungrouped_data_unchanged():
    import random

    from tuneforge.data.formats import Sample
    from tuneforge.data.prepare import split_samples

    data = style_data()
    grouped = [Sample([], f"s{i}", group=f"article{i // 3}") for i in range(30)]
    splits = split_samples(grouped, data)
    assert {s.group for s in splits["val"]}.isdisjoint({s.group for s in splits["train"]})
    assert (
        len(splits["val"]) % 3 == 0 and len(splits["val"]) > 0 and abs(len(splits["val"]) - 30 * data.split.val) <= 1.5
    )
    plain = [Sample([], f"s{i}") for i in range(30)]
    expected = plain[:]
    random.Random(data.split.seed).shuffle(expected)
    splits = split_samples(plain, data)
    assert splits["val"] + splits["train"] == expected  # the order every other format had before groups


# ---------------------------------------------------------------- build-style


def small_corpus(folder: Path, count: int = 6) -> Path:
    for index in range(count):
        write_article(
            folder,
            f"post-{index}",
            f"---\ntitle: front {index}\n---\n# Post {index}\n\n{prose(index)}\n",
            {"title": f"Post {index}", "tags": ["t"], "lang": "en"},
        )
    return folder


def build(folder: Path, out: Path, model: Path, *extra: str):
    overrides = [
        f"model.base={model}",
        "data.markdown.chunk_min_tokens=30",
        "data.markdown.chunk_max_tokens=90",
        "data.split.val=0.3",
        *extra,
    ]
    args = ["data", "build-style", str(folder), "--out", str(out)] + [a for o in overrides for a in ("-o", o)]
    return CliRunner().invoke(main, args)


def test_build_style_writes_the_seed_files(tmp_path, tiny_llama_dir):
    result = build(small_corpus(tmp_path / "articles"), tmp_path / "out", tiny_llama_dir)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["dataset_stats.json", "sft_train.jsonl", "sft_val.jsonl"]
    rows = {
        name: [json.loads(line) for line in (out / f"sft_{name}.jsonl").read_text().splitlines()]
        for name in ("train", "val")
    }
    stats = json.loads((out / "dataset_stats.json").read_text())
    assert all(set(r) == {"system", "input", "output", "task", "source"} for rs in rows.values() for r in rs)
    assert {r["task"] for r in rows["train"]} == {"rewrite", "continue", "summarize_expand"}
    articles = {name: {r["source"].rsplit(":", 1)[0] for r in rs} for name, rs in rows.items()}
    assert articles["val"] and articles["val"].isdisjoint(articles["train"])
    assert stats["articles"]["read"] == 6 and stats["samples"]["splits"]["val"] == len(rows["val"])
    assert (
        stats["samples"]["built"] == sum(stats["samples"]["by_task"].values()) == len(rows["train"]) + len(rows["val"])
    )
    assert stats["chunks"]["tokens"]["min"] >= 30 and stats["chunks"]["tokens"]["max"] <= 90
    assert "first sentence of each paragraph" in stats["summary_method"]
    assert (
        rows["train"][0]["input"].startswith(("Rewrite", "Continue", "Expand"))
        and "front" not in rows["train"][0]["input"]
    )


def test_build_style_reports_every_broken_article_by_file(tmp_path, tiny_llama_dir):
    folder = small_corpus(tmp_path / "articles", 2)
    write_article(folder, "no-meta", prose(7))
    write_article(folder, "bad-json", prose(8), '{"title": "x",\n  "tags": [}')
    write_article(folder, "wrong-type", prose(9), {"title": 3, "draft": "no"})
    result = build(folder, tmp_path / "out", tiny_llama_dir)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{folder / 'no-meta' / 'index.md'}: no meta.json beside it" in result.output
    assert f"{folder / 'bad-json' / 'meta.json'}:2: invalid JSON" in result.output
    assert '"title" must be a string' in result.output and '"draft" must be true or false' in result.output
    assert not (tmp_path / "out").exists()
    relaxed = build(folder, tmp_path / "out", tiny_llama_dir, "data.markdown.require_meta=false")
    assert "no-meta" not in relaxed.output and relaxed.exit_code == 2  # bad JSON is still an error


def test_build_style_refuses_an_empty_or_missing_folder(tmp_path, tiny_llama_dir):
    (tmp_path / "empty").mkdir()
    result = build(tmp_path / "empty", tmp_path / "out", tiny_llama_dir)
    assert result.exit_code == 2 and f"{tmp_path / 'empty'}: no Markdown articles (*.md)" in result.output
    result = build(tmp_path / "nowhere", tmp_path / "out", tiny_llama_dir)
    assert result.exit_code == 2 and "no such folder" in result.output


# ---------------------------------------------------------------- indicators


def test_indicators_match_hand_counts():
    from tuneforge.tasks.style.indicators import moving_ttr, style_indicators, words

    assert words("Don't stop — ever. Top-10 lists!") == ["don't", "stop", "ever", "top", "10", "lists"]
    result = style_indicators(["The cat and the dog. The end — fast!", "Wait... no? Yes"], ttr_window=50)
    # words: the cat and the dog | the end fast | wait no yes → 11; sentences 5, 3, 1, 1, 1
    assert result.words == 11 and sorted(result.sentence_lengths) == [1, 1, 1, 3, 5]
    payload = result.to_json(top_words=2)
    assert payload["sentence_length"]["mean"] == pytest.approx(11 / 5)
    assert payload["sentence_length"]["histogram"]["0-1"] == 3 and payload["sentence_length"]["histogram"]["4-5"] == 1
    rates = payload["punctuation_per_100_words"]
    assert rates["period"] == pytest.approx(100 / 11) and rates["dash"] == pytest.approx(100 / 11)
    assert rates["ellipsis"] == pytest.approx(100 / 11) and rates["question"] == pytest.approx(100 / 11)
    assert rates["exclamation"] == pytest.approx(100 / 11) and rates["comma"] == 0
    assert payload["top_words"][0] == ["the", round(3 / 11, 5)]
    assert payload["function_word_rate"] == pytest.approx(5 / 11)  # the ×3, and, no
    # ttr: text 1 has 8 words of 6 types (window 50 > length: plain ratio); text 2: 3 of 3
    assert payload["type_token_ratio"] == pytest.approx((6 / 8 + 1) / 2)
    assert moving_ttr([["a", "a", "b", "c"]], window=2) == pytest.approx((0.5 + 1 + 1) / 3)


def test_chinese_indicators_use_jieba():
    from tuneforge.tasks.style.indicators import style_indicators, words

    assert words("我们去公园。天气很好！") == ["我们", "去", "公园", "天气", "很", "好"]
    result = style_indicators(["我们去公园。天气很好！"], ttr_window=50)
    assert result.sentence_lengths == [3, 3]
    assert result.function_word_rate() == pytest.approx(2 / 6)  # 我们, 很
    assert result.punctuation_rates()["period"] == pytest.approx(100 / 6)
    assert result.punctuation_rates()["exclamation"] == pytest.approx(100 / 6)


def test_style_distance_is_zero_for_the_author_and_hand_computed_otherwise():
    from tuneforge.tasks.style.indicators import Indicators, style_distance, style_indicators

    author = style_indicators(["Short one. Another short one here!"], ttr_window=50)
    assert all(v == pytest.approx(0) for v in style_distance(author, author, 10).values())
    a = Indicators(sentence_lengths=[2, 4], ttr=0.5)
    g = Indicators(sentence_lengths=[4, 6], ttr=0.75)
    a.word_counts.update({"x": 2, "the": 2})
    g.word_counts.update({"x": 2, "the": 2})
    a.marks.update({"period": 2})
    g.marks.update({"period": 1, "dash": 1})
    distance = style_distance(g, a, 10)
    assert distance["sentence_length"] == pytest.approx(2 / 3)  # Wasserstein 2, author mean 3
    assert distance["punctuation"] == pytest.approx((25 + 25) / 50)  # per 100 words: 50 vs 25 + 0 vs 25
    assert distance["top_words"] == pytest.approx(0) and distance["function_words"] == pytest.approx(0)
    assert distance["type_token_ratio"] == pytest.approx(0.5)
    assert distance["overall"] == pytest.approx((2 / 3 + 1 + 0.5) / 5)


# ---------------------------------------------------------------- A/B sheet


def test_ab_sheet_hides_the_models_and_the_key_recovers_them(tmp_path):
    from tuneforge.tasks.style.ab_sheet import tally_ab, write_ab_sheet

    rows = [
        {"prompt": f"start {i} | with pipe\nand line", "base": f"base text {i}", "tuned": f"tuned text {i}"}
        for i in range(8)
    ]
    info = write_ab_sheet(tmp_path, rows, seed=0)
    assert info["rows"] == 8
    with (tmp_path / "ab_sheet.csv").open(newline="") as handle:
        sheet = list(csv.DictReader(handle))
    with (tmp_path / "ab_key.csv").open(newline="") as handle:
        key = {row["id"]: row for row in csv.DictReader(handle)}
    assert list(sheet[0]) == ["id", "prompt", "A", "B", "more_like_the_author"]
    for row, original in zip(sheet, rows):
        assert row["A"] == original[key[row["id"]]["A"]] and row["B"] == original[key[row["id"]]["B"]]
        assert {key[row["id"]]["A"], key[row["id"]]["B"]} == {"base", "tuned"}
    assert {key[r["id"]]["A"] for r in sheet} == {"base", "tuned"}  # the order varies between rows
    markdown = (tmp_path / "ab_sheet.md").read_text()
    assert markdown.count("\n| 0") == 8 and "start 0 \\| with pipe<br>and line" in markdown
    assert "tuned" not in markdown.split("|---|")[1] and "base" not in markdown.split("|---|")[1].replace(
        "base text", ""
    )
    for index, row in enumerate(sheet):
        row["more_like_the_author"] = "A" if key[row["id"]]["A"] == "tuned" else "B" if index < 5 else "="
    with (tmp_path / "filled.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(sheet[0]))
        writer.writeheader()
        writer.writerows(sheet)
    assert tally_ab(tmp_path / "filled.csv", tmp_path / "ab_key.csv") == {
        "tuned": 5,
        "base": 0,
        "tie": 3,
        "unanswered": 0,
    }
    sheet[1]["more_like_the_author"] = "maybe"
    with (tmp_path / "filled.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(sheet[0]))
        writer.writeheader()
        writer.writerows(sheet)
    with pytest.raises(UserError, match="filled.csv:3: more_like_the_author is 'MAYBE'"):
        tally_ab(tmp_path / "filled.csv", tmp_path / "ab_key.csv")


def test_ab_tally_command_counts_a_filled_sheet_and_rejects_a_foreign_one(tmp_path):
    import json

    from click.testing import CliRunner

    from tuneforge.cli import main
    from tuneforge.tasks.style.ab_sheet import write_ab_sheet

    run = tmp_path / "run"
    rows = [{"prompt": f"p{i}", "base": f"base {i}", "tuned": f"tuned {i}"} for i in range(4)]
    write_ab_sheet(run / "eval", rows, seed=1)
    with (run / "eval" / "ab_sheet.csv").open(newline="") as handle:
        sheet = list(csv.DictReader(handle))
    with (run / "eval" / "ab_key.csv").open(newline="") as handle:
        key = {row["id"]: row for row in csv.DictReader(handle)}
    for index, row in enumerate(sheet):  # tuned, tuned, base, unanswered
        tuned_side = "A" if key[row["id"]]["A"] == "tuned" else "B"
        row["more_like_the_author"] = [tuned_side, tuned_side, "B" if tuned_side == "A" else "A", ""][index]
    filled = tmp_path / "filled.csv"
    with filled.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(sheet[0]))
        writer.writeheader()
        writer.writerows(sheet)
    result = CliRunner().invoke(main, ["ab-tally", str(run), "--sheet", str(filled)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "tuned": 2,
        "base": 1,
        "tie": 0,
        "unanswered": 1,
        "tuned_share_of_answered": 0.667,
    }
    sheet[0]["id"] = "999"
    with filled.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(sheet[0]))
        writer.writeheader()
        writer.writerows(sheet)
    result = CliRunner().invoke(main, ["ab-tally", str(run), "--sheet", str(filled)])
    assert result.exit_code == 2 and "filled.csv:2: id '999' is not in" in result.output
    result = CliRunner().invoke(main, ["ab-tally", str(tmp_path / "nothing-here")])
    assert result.exit_code == 2 and "nothing-here: not a tuneforge run" in result.output
    (run / "eval" / "ab_key.csv").unlink()
    result = CliRunner().invoke(main, ["ab-tally", str(run)])
    assert result.exit_code == 2 and "ab_key.csv: not found" in result.output
