"""Recipe problems across sections are reported together at load time, each with its key path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal, Union

import pytest
from click.testing import CliRunner
from pydantic import Field

from helpers import write_jsonl, write_recipe
from tuneforge.cli import main
from tuneforge.errors import UserError
from tuneforge.recipe import assemble
from tuneforge.recipe.assemble import recipe_model
from tuneforge.recipe.loading import load_recipe
from tuneforge.recipe.schema import PositiveInt, Section
from tuneforge.registry import Method, register_method, unregister_method

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


# ---------------------------------------------------------------- a method registered here


class Walk(Section):
    """A step that walks."""

    kind: Literal["walk"]
    """Walk."""
    metres: PositiveInt = 1
    """How far."""


class Jump(Section):
    """A step that jumps."""

    kind: Literal["jump", "hop"]
    """Jump or hop."""
    height: PositiveInt = 1
    """How high."""


class ToySettings(Section):
    """Settings of the toy method."""

    level: PositiveInt
    """A required key."""
    steps: list[Annotated[Union[Walk, Jump], Field(discriminator="kind")]] = Field(default_factory=list)  # noqa: UP007
    """Kinds of entries, told apart by `kind`."""


class Toy(Method):
    """Trains on alpaca records only; its settings are required."""

    name: ClassVar[str] = "toy"
    settings: ClassVar[type[Section]] = ToySettings
    settings_required: ClassVar[bool] = True
    formats: ClassVar[tuple[str, ...]] = ("alpaca",)

    def check(self, recipe) -> list[str]:
        level = recipe.train.toy.level
        return [f"train.toy.level: {level} is above train.batch_size"] if level > recipe.train.batch_size else []


@pytest.fixture
def toy_method():
    register_method(Toy())
    try:
        yield
    finally:
        unregister_method("toy")


def recipe_of(tmp_path: Path, fmt: str = "alpaca", **train) -> Path:
    if fmt == "alpaca":
        data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(4)])
    else:
        data = write_jsonl(
            tmp_path / "d.jsonl", [{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}]
        )
    return write_recipe(tmp_path / "r.yaml", {"name": "r", "data": {"format": fmt, "train": data.name}, "train": train})


def problems_of(path: Path, overrides: list[str] | None = None) -> str:
    with pytest.raises(UserError) as caught:
        load_recipe(path, overrides)
    return caught.value.render()


def test_a_registered_method_and_its_section_become_valid_recipe_keys(toy_method, tmp_path):
    recipe, _ = load_recipe(recipe_of(tmp_path, method="toy", toy={"level": 1}))
    assert (recipe.train.method, recipe.train.toy.level) == ("toy", 1)
    assert (
        "Settings of the toy method." in recipe_model().model_fields["train"].annotation.model_fields["toy"].description
    )


def test_the_method_must_be_registered_and_the_message_lists_the_methods(toy_method, tmp_path):
    text = problems_of(recipe_of(tmp_path, method="tyo"))
    assert "train.method: Input should be 'sft', 'dpo', 'orpo', 'kto', 'grpo' or 'toy' (got 'tyo')" in text


def test_a_method_s_own_format_needs_that_method(toy_method, tmp_path):
    assert "data.format: alpaca needs train.method toy, not sft" in problems_of(recipe_of(tmp_path))


def test_a_method_that_lists_formats_trains_on_those_only(toy_method, tmp_path):
    text = problems_of(recipe_of(tmp_path, "sharegpt", method="toy", toy={"level": 1}))
    assert "train.method: toy trains on data.format alpaca, not sharegpt" in text


def test_settings_go_with_their_method_only(toy_method, tmp_path):
    text = problems_of(recipe_of(tmp_path, "sharegpt", toy={"level": 1}))
    assert "train.toy: settings of train.method toy, but this recipe's method is sft" in text


def test_required_settings_are_named_and_the_method_s_check_runs_once_they_are_there(toy_method, tmp_path):
    text = problems_of(recipe_of(tmp_path, method="toy"))
    assert "train.toy.level: required key is missing (train.method toy needs train.toy)" in text
    assert "is above" not in text  # the method's own check relies on its settings: not run without them
    text = problems_of(recipe_of(tmp_path, method="toy", toy={"level": 3}))
    assert "train.toy.level: 3 is above train.batch_size" in text


def test_a_discriminated_list_in_a_method_s_settings_is_reported_by_key_path(toy_method, tmp_path):
    steps = [{"kind": "walk", "metres": 0}, {"kind": "hop", "height": 0}, {"kind": "swim"}, {"metres": 2}]
    text = problems_of(recipe_of(tmp_path, method="toy", toy={"level": 1, "steps": steps}))
    assert "train.toy.steps.0.metres: Input should be greater than 0" in text
    assert "train.toy.steps.1.height: Input should be greater than 0" in text
    assert "train.toy.steps.2.kind: 'swim' is not one of the built-ins: walk, jump, hop" in text
    assert "train.toy.steps.3.kind: required key is missing (one of: walk, jump, hop)" in text


def test_an_unregistered_method_leaves_the_schema(tmp_path):
    register_method(Toy())
    unregister_method("toy")
    assert "train.toy: unknown key" in problems_of(recipe_of(tmp_path, toy={"level": 1}))


def test_the_schema_needs_registered_tasks(monkeypatch):
    monkeypatch.setattr(assemble, "registered_tasks", lambda: [])
    with pytest.raises(RuntimeError, match=r"no task is registered.*register_builtins\(\)"):
        recipe_model()
