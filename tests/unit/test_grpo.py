"""train.method: grpo without training: the rewards' values, a user's reward file, the prompt rows
from `format: prompts` and from other tasks' samples, and the recipe's errors (GRPO training:
tests/integration/test_grpo_run.py)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from helpers import full_precision_recipe, write_jsonl
from tuneforge.data.formats import Sample
from tuneforge.data.rows import REFERENCE, prompt_rows
from tuneforge.errors import ProblemCollector, UserError
from tuneforge.recipe.loading import load_recipe
from tuneforge.registry import get_method
from tuneforge.tasks.prompts.data import load_prompts
from tuneforge.train.rewards.functions import build_rewards

REPLY = [{"role": "assistant", "content": "x"}]


def grpo_recipe(tmp_path: Path, rewards: list, **train) -> Path:
    data = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": f"Say hi {n}", "reference": "hi"} for n in range(10)])
    schedule = {"method": "grpo", "batch_size": 4, "grpo": {"rewards": rewards}, **train}
    data_section = {"format": "prompts", "train": data.name, "split": {"val": 0.2}}
    return full_precision_recipe(tmp_path, "prompts", tmp_path, data_section, schedule)


def rewards_of(tmp_path: Path, rewards: list):
    recipe, _ = load_recipe(grpo_recipe(tmp_path, rewards))
    return build_rewards(recipe.train.grpo.rewards, ExitStack(), tmp_path)


def scores(function, replies: list[str], **columns) -> list[float]:
    """Called as TRL calls it: conversational completions, the row columns, and TRL's own extras."""
    completions = [[{"role": "assistant", "content": reply}] for reply in replies]
    prompts = [[{"role": "user", "content": "q"}]] * len(replies)
    return function(prompts=prompts, completions=completions, trainer_state=None, completion_ids=[], **columns)


def test_the_built_in_rewards_score_replies(tmp_path):
    rewards = [
        {"name": "chrf"},
        {"name": "bleu"},
        {"name": "label_match"},
        {"name": "format", "pattern": "(?i)^ahoy"},
        {"name": "format", "phrases": ["master", "Lyra"]},
        {"name": "length", "min_chars": 4, "max_chars": 8, "weight": 0.5},
    ]
    functions, weights = rewards_of(tmp_path, rewards)
    assert [f.__name__ for f in functions] == ["chrf", "bleu", "label_match", "format", "format_2", "length"]
    assert weights == [1.0, 1.0, 1.0, 1.0, 1.0, 0.5]
    chrf, bleu, label, start, phrases, length = functions
    references = ["the cat sat on the mat", "the cat sat on the mat"]
    exact, other = scores(chrf, ["the cat sat on the mat", "a dog ran"], reference=references)
    assert exact == pytest.approx(1.0) and 0 <= other < 0.3
    assert scores(bleu, ["the cat sat on the mat", "a dog ran"], reference=references)[0] == pytest.approx(1.0)
    assert scores(label, [" Positive.", "negative", "positive!"], label=["positive"] * 3) == [1.0, 0.0, 1.0]
    assert scores(start, ["Ahoy there", "Well, ahoy"]) == [1.0, 0.0]
    assert scores(phrases, ["Yes, master.", "Yes."]) == [1.0, 0.0]
    assert scores(length, ["ab", "abcdef", "abcdefghijklmnop"]) == [0.5, 1.0, 0.5]


def test_a_reward_of_chinese_references_scores_by_characters(tmp_path):
    (bleu,), _ = rewards_of(tmp_path, [{"name": "bleu"}])
    half = scores(bleu, ["我喜歡蘋果", "我喜歡香蕉"], reference=["我喜歡蘋果", "我喜歡蘋果"])
    assert half[0] == pytest.approx(1.0) and 0 < half[1] < 1  # whitespace words would score 0 here


