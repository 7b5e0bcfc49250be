"""format: preference and train.method: dpo without training: the reader's layouts and errors, the
pairs that are dropped and counted, and the recipe checks (DPO training: tests/integration/test_dpo_run.py)."""

from __future__ import annotations

import pytest

from helpers import preference_recipe, write_jsonl
from tuneforge.data.prepare import DataReport, filter_samples
from tuneforge.data.rows import marked_rows, preference_rows
from tuneforge.errors import ProblemCollector, UserError
from tuneforge.recipe.loading import load_recipe
from tuneforge.tasks.preference.data import load_marked, load_pairs

USER, BOT = "user", "assistant"


def read(tmp_path, records, system_prompt=None):
    problems = ProblemCollector("bad")
    samples = load_pairs(write_jsonl(tmp_path / "pairs.jsonl", records), system_prompt, problems)
    return samples, problems.problems


def test_the_three_layouts_become_the_same_rows(tmp_path):
    strings = {"prompt": "Hi", "chosen": "Ahoy!", "rejected": "Hello."}
    lists = {
        "prompt": [{"role": USER, "content": "Hi"}],
        "chosen": [{"role": BOT, "content": "Ahoy!"}],
        "rejected": [{"role": BOT, "content": "Hello."}],
    }
    ultrafeedback = {  # the prompt repeated as the first turn of both sides
        "prompt": "Hi",
        "chosen": [{"role": USER, "content": "Hi"}, {"role": BOT, "content": "Ahoy!"}],
        "rejected": [{"role": USER, "content": "Hi"}, {"role": BOT, "content": "Hello."}],
    }
    anthropic_hh = {key: value for key, value in ultrafeedback.items() if key != "prompt"}
    samples, problems = read(tmp_path, [strings, lists, ultrafeedback, anthropic_hh])
    assert problems == []
    rows = preference_rows(samples)
    assert all(row == rows[0] for row in rows)
    assert rows[0] == {
        "prompt": [{"role": USER, "content": "Hi"}],
        "chosen": [{"role": BOT, "content": "Ahoy!"}],
        "rejected": [{"role": BOT, "content": "Hello."}],
    }


def test_a_multi_turn_conversation_keeps_its_shared_turns_as_the_prompt(tmp_path):
    shared = [{"role": USER, "content": "Hi"}, {"role": BOT, "content": "Ahoy!"}, {"role": USER, "content": "Name?"}]
    record = {
        "chosen": [*shared, {"role": BOT, "content": "Lyra."}],
        "rejected": [*shared, {"role": BOT, "content": "I am an AI."}],
    }
    (row,) = preference_rows(read(tmp_path, [record], system_prompt="Be Lyra.")[0])
    assert row["prompt"] == [{"role": "system", "content": "Be Lyra."}, *shared]
    assert row["chosen"] == [{"role": BOT, "content": "Lyra."}]


def test_malformed_records_are_named_by_file_and_line(tmp_path):
    records = [
        {"prompt": "Hi", "chosen": "Ahoy!"},
        {"prompt": "Hi", "chosen": 3, "rejected": "Hello."},
        {"prompt": "Hi", "chosen": [{"role": "pirate", "content": "Arr"}], "rejected": "Hello."},
        {"prompt": "Hi", "chosen": "Ahoy!", "rejected": "Hello."},
    ]
    samples, problems = read(tmp_path, records)
    assert len(samples) == 1 and len(problems) == 3
    assert problems[0].endswith("pairs.jsonl:1: missing field 'rejected' (format: preference)")
    assert "pairs.jsonl:2: field 'chosen' must be a string or a list of messages, got int" in problems[1]
    assert "pairs.jsonl:3: chosen[0] must be" in problems[2]


def test_identical_and_empty_pairs_are_dropped_and_counted(tmp_path):
    records = [
        {"prompt": "Hi", "chosen": "Ahoy!", "rejected": "Ahoy!"},
        {"prompt": "Hi", "chosen": "Ahoy!", "rejected": "  "},
        {"prompt": "Hi", "chosen": "Ahoy!", "rejected": "Hello."},
        {"prompt": "Hi", "chosen": "Ahoy!", "rejected": "Good day."},  # same chosen, another rejected: kept
    ]
    samples, problems = read(tmp_path, records)
    assert problems == []
    recipe, _ = load_recipe(preference_recipe(tmp_path, tmp_path))
    report = DataReport()
    kept = filter_samples(samples, recipe.data, report)
    assert [sample.meta["rejected"][0]["content"] for sample in kept] == ["Hello.", "Good day."]
    assert dict(report.filtered) == {"identical_pair": 1, "empty_rejected": 1}


