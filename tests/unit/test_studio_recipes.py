"""The studio's Recipes screens: the list, the editor's form generated from the schema, its YAML kept in step,
validation with the CLI's own messages, and saving a new recipe in the user's folder."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from markupsafe import escape
from studio_client import studio_client

from tuneforge.recipe.assemble import data_formats, recipe_model
from tuneforge.recipe.loading import load_recipe, recipes_dir, shipped_recipes
from tuneforge.registry import registered_methods
from tuneforge.studio.recipes_view import MAX_BODY

TRANSLATION = recipes_dir() / "translation.yaml"


def field_html(page: str, key: str) -> str:
    """The form's block for one key (its label, input, type, default and help)."""
    found = re.search(rf'<div class="form-field[^"]*" data-key="{re.escape(key)}">(.*?)</div>', page, re.S)
    assert found, f"no field {key} in the form"
    return found.group(1)


def field_doc(section: str, name: str) -> str:
    return " ".join(recipe_model().model_fields[section].annotation.model_fields[name].description.split())


def saved(client, name: str, text: str, source_name: str | None = "translation"):
    return client.post("/api/recipes/save", json={"name": name, "yaml": text, "source_name": source_name})


def cli_dry_run_problems(recipe: Path) -> list[str]:
    """The problem lines `tuneforge train RECIPE --dry-run` prints."""
    done = subprocess.run(
        [sys.executable, "-m", "tuneforge", "train", str(recipe), "--dry-run"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    return [line.removeprefix("  - ") for line in done.stderr.splitlines() if line.startswith("  - ")]


def test_the_list_shows_every_shipped_recipe_with_its_links(tmp_path):
    page = studio_client(tmp_path).get("/recipes").text
    for name in shipped_recipes():
        assert f'data-recipe="{name}"' in page
        for link in (f"/recipes/{name}", f"/recipes/{name}/data", f"/recipes/{name}/train"):
            assert f'href="{link}"' in page
    row = re.search(r'<tr data-recipe="roleplay-dpo">(.*?)</tr>', page, re.S).group(1)
    assert "<code>dpo</code>" in row and "<code>Qwen/Qwen3-0.6B</code>" in row and "shipped" in row
    assert "preference" in row and "persona" in row  # the task reading its format, and the ones it evaluates
    assert 'href="/recipes/roleplay-dpo?profile=cpu"' in row


def test_the_translation_form_holds_its_format_s_fields_with_their_docstrings(tmp_path):
    page = studio_client(tmp_path).get("/recipes/translation").text
    lr = field_html(page, "train.lr")
    assert str(escape(field_doc("train", "lr"))) in lr and 'value="0.0002"' in lr and "default 0.0002" in lr
    assert 'type="checkbox"' in field_html(page, "data.packing")
    assert "<textarea" in field_html(page, "lora.target_modules")  # a list: edited as YAML
    assert 'value="42"' in field_html(page, "train.seed")  # written in the recipe
    assert 'value=""' in field_html(page, "train.max_grad_norm")  # left out: empty, showing its default
    assert 'placeholder="1.0"' in field_html(page, "train.max_grad_norm")
    data_format = field_html(page, "data.format")
    assert '<option value="parallel" selected>' in data_format
    assert all(f'<option value="{fmt}"' in data_format for fmt in data_formats())
    assert 'data-key="data.parallel.languages"' in page and 'data-key="data.parallel.directions"' in page
    assert "data.markdown" not in page and "data.classification" not in page  # other formats' sections
    method = field_html(page, "train.method")
    assert all(f'<option value="{m.name}"' in method for m in registered_methods())
    assert "default: sft" in method and "data-switch" in method
    assert 'data-section="train.dpo"' not in page and 'data-section="train.grpo"' not in page


def test_roleplay_dpo_shows_its_method_s_section(tmp_path):
    page = studio_client(tmp_path).get("/recipes/roleplay-dpo").text
    assert 'data-section="train.dpo"' in page and 'data-section="train.grpo"' not in page
    assert 'value="0.1"' in field_html(page, "train.dpo.beta")
    assert '<option value="dpo" selected>' in field_html(page, "train.method")
    assert 'data-key="data.parallel.languages"' not in page


def test_a_profile_is_written_into_the_editor(tmp_path):
    client = studio_client(tmp_path)
    page = client.get("/recipes/translation?profile=cpu").text
    assert 'value="embedded:smollm2-135m-instruct"' in field_html(page, "model.base")
    assert '<option value="cpu" selected>' in page
    text = html.unescape(re.search(r'<textarea id="recipe-yaml"[^>]*>\n(.*?)</textarea>', page, re.S).group(1))
    assert text.startswith("# translation:")  # the header comment stays
    answer = client.post("/api/recipes/validate", json={"yaml": text, "source_name": "translation"})
    resolved = yaml.safe_load(answer.json()["resolved"])
    assert resolved == load_recipe("translation", profile="cpu")[0].model_dump(mode="json")
    assert client.get("/recipes/translation?profile=gpu").status_code == 400  # no such profile: the CLI's message


def test_validation_gives_the_cli_s_messages_with_their_keys(tmp_path):
    client = studio_client(tmp_path)
    assert saved(client, "mine", TRANSLATION.read_text()).status_code == 200
    own = tmp_path / "my-recipes" / "mine.yaml"
    schema_broken = (
        own.read_text()
        .replace("lr: 0.0002", "lr: 5\n  bogus: 1")
        .replace("format: parallel", "format: parallel\n  chunk_min_tokens: 4\n  val: missing.jsonl")
    )
    checks_broken = (
        own.read_text()
        .replace("epochs: 3", "epochs: 3\n  method: dpo")
        .replace("val: 0.05", "val: 0.5")
        .replace("test: 0.1", "test: 0.5")
    )
    for name, text in (("schema-broken", schema_broken), ("checks-broken", checks_broken)):
        broken = tmp_path / "my-recipes" / f"{name}.yaml"  # beside `mine`: relative paths resolve the same
        broken.write_text(text)
        answer = client.post("/api/recipes/validate", json={"yaml": text, "source_name": "mine"}).json()
        assert answer["ok"] is False
        assert [problem["message"] for problem in answer["problems"]] == cli_dry_run_problems(broken)
    keys = [problem["key"] for problem in answer["problems"]]
    assert keys == ["data.split", "train.method"]
    assert client.post("/api/recipes/validate", json={"yaml": own.read_text(), "source_name": "mine"}).json()["ok"]


def test_a_yaml_syntax_error_is_one_problem_without_a_key(tmp_path):
    answer = studio_client(tmp_path).post(
        "/api/recipes/validate", json={"yaml": "name: x\ntrain: [1,\n", "source_name": "translation"}
    )
    problems = answer.json()["problems"]
    assert len(problems) == 1 and problems[0]["key"] is None and "invalid YAML" in problems[0]["message"]


def test_editing_a_field_rewrites_the_yaml_and_switches_the_form(tmp_path):
    client = studio_client(tmp_path)
    text = TRANSLATION.read_text()

    def edit(text: str, key: str, kind: str, value: str | None = None, checked: bool | None = None) -> str:
        body = {"yaml": text, "source_name": "translation", "key": key, "kind": kind, "value": value}
        response = client.post("/api/recipes/edit", json=body | {"checked": checked})
        assert response.status_code == 200, response.text
        return response.json()["yaml"]

    text = edit(text, "train.lr", "number", "1e-4")
    text = edit(text, "data.packing", "checkbox", checked=True)
    text = edit(text, "train.early_stopping.patience", "number", "2")
    raw = yaml.safe_load(text)
    assert raw["train"]["lr"] == 1e-4 and raw["data"]["packing"] is True
    assert raw["train"]["early_stopping"] == {"patience": 2}
    assert text.startswith("# translation:") and raw["profiles"]["cpu"]["train.max_steps"] == 60
    text = edit(text, "train.early_stopping.patience", "number", "")  # emptied: the key and its section go
    assert "early_stopping" not in yaml.safe_load(text)["train"]

    text = edit(text, "train.method", "select", "dpo")
    form = client.post("/api/recipes/form", json={"yaml": text, "source_name": "translation"}).json()["html"]
    assert 'data-section="train.dpo"' in form
    text = edit(text, "data.format", "select", "markdown")
    assert "parallel" not in yaml.safe_load(text)["data"]  # the old format's own section went with it
    form = client.post("/api/recipes/form", json={"yaml": text, "source_name": "translation"}).json()["html"]
    assert 'data-section="data.markdown"' in form and "data.parallel" not in form
    bad = client.post(
        "/api/recipes/edit",
        json={"yaml": text, "source_name": "translation", "key": "lora.target_modules", "kind": "yaml", "value": "[a,"},
    )
    assert bad.status_code == 400 and "not valid YAML" in bad.json()["error"]


def test_saving_writes_a_recipe_that_loads_with_the_same_data(tmp_path):
    client = studio_client(tmp_path)
    response = saved(client, "my-translation", TRANSLATION.read_text())
    assert response.status_code == 200, response.text
    path = tmp_path / "my-recipes" / "my-translation.yaml"
    assert response.json()["path"] == str(path)
    copy, source = load_recipe(path)
    original = load_recipe("translation")[0]
    assert source == path and copy.name == "my-translation"
    assert copy.data.train == original.data.train  # its relative data path still names the shipped files
    assert copy.model_dump(exclude={"name"}) == original.model_dump(exclude={"name"})
    assert path.read_text().startswith("# A copy of translation")
    assert "profiles" in yaml.safe_load(path.read_text())
    listed = client.get("/recipes").text
    row = re.search(r'<tr data-recipe="my-translation">(.*?)</tr>', listed, re.S).group(1)
    assert "yours" in row
    assert client.get("/recipes/my-translation").status_code == 200


def test_a_copy_in_the_same_folder_keeps_its_text(tmp_path):
    client = studio_client(tmp_path)
    assert saved(client, "first", TRANSLATION.read_text()).status_code == 200
    first = (tmp_path / "my-recipes" / "first.yaml").read_text()
    commented = first.replace("name: first", "name: second  # kept as written")
    assert saved(client, "second", commented, "first").status_code == 200
    assert (tmp_path / "my-recipes" / "second.yaml").read_text() == commented


def test_saving_refuses_bad_names_overwrites_and_invalid_recipes(tmp_path):
    client = studio_client(tmp_path)
    text = TRANSLATION.read_text()
    assert saved(client, "taken", text).status_code == 200
    before = (tmp_path / "my-recipes" / "taken.yaml").read_text()
    refused = saved(client, "taken", text.replace("epochs: 3", "epochs: 2"))
    assert refused.status_code == 400 and "already exists" in refused.json()["error"]
    assert (tmp_path / "my-recipes" / "taken.yaml").read_text() == before
    assert "shipped" in saved(client, "translation", text).json()["error"]
    for name in ("../escape", "a/b", "/tmp/abs", ".hidden", "..", "", "Upper", "x.yaml"):
        response = saved(client, name, text)
        assert response.status_code == 400 and "not a recipe name" in response.json()["error"], name
    assert sorted(path.name for path in (tmp_path / "my-recipes").iterdir()) == ["taken.yaml"]
    assert not (tmp_path / "escape.yaml").exists()

    invalid = saved(client, "broken", text.replace("lr: 2.0e-4", "lr: 5"))
    assert invalid.status_code == 400
    assert invalid.json()["problems"] == ["train.lr: Input should be less than 1 (got 5)"]
    assert saved(client, "listed", "- not\n- a mapping\n").status_code == 400
    assert not (tmp_path / "my-recipes" / "broken.yaml").exists()


def test_a_body_over_the_limit_is_refused_with_413(tmp_path):
    client = studio_client(tmp_path)
    padding = "#" * MAX_BODY
    for path in ("/api/recipes/save", "/api/recipes/validate"):
        response = client.post(path, json={"name": "big", "yaml": padding, "source_name": "translation"})
        assert response.status_code == 413 and "larger than 1 MiB" in response.json()["error"]
    assert not (tmp_path / "my-recipes" / "big.yaml").exists()


def test_a_change_from_another_origin_is_refused(tmp_path):
    client = studio_client(tmp_path)
    body = {"name": "x", "yaml": TRANSLATION.read_text(), "source_name": "translation"}
    assert client.post("/api/recipes/save", json=body, headers={"origin": "http://evil.example"}).status_code == 403
    del client.headers["origin"]
    assert client.post("/api/recipes/validate", json=body).status_code == 403
    assert not (tmp_path / "my-recipes" / "x.yaml").exists()