def test_a_custom_reward_is_the_users_function_called_with_texts_and_fields(tmp_path):
    (tmp_path / "my_rewards.py").write_text(
        "def shouting(completions, prompts, reference, **fields):\n"
        "    return [float(c.isupper()) + (0.5 if r == 'HI' else 0.0) for c, r in zip(completions, reference)]\n"
    )
    (function,), _ = rewards_of(tmp_path, [{"name": "custom", "function": "my_rewards.py:shouting", "label": "loud"}])
    assert function.__name__ == "loud"
    assert scores(function, ["HELLO", "hello"], reference=["HI", "no"]) == [1.5, 0.0]


def test_a_custom_reward_that_fails_to_import_names_its_key(tmp_path):
    (tmp_path / "broken.py").write_text(
        "import no_such_module_here\n\ndef score(completions, **kwargs):\n    return []\n"
    )
    with pytest.raises(UserError, match=r"train.grpo.rewards.0.function: importing .*broken.py failed: ModuleNotFound"):
        rewards_of(tmp_path, [{"name": "custom", "function": "broken.py:score"}])


def test_reward_mistakes_are_named_with_the_fix(tmp_path):
    (tmp_path / "mine.py").write_text("def other(completions, **kwargs):\n    return [0.0] * len(completions)\n")
    bad = [
        {"name": "rouge"},
        {"weight": 2},
        {"name": "format"},
        {"name": "custom", "function": "missing.py:score"},
        {"name": "custom", "function": "mine.py:score"},
        {"name": "length", "min_chars": 9, "max_chars": 3},
        {"name": "format", "pattern": "(unclosed"},
    ]
    with pytest.raises(UserError) as caught:
        load_recipe(grpo_recipe(tmp_path, bad))
    problems = caught.value.render()
    built_ins = "chrf, bleu, label_match, format, length, judge, custom"
    assert f"train.grpo.rewards.0.name: 'rouge' is not one of the built-ins: {built_ins}" in problems
    assert f"train.grpo.rewards.1.name: required key is missing (one of: {built_ins})" in problems
    assert "train.grpo.rewards.2: set exactly one of pattern (a regular expression) and phrases" in problems
    assert "train.grpo.rewards.3.function: file not found:" in problems
    assert (
        "train.grpo.rewards.4.function:" in problems and "defines no function 'score' (it defines: other)" in problems
    )
    assert "train.grpo.rewards.5: min_chars (9) is above max_chars (3)" in problems
    assert "train.grpo.rewards.6.pattern: not a valid regular expression" in problems


def test_grpo_needs_rewards_whole_groups_and_prompt_data(tmp_path):
    path = grpo_recipe(tmp_path, [{"name": "chrf"}])
    with pytest.raises(UserError, match=r"train.grpo.rewards: required key is missing \(train.method grpo needs"):
        load_recipe(path, ["train.grpo=null"])
    with pytest.raises(UserError, match=r"train.batch_size: in GRPO it counts sampled replies.*\(4\), got 6"):
        load_recipe(path, ["train.batch_size=6"])
    with pytest.raises(UserError, match="train.grpo.rewards: required key is missing"):
        load_recipe(path, ["train.grpo={num_generations: 4}"])
    with pytest.raises(UserError, match="data.format: prompts needs train.method grpo, not sft"):
        load_recipe(path, ["train.method=sft", "train.grpo=null"])
    with pytest.raises(UserError, match="train.grpo: settings of train.method grpo, but this recipe's method is sft"):
        load_recipe("quickstart", ["train.grpo={rewards: [{name: chrf}]}"])
    recipe, _ = load_recipe("translation-grpo")  # a task's own format trains with GRPO as it is
    assert (recipe.data.format, recipe.train.method) == ("parallel", "grpo")


def test_the_grpo_method_checks_its_rewards_fields_on_the_samples_before_training(tmp_path):
    """GRPO's preflight: a reward that reads a row field the prompts lack stops training before any run folder."""
    from tuneforge.data.prepare import DataReport, read_conversations

    recipe, _ = load_recipe(grpo_recipe(tmp_path, [{"name": "chrf"}, {"name": "label_match"}]))
    grpo = get_method("grpo")
    samples = read_conversations(recipe.data, DataReport())
    with pytest.raises(UserError) as caught:
        grpo.preflight(recipe, samples)
    assert "train.grpo.rewards.1 (label_match): 10 of 10 prompts have no field 'label'" in caught.value.render()
    grpo.preflight(load_recipe(grpo_recipe(tmp_path, [{"name": "chrf"}]))[0], samples)  # every prompt has a reference
    assert grpo.held_out == ("held_out_reward", "eval_reward") and grpo.held_out_title.startswith("Held-out reward")


