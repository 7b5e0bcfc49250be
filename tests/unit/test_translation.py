"""The translation recipe: Moses-style pairing and its errors, language codes, bidirectional samples,
and BLEU/chrF against hand-computed cases. `tuneforge translate` and a tiny run from data to GGUF:
tests/integration/test_translation_run.py."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import TRANSLATION_SYSTEM as SYSTEM
from helpers import parallel_recipe, write_corpus
from tuneforge.cli import main
from tuneforge.errors import UserError
from tuneforge.recipe.loading import load_recipe
from tuneforge.tasks.translation.data import language_tag, parse_direction, parse_prompt
from tuneforge.tasks.translation.evaluate import bleu_tokenizer, corpus_metrics

RECIPE_DIR = Path(__file__).resolve().parents[2] / "recipes" / "translation"


def read_samples(recipe_path: Path, overrides: list[str] | None = None):
    from tuneforge.data.prepare import DataReport, read_conversations

    recipe, _ = load_recipe(recipe_path, overrides)
    return read_conversations(recipe.data, DataReport())


# ---------------------------------------------------------------- data


def test_shipped_corpus_is_what_make_data_writes():
    import importlib.util
    import random

    spec = importlib.util.spec_from_file_location("translation_make_data", RECIPE_DIR / "make_data.py")
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    rows = make_data.build(random.Random(7))
    for index, extension in enumerate(("en", "zh_tw", "ja")):
        shipped = (RECIPE_DIR / "data" / f"corpus.{extension}").read_text(encoding="utf-8").split("\n")[:-1]
        assert shipped == [row[index] for row in rows]
    assert len(rows) == 320 and len({row[0] for row in rows}) == 320
    assert ("My mother likes apples.", "我的媽媽喜歡蘋果。", "私の母はりんごが好きです。") in rows


def test_language_codes_map_to_tags():
    assert [language_tag(code) for code in ("en", "EN", "ja", "zh", "zh_tw", "zh-TW", "zh_hant", "ZH_Hant")] == [
        "en",
        "en",
        "ja",
        "zh_TW",
        "zh_TW",
        "zh_TW",
        "zh_TW",
        "zh_TW",
    ]
    with pytest.raises(ValueError, match="valid codes: en, ja, zh, zh_tw, zh_hant"):
        language_tag("fr")
    assert parse_direction("en-zh_tw") == ("en", "zh_TW") and parse_direction("zh_hant->ja") == ("zh_TW", "ja")
    with pytest.raises(ValueError, match="into itself"):
        parse_direction("zh-zh_tw")


def test_files_pair_by_stem_into_tagged_samples_both_ways(tmp_path):
    folder = write_corpus(
        tmp_path / "data",
        {
            "talk.en": ["Good morning.", "Thank you."],
            "talk.ZH_HANT": ["早安。", "謝謝。"],
            "news.en": ["It rains."],
            "news.ja": ["雨が降ります。"],
            "README.md": ["not a corpus"],
        },
    )
    samples = read_samples(parallel_recipe(tmp_path, folder))
    assert len(samples) == 2 * 2 + 1 * 2  # every aligned line, both directions
    by_prompt = {s.messages[1]["content"]: s for s in samples}
    first = by_prompt["<en> <zh_TW>\nGood morning."]
    assert first.messages == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "<en> <zh_TW>\nGood morning."},
        {"role": "assistant", "content": "早安。"},
    ]
    back = by_prompt["<zh_TW> <en>\n謝謝。"]
    assert back.messages[-1]["content"] == "Thank you." and back.source == f"{folder / 'talk.ZH_HANT'}:2"
    assert by_prompt["<ja> <en>\n雨が降ります。"].messages[-1]["content"] == "It rains."
    assert first.group == by_prompt["<zh_TW> <en>\n早安。"].group != back.group  # one group per aligned line
    assert parse_prompt(back.messages[1]["content"]) == ("zh_TW", "en", "謝謝。")


def test_a_three_language_stem_pairs_every_two_and_the_options_narrow_it(tmp_path):
    folder = write_corpus(tmp_path / "data", {"c.en": ["Hello."], "c.zh": ["你好。"], "c.ja": ["こんにちは。"]})
    path = parallel_recipe(tmp_path, folder)
    directions = lambda samples: sorted(parse_prompt(s.messages[1]["content"])[:2] for s in samples)  # noqa: E731
    assert len(directions(read_samples(path))) == 6
    assert directions(read_samples(path, ["data.parallel.languages=[EN, zh_tw]"])) == [("en", "zh_TW"), ("zh_TW", "en")]
    assert directions(read_samples(path, ["data.parallel.directions=[en-ja, zh-en]"])) == [
        ("en", "ja"),
        ("zh_TW", "en"),
    ]


def test_a_blank_line_drops_only_the_directions_that_need_it(tmp_path, caplog):
    folder = write_corpus(
        tmp_path / "data", {"c.en": ["Hello.", "Bye."], "c.zh_tw": ["你好。", "再見。"], "c.ja": ["こんにちは。", "  "]}
    )
    samples = read_samples(parallel_recipe(tmp_path, folder))
    second = sorted(parse_prompt(s.messages[1]["content"])[:2] for s in samples if s.source.endswith(":2"))
    assert len(samples) == 6 + 2 and second == [("en", "zh_TW"), ("zh_TW", "en")]
    assert "1 line(s) blank in some language" in caplog.text and "c:2" in caplog.text


def test_unpaired_files_and_line_count_mismatches_are_all_reported(tmp_path):
    folder = write_corpus(
        tmp_path / "data",
        {
            "alone.en": ["Hi."],
            "short.en": ["One.", "Two.", "Three."],
            "short.zh_tw": ["一。", "二。"],
            "twice.zh": ["好。"],
            "twice.zh_tw": ["好。"],
            "twice.en": ["Good."],
        },
    )
    with pytest.raises(UserError) as error:
        read_samples(parallel_recipe(tmp_path, folder))
    problems = error.value.problems
    assert len(problems) == 3
    assert any(p.startswith(f"{folder / 'alone.en'}: no partner file") for p in problems)
    assert f"{folder / 'short.en'} (3 lines) vs {folder / 'short.zh_tw'} (2 lines)" in error.value.render()
    assert any("twice.zh is zh_TW too" in p for p in problems)
    result = CliRunner().invoke(main, ["data", "inspect", str(tmp_path / "tinytranslate.yaml")])
    assert result.exit_code == 2 and "short.en (3 lines)" in result.output and "Traceback" not in result.output


def test_a_split_never_separates_the_directions_of_one_sentence():
    from tuneforge.data.prepare import DataReport, read_conversations, split_samples

    recipe, _ = load_recipe("translation")
    splits = split_samples(read_conversations(recipe.data, DataReport()), recipe.data)
    assert {name: len(part) for name, part in splits.items()} == {"test": 192, "val": 96, "train": 1632}
    groups = {name: {s.group for s in part} for name, part in splits.items()}
    assert not (groups["test"] & groups["train"]) and not (groups["val"] & groups["train"])
    assert not (groups["test"] & groups["val"])


def test_the_schema_checks_languages_directions_and_pairing(tmp_path):
    folder = write_corpus(tmp_path / "data", {"c.en": ["Hi."], "c.ja": ["やあ。"]})
    path = parallel_recipe(tmp_path, folder)
    with pytest.raises(UserError, match=r"data.parallel.languages.*unknown language code 'fr'"):
        load_recipe(path, ["data.parallel.languages=[en, fr]"])
    with pytest.raises(UserError, match="outside languages"):
        load_recipe(path, ["data.parallel.languages=[en, ja]", "data.parallel.directions=[en-zh_tw]"])
    with pytest.raises(
        UserError, match=r"data.parallel: unknown key for format: sharegpt \(it goes with format: parallel\)"
    ):
        load_recipe(path, ["data.format=sharegpt", f"data.train={folder / 'c.en'}", "data.parallel.languages=[en]"])
    with pytest.raises(UserError, match="eval.translation: needs data.format: parallel"):
        load_recipe("quickstart", ["eval.translation.max_samples=2"])


def test_the_recipe_keeps_the_seed_settings():
    recipe, _ = load_recipe("translation")
    assert (recipe.model.base, recipe.lora.r, recipe.lora.alpha, recipe.lora.dropout) == (
        "Qwen/Qwen3-1.7B",
        32,
        64,
        0.05,
    )
    train = recipe.train
    assert (train.global_batch_size, train.grad_accum, train.lr, train.optim, train.epochs) == (
        64,
        None,
        2e-4,
        "paged_adamw_8bit",
        3,
    )
    assert recipe.data.system_prompt == SYSTEM and recipe.data.format == "parallel"


def test_train_subset_and_epochs_shortcuts():
    result = CliRunner().invoke(main, ["train", "translation", "--subset", "0.1", "--epochs", "1", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "subset: 0.1\n" in result.output and "epochs: 1.0\n" in result.output
    bad = CliRunner().invoke(main, ["train", "translation", "--subset", "0", "--dry-run"])
    assert bad.exit_code == 2 and "data.subset" in bad.output


# ---------------------------------------------------------------- metrics


def test_bleu_parts_and_chrf_match_hand_computed_values():
    # 1-4-gram matches 5/6, 3/5, 2/4, 1/3; equal lengths, so BP = 1; BLEU = geometric mean of the precisions.
    same_length = corpus_metrics(["the cat sat on the mat"], ["the cat sat on a mat"], "en")
    assert same_length["precisions"] == pytest.approx([500 / 6, 60.0, 50.0, 100 / 3])
    assert same_length["bleu"] == pytest.approx(100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25, abs=1e-6)
    assert (same_length["brevity_penalty"], same_length["length_ratio"], same_length["tokenize"]) == (1.0, 1.0, "13a")
    # A correct but short hypothesis: every precision 100, BP = exp(1 - 6/4).
    short = corpus_metrics(["the cat sat on"], ["the cat sat on the mat"], "en")
    assert short["brevity_penalty"] == pytest.approx(math.exp(-0.5)) and short["bleu"] == pytest.approx(
        100 * math.exp(-0.5)
    )
    assert (short["hypothesis_length"], short["reference_length"]) == (4, 6) and short["length_ratio"] == pytest.approx(
        4 / 6
    )
    # chrF: orders 1 and 2 only (the hypothesis has no 3-gram): P = (1 + 1) / 2, R = (2/3 + 1/2) / 2, beta = 2.
    precision, recall = 1.0, (2 / 3 + 1 / 2) / 2
    assert corpus_metrics(["ab"], ["abc"], "en")["chrf"] == pytest.approx(
        100 * 5 * precision * recall / (4 * precision + recall)
    )


def test_chinese_and_japanese_targets_use_their_tokenizers():
    assert (bleu_tokenizer("zh_TW"), bleu_tokenizer("ja"), bleu_tokenizer("en")) == ("zh", "ja-mecab", "13a")
    # zh splits every Han character: 9 vs 8 characters, matches 7/9, 5/8, 4/7, 3/6.
    chinese = corpus_metrics(["我每天早上喝咖啡。"], ["我每天早上喝茶。"], "zh_TW")
    assert chinese["bleu"] == pytest.approx(100 * (7 / 9 * 5 / 8 * 4 / 7 * 3 / 6) ** 0.25, abs=1e-6)
    assert (chinese["hypothesis_length"], chinese["reference_length"]) == (9, 8)
    assert corpus_metrics(["我每天早上喝咖啡。"], ["我每天早上喝茶。"], "en")["bleu"] == 0.0  # 13a: one "word"
    japanese = corpus_metrics(["私は毎朝コーヒーを飲みます。"], ["私は毎朝お茶を飲みます。"], "ja")
    assert japanese["reference_length"] > 5 and 0 < japanese["bleu"] < 100  # MeCab split it into words
