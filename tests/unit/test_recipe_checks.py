"""Recipe problems across sections are reported together at load time, each with its key path."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from helpers import write_jsonl, write_recipe
from tuneforge.cli import main
from tuneforge.recipe import recipe_model

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def test_every_cross_section_problem_at_once_in_a_dry_run(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "a", "output": "b"}])
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {
            "name": "r",
            "data": {"format": "alpaca", "train": data.name, "split": {"val": 0.0, "test": 0.0}},
            "eval": {"translation": {}, "domain": {}, "style": {}},
        },
    )
    result = CliRunner().invoke(main, ["train", str(recipe), "--dry-run"])
    assert result.exit_code == 2, result.output
    for problem in (
        "eval.held_out_loss: needs a validation split",
        "eval.domain: needs a test split",
        "eval.style: needs data.format: markdown",
        "eval.translation: needs data.format: parallel",
    ):
        assert problem in result.output
    assert "4 problem(s)" in result.output and "Traceback" not in result.output


def test_a_translation_recipe_without_a_test_split_fails_its_dry_run():
    result = CliRunner().invoke(main, ["train", "translation", "--dry-run", "-o", "data.split.test=0"])
    assert result.exit_code == 2
    assert "eval.translation: needs a test split; set data.split.test, e.g. 0.1" in result.output


def test_a_section_level_problem_names_its_keys_without_dumping_the_section():
    result = CliRunner().invoke(main, ["train", "style", "--dry-run", "-o", "data.markdown.chunk_min_tokens=500"])
    assert result.exit_code == 2
    assert "data.markdown: chunk_max_tokens must be at least twice chunk_min_tokens" in result.output
    assert "(got {" not in result.output


def test_a_key_of_another_format_says_which_format_it_goes_with(tmp_path):
    result = CliRunner().invoke(main, ["train", "quickstart", "--dry-run", "-o", "data.classification.labels=[a,b]"])
    assert result.exit_code == 2
    assert (
        "data.classification: unknown key for format: sharegpt (it goes with format: classification)" in result.output
    )


def test_an_unknown_format_lists_the_formats():
    result = CliRunner().invoke(main, ["train", "quickstart", "--dry-run", "-o", "data.format=csv"])
    assert result.exit_code == 2
    assert (
        "data.format: 'csv' is not a data format; use one of: chat, sharegpt, alpaca, classification" in result.output
    )


def sections_in(annotation):
    """The pydantic models inside an annotation (unions of data sections, Optional sections, ...)."""
    import typing

    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in sections_in(arg)]


def every_field_path(model, prefix=""):
    for name, field in model.model_fields.items():
        yield f"{prefix}{model.__name__}.{name}", field
        for section in sections_in(field.annotation):
            yield from every_field_path(section, f"{prefix}{name}.")


def test_every_recipe_key_has_a_doc_that_explain_prints():
    fields = dict(every_field_path(recipe_model()))
    assert "data.ClassificationSection.classification" in fields and "eval.style.StyleEval.top_words" in fields
    undocumented = [path for path, field in fields.items() if not (field.description or "").strip()]
    assert undocumented == []
    result = CliRunner().invoke(main, ["recipes", "show", "sentiment", "--explain"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "data.classification.labels = [negative, positive]  [list[str]; required]  The label names, in index "
        "order (the last is the positive class of binary metrics)." in lines
    )
    assert any(line.startswith("train.lr = 0.0001  [float; default 0.0002]  Peak learning rate.") for line in lines)
    assert any(line.startswith("eval.classification.low_confidence = 0.6  [float; default 0.6]") for line in lines)