def test_prompt_records_keep_their_fields_and_task_samples_give_their_reply_as_reference(tmp_path):
    records = [
        {"prompt": "Translate: chat", "reference": "cat", "lang": "fr"},
        {"prompt": [{"role": "user", "content": "Hi"}], "label": "greeting"},
    ]
    problems = ProblemCollector("bad")
    samples = load_prompts(write_jsonl(tmp_path / "p.jsonl", records), "Be brief.", problems)
    assert problems.problems == []
    rows = prompt_rows(samples)
    system = {"role": "system", "content": "Be brief."}
    assert rows[0] == {
        "prompt": [system, {"role": "user", "content": "Translate: chat"}],
        "reference": "cat",
        "lang": "fr",
        "label": None,  # every row has every column; a record without the field has None there
    }
    assert rows[1]["label"] == "greeting" and rows[1]["reference"] is None
    classified = Sample(
        [{"role": "user", "content": "Review: great"}, {"role": "assistant", "content": "positive"}],
        "reviews.jsonl:3",
        meta={"text": "great", "label": "positive"},
    )
    (row,) = prompt_rows([classified])
    assert row == {"prompt": classified.messages[:1], REFERENCE: "positive", "label": "positive", "text": "great"}


def test_malformed_prompt_records_are_named_by_file_and_line(tmp_path):
    records = [{"reference": "no prompt"}, {"prompt": [{"role": "user", "content": "a"}, *REPLY]}, {"prompt": 3}]
    problems = ProblemCollector("bad")
    load_prompts(write_jsonl(tmp_path / "p.jsonl", records), None, problems)
    assert [problem.split(": ", 1)[1] for problem in problems.problems] == [
        "missing field 'prompt' (format: prompts)",
        "the prompt must end with a user turn (the model replies to it) (format: prompts)",
        "field 'prompt' must be a string or a list of messages, got int (format: prompts)",
    ]
    assert problems.problems[0].startswith(f"{tmp_path / 'p.jsonl'}:1:")


def test_explain_prints_each_reward_by_its_index():
    from click.testing import CliRunner

    from tuneforge.cli import main

    result = CliRunner().invoke(main, ["recipes", "show", "translation-grpo", "--explain"])
    assert result.exit_code == 0, result.output
    assert any(
        line.startswith("train.grpo.rewards.0.name = chrf  [one of: chrf, bleu;") for line in result.output.splitlines()
    )


def test_the_loss_plot_adds_a_reward_panel_for_grpo_curves_only(tmp_path):
    """GRPO logs rewards/<name>/mean and /std per reward; DPO's rewards/chosen, /margins ... are no such curves."""
    import json

    from PIL import Image

    from tuneforge.train.callbacks import plot_loss

    dpo = [{"step": s, "loss": 0.7 / s, "rewards/chosen": 0.1 * s, "rewards/margins": 0.2 * s} for s in (1, 2, 3)]
    grpo = [
        {"step": s, "loss": 0.0, "rewards/chrf/mean": 0.3 + 0.1 * s, "rewards/chrf/std": 0.1, "eval_reward": 0.4}
        for s in (1, 2, 3)
    ]
    sizes = {}
    for name, records in (("dpo", dpo), ("grpo", grpo)):
        folder = tmp_path / name / "run"
        folder.mkdir(parents=True)
        (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        plot = plot_loss(folder / "metrics.jsonl", folder / "loss.png")
        sizes[name] = Image.open(plot).size
    assert sizes["grpo"][0] > sizes["dpo"][0]  # two panels side by side: a wider figure
