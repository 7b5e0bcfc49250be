"""The classification format: label records become prompts, bad records are reported, the schema
pairs format and labels, and the robustness perturbations. A trained tiny run (the Predictor, its
evaluation files, `predict` and `classify`): tests/integration/test_classification_run.py."""

from __future__ import annotations

import random

import pytest

from helpers import classification_recipe
from tuneforge.errors import UserError
from tuneforge.recipe import load_recipe


def test_records_become_prompts_answered_by_the_label_name(tmp_path):
    from tuneforge.data.prepare import DataReport, read_conversations

    records = [{"text": "好", "label": 1}, {"text": "差", "label": "negative"}, {"text": "还行", "label": "1"}]
    recipe, _ = load_recipe(classification_recipe(tmp_path, "embedded:smollm2-135m-instruct", records))
    samples = read_conversations(recipe.data, DataReport())
    assert [s.messages[-1]["content"] for s in samples] == ["positive", "negative", "positive"]
    assert samples[0].messages[0] == {"role": "system", "content": "Classify."}
    assert (
        samples[0].messages[1]["content"].endswith("\n\n好")
        and "negative, positive" in samples[0].messages[1]["content"]
    )


def test_bad_records_are_all_reported_with_file_and_line(tmp_path):
    from tuneforge.data.prepare import DataReport, read_conversations

    records = [
        '{"text": "ok", "label": 0}',
        "{broken",
        '{"label": 1}',
        '{"text": "x", "label": 5}',
        '{"text": "y", "label": true}',
        '{"text": "  ", "label": 0}',
    ]
    recipe, _ = load_recipe(classification_recipe(tmp_path, "embedded:smollm2-135m-instruct", records))
    with pytest.raises(UserError) as error:
        read_conversations(recipe.data, DataReport())
    lines = [problem.split(": ")[0].rsplit(":", 1)[1] for problem in error.value.problems]
    assert lines == ["2", "3", "4", "5", "6"]
    assert "expected an index 0-1 or one of ['negative', 'positive']" in error.value.render()


def test_the_schema_pairs_format_and_labels(tmp_path):
    path = classification_recipe(tmp_path, "embedded:smollm2-135m-instruct", [{"text": "a", "label": 0}])
    with pytest.raises(UserError, match="goes with format: classification"):
        load_recipe(path, ["data.format=sharegpt"])
    with pytest.raises(UserError, match="distinct"):
        load_recipe(path, ["data.classification.labels=[good,good]"])


def test_perturbations_change_the_text_deterministically():
    from tuneforge.tasks.classification.evaluate import PERTURBATIONS

    text = "房间非常干净，服务很热情。"
    for name, perturb in PERTURBATIONS.items():
        changed = perturb(text, random.Random(0))
        assert changed != text and changed == perturb(text, random.Random(0)), name