def test_method_and_format_must_agree(tmp_path):
    path = preference_recipe(tmp_path, tmp_path)
    with pytest.raises(UserError, match="data.format: preference needs train.method dpo or orpo, not sft"):
        load_recipe(path, ["train.method=sft"])
    with pytest.raises(UserError, match="train.dpo: settings of train.method dpo, but this recipe's method is sft"):
        load_recipe("quickstart", ["train.dpo.beta=0.2"])
    with pytest.raises(UserError, match="train.method: dpo trains on data.format preference, not sharegpt"):
        load_recipe("quickstart", ["train.method=dpo"])
    with pytest.raises(UserError, match="train.method: kto trains on data.format kto, not preference"):
        load_recipe(path, ["train.method=kto"])
    recipe, _ = load_recipe(path, ["train.dpo.beta=0.3", "train.dpo.loss_type=ipo"])
    assert (recipe.train.dpo.beta, recipe.train.dpo.loss_type) == (0.3, "ipo")


def test_model_adapter_must_be_a_complete_run(tmp_path):
    (tmp_path / "not-a-run").mkdir()
    with pytest.raises(UserError, match="is not a complete training run"):
        load_recipe(preference_recipe(tmp_path, tmp_path), [f"model.adapter={tmp_path / 'not-a-run'}"])


def test_marked_replies_need_a_true_or_false_label(tmp_path):
    records = [
        {"prompt": "Hi", "completion": "Ahoy!", "label": True},
        {"prompt": "Hi", "completion": "Hello.", "label": "bad"},
        {"prompt": "Hi", "label": False},
    ]
    problems = ProblemCollector("bad")
    samples = load_marked(write_jsonl(tmp_path / "marked.jsonl", records), None, problems)
    assert marked_rows(samples) == [
        {"prompt": [{"role": USER, "content": "Hi"}], "completion": [{"role": BOT, "content": "Ahoy!"}], "label": True}
    ]
    assert (
        "marked.jsonl:2: field 'label' must be true (a good reply) or false (a bad one), got 'bad'"
        in problems.problems[0]
    )
    assert problems.problems[1].endswith("marked.jsonl:3: missing field 'completion' (format: kto)")


def test_a_pair_dropped_as_overlength_never_reaches_the_trainer(tmp_path, tokenizer):
    """DPO, ORPO, KTO and GRPO read the split samples themselves: the ones the tokenizing step dropped
    (and the data report counts as dropped) are left out of their rows too."""
    from tuneforge.data.prepare import prepare_datasets
    from tuneforge.data.splits import read_split_file
    from tuneforge.train.methods.rows import kept_samples

    records = [{"prompt": f"Q{i}?", "chosen": f"A{i}.", "rejected": f"No {i}."} for i in range(5)]
    records.append({"prompt": "Long?", "chosen": "word " * 200, "rejected": "Short."})
    path = preference_recipe(tmp_path, tmp_path)
    write_jsonl(tmp_path / "preference.jsonl", records)
    recipe, _ = load_recipe(path, ["data.split.val=0", "eval.preference=null", "eval.held_out_loss=false"])
    datasets, report = prepare_datasets(recipe.data, tokenizer, 64)
    samples = read_split_file(report.split_files / "train.jsonl")
    assert len(samples) == 6 and report.filtered["longer_than_max_seq_length (train)"] == 1
    assert sorted(sample.source.rsplit(":", 1)[1] for sample in kept_samples(samples, datasets["train"])) == list(
        "12345"
    )


def test_the_shipped_roleplay_pairs_are_what_make_data_writes():
    """recipes/roleplay-dpo: 300 pairs, the persona on the chosen side only, no evaluation prompt among them."""
    import importlib.util
    import json
    import random

    from tuneforge.recipe.loading import recipes_dir

    folder = recipes_dir() / "roleplay-dpo"
    spec = importlib.util.spec_from_file_location("roleplay_dpo_make_data", folder / "make_data.py")
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    rows = make_data.build(random.Random(5))
    make_data.check(rows)  # its own assertions: persona markers, probe prompts unseen, balance
    committed = (folder / "data" / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in committed] == rows and len(rows) == 300
