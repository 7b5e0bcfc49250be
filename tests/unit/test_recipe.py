"""The recipe schema: shipped recipes validate, overrides apply, mistakes are all reported."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers import write_jsonl, write_recipe
from tuneforge.errors import UserError
from tuneforge.recipe.loading import load_recipe, recipe_profiles, recipe_to_yaml, recipes_dir, shipped_recipes


def minimal(tmp_path: Path, **sections) -> Path:
    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "a", "output": "b"}])
    body = {"name": "t", "data": {"format": "alpaca", "train": data.name}, **sections}
    return write_recipe(tmp_path / "t.yaml", body)


def all_recipe_files() -> list[Path]:
    return sorted(recipes_dir().rglob("*.yaml"))


def test_recipes_are_found_recursively():
    assert all_recipe_files(), "no shipped recipes found"
    assert set(shipped_recipes()) == {p.stem for p in all_recipe_files()}
    assert "quickstart" in shipped_recipes()


@pytest.mark.parametrize("path", all_recipe_files(), ids=lambda p: p.stem)
def test_every_shipped_recipe_validates(path: Path):
    recipe, source = load_recipe(path)
    assert source == path.resolve()
    assert all(p.is_file() or (recipe.data.FOLDERS and p.is_dir()) for p in recipe.data.train)


@pytest.mark.parametrize("path", all_recipe_files(), ids=lambda p: p.stem)
def test_every_shipped_recipe_opens_with_a_header(path: Path):
    header = path.read_text().split("\nname:")[0]
    assert header.startswith("#")
    for needed in ("tuneforge train", "Hardware", "Time"):
        assert needed in header, f"{path.name} header lacks {needed!r}"


def test_defaults_come_from_the_schema(tmp_path):
    recipe, _ = load_recipe(minimal(tmp_path))
    assert recipe.lora.r == 16 and recipe.model.base == "embedded:smollm2-135m-instruct"
    assert recipe.data.train == [(tmp_path / "d.jsonl").resolve()]  # relative to the recipe file


def test_overrides_apply_and_convert_types(tmp_path):
    recipe, _ = load_recipe(
        minimal(tmp_path),
        [
            "train.lr=1e-5",
            "lora.r=8",
            "model.base=foo/bar",
            "lora.target_modules=[q_proj,v_proj]",
            "eval.held_out_loss=false",
        ],
    )
    assert recipe.train.lr == pytest.approx(1e-5)  # PyYAML reads 1e-5 as a string; pydantic converts it
    assert recipe.lora.r == 8 and recipe.model.base == "foo/bar"
    assert recipe.lora.target_modules == ["q_proj", "v_proj"] and recipe.eval.held_out_loss is False


def test_every_problem_is_reported_together(tmp_path):
    path = minimal(tmp_path, lora={"r": 0}, train={"lrr": 1, "batch_size": "big"})
    with pytest.raises(UserError) as caught:
        load_recipe(path, ["data.train=missing.jsonl"])
    text = caught.value.render()
    assert "lora.r" in text and "train.lrr: unknown key" in text and "train.batch_size" in text
    assert "data.train: file not found" in text
    assert len(caught.value.problems) == 4


def test_unknown_override_key_names_its_path(tmp_path):
    with pytest.raises(UserError, match=r"model\.bsae: unknown key"):
        load_recipe(minimal(tmp_path), ["model.bsae=x"])


@pytest.mark.parametrize("override", ["train.lr", "=3", "train..lr=1", "lora.r.x=1"])
def test_malformed_overrides(tmp_path, override):
    with pytest.raises(UserError):
        load_recipe(minimal(tmp_path), [override])


def test_impossible_split_is_refused(tmp_path):
    with pytest.raises(UserError, match="leave at least 10%"):
        load_recipe(
            minimal(tmp_path, data={"format": "alpaca", "train": "d.jsonl", "split": {"val": 0.5, "test": 0.45}})
        )


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ndata:\n  format: [unclosed\n")
    with pytest.raises(UserError, match=r"bad\.yaml:\d+: invalid YAML"):
        load_recipe(path)


def test_duplicate_keys_are_refused(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: x\nname: y\n")
    with pytest.raises(UserError, match="duplicate key 'name'"):
        load_recipe(path)


def test_unknown_recipe_name_lists_the_shipped_ones():
    with pytest.raises(UserError, match="quickstart"):
        load_recipe("no-such-recipe")


def test_recipe_by_name():
    recipe, source = load_recipe("quickstart")
    assert recipe.name == "quickstart" and source.name == "quickstart.yaml"


# ---------------------------------------------------------------- profiles


def with_profiles(tmp_path: Path, profiles) -> Path:
    path = minimal(tmp_path)
    path.write_text(path.read_text() + yaml.safe_dump({"profiles": profiles}))
    return path


def test_a_profile_applies_its_keys_and_an_override_wins_over_it(tmp_path):
    path = with_profiles(tmp_path, {"cpu": {"train.max_steps": 40, "lora.r": 4}, "gpu": {"train.batch_size": 8}})
    plain, _ = load_recipe(path)
    assert (plain.train.max_steps, plain.lora.r, plain.train.batch_size) == (None, 16, 2)
    cpu, _ = load_recipe(path, profile="cpu")
    assert (cpu.train.max_steps, cpu.lora.r, cpu.train.batch_size) == (40, 4, 2)
    overridden, _ = load_recipe(path, ["train.max_steps=5"], profile="cpu")
    assert (overridden.train.max_steps, overridden.lora.r) == (5, 4)
    assert "profiles" not in recipe_to_yaml(cpu)  # a resolved recipe holds what the profile set, not the profiles


def test_a_profile_equals_the_same_keys_given_as_overrides(tmp_path):
    path = with_profiles(tmp_path, {"cpu": {"model.base": "embedded:smollm2-135m-instruct", "train.lr": "1e-5"}})
    by_profile, _ = load_recipe(path, profile="cpu")
    by_overrides, _ = load_recipe(path, ["model.base=embedded:smollm2-135m-instruct", "train.lr=1e-5"])
    assert recipe_to_yaml(by_profile) == recipe_to_yaml(by_overrides)


def test_an_unknown_profile_names_the_recipe_s_profiles(tmp_path):
    with pytest.raises(UserError, match="no profile 'gpu'; its profiles: cpu, tiny"):
        load_recipe(with_profiles(tmp_path, {"cpu": {"train.max_steps": 4}, "tiny": {"lora.r": 2}}), profile="gpu")
    with pytest.raises(UserError, match="no profile 'cpu'; it has no profiles"):
        load_recipe(minimal(tmp_path), profile="cpu")


@pytest.mark.parametrize(
    ("profiles", "message"),
    [
        (["cpu"], "profiles: must be a mapping of profile names"),
        ({"cpu": 3}, "profiles.cpu: must be a mapping of dotted keys to values"),
        ({"cpu": {"train max_steps": 4}}, "profiles.cpu: 'train max_steps' is not a dotted key"),
    ],
)
def test_malformed_profiles_are_refused_naming_the_key(tmp_path, profiles, message):
    with pytest.raises(UserError, match=message):
        load_recipe(with_profiles(tmp_path, profiles))


def test_a_profile_key_inside_a_value_names_the_profile(tmp_path):
    with pytest.raises(UserError, match=r"profiles\.cpu\.name\.x: name is not a section"):
        load_recipe(with_profiles(tmp_path, {"cpu": {"name.x": 1}}), profile="cpu")


def test_a_profile_key_the_schema_does_not_know_is_reported_like_an_override(tmp_path):
    with pytest.raises(UserError, match=r"train\.max_stpes: unknown key"):
        load_recipe(with_profiles(tmp_path, {"cpu": {"train.max_stpes": 4}}), profile="cpu")


def test_recipe_profiles_lists_each_with_its_comment(tmp_path):
    path = minimal(tmp_path)
    path.write_text(
        path.read_text()
        + "profiles:\n  cpu:   # the embedded model, a short schedule\n    train.max_steps: 40\n"
        + "  quick: {train.max_steps: 2}  # two steps\n  bare:\n    lora.r: 4\n"
    )
    profiles = recipe_profiles(path)
    assert list(profiles) == ["cpu", "quick", "bare"]
    assert profiles["cpu"].description == "the embedded model, a short schedule"
    assert profiles["cpu"].settings == {"train.max_steps": 40}
    assert (profiles["quick"].description, profiles["bare"].description) == ("two steps", "")
    assert recipe_profiles(minimal(tmp_path)) == {}
