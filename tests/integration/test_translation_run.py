"""A tiny translation run from data to GGUF: evaluation of every direction, `tuneforge translate`
and its export. The translation recipe's pieces: tests/unit/test_translation.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import TRANSLATION_SYSTEM as SYSTEM
from helpers import parallel_recipe, write_corpus
from tuneforge.cli import main
from tuneforge.recipe.loading import load_recipe

pytestmark = pytest.mark.integration
RECIPE_DIR = Path(__file__).resolve().parents[2] / "recipes" / "translation"


@pytest.fixture(scope="module")
def translation_run(tiny_llama_dir, tmp_path_factory):
    from tuneforge.train.finetune import train_recipe

    tmp = tmp_path_factory.mktemp("translation")
    lines = {
        ext: (RECIPE_DIR / "data" / f"corpus.{ext}").read_text(encoding="utf-8").splitlines()[:30]
        for ext in ("en", "zh_tw", "ja")
    }
    folder = write_corpus(tmp / "data", {f"corpus.{ext}": rows for ext, rows in lines.items()})
    recipe, source = load_recipe(parallel_recipe(tmp, folder, str(tiny_llama_dir)))
    return train_recipe(recipe, source, tmp / "runs", resume="none")


def test_evaluation_scores_every_direction_base_and_tuned(translation_run):
    result = CliRunner().invoke(main, ["eval", str(translation_run)])
    assert result.exit_code == 0, result.output
    out = translation_run / "eval"
    metrics = json.loads((out / "translation_metrics.json").read_text())
    assert set(metrics["directions"]) == {"en-ja", "en-zh_TW", "ja-en", "ja-zh_TW", "zh_TW-en", "zh_TW-ja"}
    for direction, scores in metrics["directions"].items():
        for variant in ("base", "tuned"):
            row = scores[variant]
            assert row["samples"] == 3 and len(row["precisions"]) == 4 and 0 <= row["bleu"] <= 100
            assert row["tokenize"] == {"en": "13a", "zh_TW": "zh", "ja": "ja-mecab"}[direction.split("-")[1]]
    samples = [json.loads(line) for line in (out / "translation_samples.jsonl").read_text().splitlines()]
    assert len(samples) == 18 == metrics["test_sentences"]
    assert {"direction", "source", "reference", "base", "tuned"} <= set(samples[0])
    assert {"hypothesis", "bleu", "chrf"} == set(samples[0]["tuned"])
    table = (out / "translation.md").read_text()
    assert "| zh_TW-ja | 3 | ja-mecab |" in table and "**mean**" in table
    assert (out / "translation.png").read_bytes()[:4] == b"\x89PNG" and "## Translation" in (
        out / "report.md"
    ).read_text()


def test_translate_uses_the_training_prompt_with_the_adapter(translation_run):
    from tuneforge.eval.generate import AdapterGenerator
    from tuneforge.runs import read_manifest
    from tuneforge.tasks.translation.translate import Translator

    translator = Translator(translation_run, max_new_tokens=5)
    prompt = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "<zh_TW> <en>\n我喜歡蘋果。"}]
    generator = AdapterGenerator(translation_run, read_manifest(translation_run))
    assert translator.translate("ZH_HANT", "en", "我喜歡蘋果。") == generator.generate([prompt], 5)[0]
    assert (
        translator.translate("zh", "en", "我喜歡蘋果。", use_adapter=False)
        == generator.generate([prompt], 5, use_adapter=False)[0]
    )


def test_translate_command_one_text_interactive_and_bad_codes(translation_run):
    from tuneforge.tasks.translation.translate import Translator

    translator = Translator(translation_run, max_new_tokens=4)
    expected = [translator.translate("zh_tw", "en", text) for text in ("我喜歡蘋果。", "早安。", "謝謝。")]
    args = ["translate", str(translation_run), "--src", "zh_tw", "--tgt", "en", "--max-new-tokens", "4"]
    one = CliRunner().invoke(main, [*args, "我喜歡蘋果。"])
    assert one.exit_code == 0, one.output
    assert one.stdout == expected[0] + "\n"
    typed = CliRunner().invoke(main, args, input="早安。\n謝謝。\nquit\n不會讀到\n")
    assert typed.exit_code == 0, typed.output
    assert typed.stdout.count("zh_tw> ") == 3 and "不會讀到" not in typed.stdout  # quit ended the loop
    assert typed.stdout.index(expected[1]) < typed.stdout.index("謝謝。") < typed.stdout.rindex(expected[2])
    bad = CliRunner().invoke(main, ["translate", str(translation_run), "--src", "fr", "--tgt", "en", "bonjour"])
    assert bad.exit_code == 2 and "--src 'fr': unknown language code" in bad.output
    assert "en, ja, zh, zh_tw, zh_hant" in bad.output and "Traceback" not in bad.output


def test_translate_refuses_a_run_that_is_not_translation(tiny_trained_run):
    result = CliRunner().invoke(main, ["translate", str(tiny_trained_run), "--src", "en", "--tgt", "ja", "Hi."])
    assert result.exit_code == 2 and "not a translation recipe" in result.output


def test_the_tiny_run_exports_a_gguf(translation_run):
    result = CliRunner().invoke(main, ["export", str(translation_run), "--format", "merged,gguf", "--quant", "f16"])
    assert result.exit_code == 0, result.output
    artifacts = json.loads((translation_run / "export" / "export.json").read_text())["artifacts"]
    assert artifacts["f16"]["file"] == "tinytranslate.F16.gguf" and artifacts["f16"]["top1_agreement"] >= 0.98
    assert (translation_run / "export" / "tinytranslate.F16.gguf").read_bytes()[:4] == b"GGUF"


def test_compare_pairs_every_sentence_and_recomputes_bleu_and_chrf(translation_run):
    from helpers import assert_compares_with_itself

    comparison = assert_compares_with_itself(translation_run)
    names = {row["metric"] for row in comparison["metrics"] if row["task"] == "translation"}
    assert {"BLEU (mean of directions)", "chrF (mean of directions)", "BLEU zh_TW-ja", "chrF en-ja"} <= names
    assert comparison["tasks"]["translation"]["items"] == {"a": 18, "b": 18}
    assert_compares_with_itself(translation_run, "adapter")
