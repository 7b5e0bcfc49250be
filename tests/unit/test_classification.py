"""The classification format: label records become prompts, bad records are reported, the schema
pairs format and labels, and the robustness perturbations. A trained tiny run (the Predictor, its
evaluation files, `predict` and `classify`): tests/integration/test_classification_run.py."""

from __future__ import annotations

import contextlib
import copy
import random

import pytest

from helpers import TINY_SHAPES, classification_recipe
from tuneforge.errors import UserError
from tuneforge.recipe.loading import load_recipe


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


# ---------------------------------------------------------------- label scoring: one pass + KV cache vs pair by pair

# One-token labels; two labels that share their first token ("very"), so their tails decide; and tails of
# 0, 1 and 2 tokens in one batch.
LABEL_SETS = {
    "one_token": ["negative", "positive"],
    "shared_first_token": ["very negative", "very positive"],
    "mixed_lengths": ["neutral", "very negative", "very positive", "mixed feelings overall"],
}
TEXTS = [
    "好",
    "房间干净整洁，服务热情。" * 6,
    "差评！",
    "质量很差，用两天就坏了。" * 3,
    "ok",
    "还行吧" * 10,
    "价格实惠",
]


@pytest.fixture(scope="module")
def scoring_model(tokenizer):
    """A 2-layer Llama with random weights (a little larger than the default init, so label probabilities
    differ between texts) and a random LoRA (init_lora_weights=False), so adapter on and off differ."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, LlamaConfig

    shapes = {**TINY_SHAPES, "max_position_embeddings": 1024, "tie_word_embeddings": False}
    config = LlamaConfig(
        vocab_size=len(tokenizer), initializer_range=0.08, pad_token_id=tokenizer.pad_token_id, **shapes
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    return get_peft_model(model, lora).eval()


def scoring_recipe(tmp_path, labels, *overrides):
    records = [{"text": "好", "label": labels[0]}, {"text": "差", "label": labels[1]}]
    labels_override = "data.classification.labels=[" + ",".join(labels) + "]"
    path = classification_recipe(tmp_path, "embedded:smollm2-135m-instruct", records)
    return load_recipe(path, [labels_override, "model.max_seq_length=1024", *overrides])[0]


def reference_log_probs(model, prompt: list[int], label_ids: list[list[int]]) -> list[float]:
    """The straightforward computation: each (prompt, label) sequence on its own, no padding, no cache."""
    import torch

    scores = []
    for label in label_ids:
        with torch.inference_mode():
            log_probs = torch.log_softmax(model(input_ids=torch.tensor([prompt + label])).logits[0].float(), dim=-1)
        scores.append(sum(log_probs[len(prompt) + i - 1, token].item() for i, token in enumerate(label)))
    return scores


@pytest.mark.parametrize("label_set", LABEL_SETS)
def test_one_pass_scoring_equals_scoring_each_label_sequence_alone(tmp_path, tokenizer, scoring_model, label_set):
    import torch

    from tuneforge.eval.generate import MIN_SHARED_PREFIX, common_prefix_length
    from tuneforge.tasks.classification.predict import Predictor

    labels = LABEL_SETS[label_set]
    predictor = Predictor.from_model(scoring_recipe(tmp_path, labels), scoring_model, tokenizer, batch_size=3)
    assert label_set != "shared_first_token" or predictor.label_ids[0][0] == predictor.label_ids[1][0]
    prompts = [predictor.prompt_ids(text) for text in TEXTS]
    log_probs = {}
    for adapter in (True, False):
        with contextlib.nullcontext() if adapter else scoring_model.disable_adapter():
            expected = [reference_log_probs(scoring_model, prompt, predictor.label_ids) for prompt in prompts]
        scored = predictor.predict_batch(TEXTS, use_adapter=adapter)  # batches of 3, sorted by length, reordered
        for text, result, reference in zip(TEXTS, scored, expected):
            probabilities = torch.softmax(torch.tensor(reference, dtype=torch.float64), dim=0).tolist()
            assert result["label"] == labels[max(range(len(labels)), key=reference.__getitem__)], text
            assert [result["probabilities"][label] for label in labels] == pytest.approx(probabilities, abs=1e-5)
        log_probs[adapter] = predictor.label_log_probs(prompts, adapter)  # every length in one padded batch
        assert log_probs[adapter].tolist() == [pytest.approx(row, abs=1e-4) for row in expected]
        shared = predictor.shared_prefix(prompts, adapter)  # the system prompt and instruction, run once
        assert shared.length >= MIN_SHARED_PREFIX and shared.length == common_prefix_length(prompts)
        from_prefix = predictor.label_log_probs(prompts, adapter, shared)  # the tails padded after the prefix
        assert from_prefix.tolist() == [pytest.approx(row, abs=1e-4) for row in expected]
    spread = [max(r["probabilities"].values()) - min(r["probabilities"].values()) for r in scored]
    assert label_set == "mixed_lengths" or max(spread) > 0.05  # probabilities depend on the text: positions matter
    assert (log_probs[True] - log_probs[False]).abs().max() > 1e-3  # the adapter is on, then off


def test_the_shared_prefix_leaves_every_prompt_its_last_token():
    from tuneforge.eval.generate import common_prefix_length

    assert common_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5, 6], [1, 2, 3]]) == 2  # [1, 2, 3] keeps its 3
    assert common_prefix_length([[1, 2, 3], [1, 2, 3]]) == 2
    assert common_prefix_length([[1, 2], [2, 2]]) == 0
    assert common_prefix_length([[7]]) == 0
    assert common_prefix_length([]) == 0


def test_in_process_first_token_logprobs_equal_one_unpadded_pass_each(tokenizer, scoring_model):
    """The adapter's answer to `eval --artifact adapter`: prompts of every length, batched longest first and
    padded on the left, score each label's first token as a pass over that prompt alone does."""
    import torch

    from tuneforge.eval.answerers import InProcessAnswerer, first_token_ids, softmax_over
    from tuneforge.eval.generate import AdapterGenerator

    generator = AdapterGenerator.from_model(scoring_model, copy.deepcopy(tokenizer))  # it pads on the left
    conversations = [[{"role": "user", "content": text}] for text in TEXTS]
    prompts = [generator.prompt_ids(conversation) for conversation in conversations]
    batched = generator.last_logprobs(prompts)
    for prompt, row in zip(prompts, batched):
        with torch.inference_mode():
            alone = scoring_model(input_ids=torch.tensor([prompt])).logits[0, -1]
        assert row.tolist() == pytest.approx(torch.log_softmax(alone.float(), dim=-1).tolist(), abs=1e-4)
    answerer = InProcessAnswerer(generator)
    labels = LABEL_SETS["one_token"]
    ids = first_token_ids(tokenizer, labels)
    scored = answerer.label_probabilities(conversations, labels)  # sorted into batches, then put back in order
    expected = [softmax_over(labels, [row[i] for i in ids]) for row in batched.tolist()]
    assert [[p[label] for label in labels] for p in scored] == [
        pytest.approx([p[label] for label in labels], abs=1e-5) for p in expected
    ]
    assert answerer.label_probabilities(conversations, LABEL_SETS["shared_first_token"]) == [None] * len(TEXTS)


def test_label_from_text_reads_the_label_a_reply_names():
    from tuneforge.tasks.classification.served import label_from_text

    labels = ["negative", "positive", "very positive"]
    assert label_from_text(" Very positive!", labels) == "very positive"  # the longest it starts with
    assert label_from_text("I would say it is negative, not positive", labels) == "negative"  # the first named
    assert label_from_text("no idea", labels) is None


# ---------------------------------------------------------------- overlength: truncate_input

LONG_TEXT = "开头很好。" + "房间干净整洁，服务热情周到，" * 30 + "结尾很差。"


def long_texts(count: int) -> list[str]:
    return [f"第{i}条：{LONG_TEXT}" for i in range(count)]


def long_recipe(tmp_path, *overrides, count: int = 10):
    """Half long texts (far over 96 tokens), half short ones; every text distinct (duplicates are dropped)."""
    records = [{"text": text, "label": i % 2} for i, text in enumerate(long_texts(count // 2))]
    records += [{"text": f"好{i}", "label": i % 2} for i in range(count - count // 2)]
    path = classification_recipe(tmp_path, "embedded:smollm2-135m-instruct", records)
    return load_recipe(path, ["model.max_seq_length=96", *overrides])[0]


def test_a_reply_that_names_no_label_counts_as_wrong_in_every_metric():
    from tuneforge.tasks.classification.evaluate import label_metrics
    from tuneforge.tasks.classification.served import from_reply

    labels = ["negative", "positive"]
    predictions = [from_reply(labels, "I cannot tell."), from_reply(labels, "positive")]
    assert predictions[0]["label"] == "(none)"
    measured = label_metrics(labels, ["positive", "positive"], predictions)
    assert measured["accuracy"] == 0.5 and measured["precision"] == 1.0 and measured["recall"] == 0.5
    assert measured["f1"] == pytest.approx(2 / 3)


def test_truncate_input_is_the_default_of_classification_and_an_explicit_value_wins(tmp_path):
    assert long_recipe(tmp_path).data.filter.overlength == "truncate_input"
    assert long_recipe(tmp_path, "data.filter.overlength=drop").data.filter.overlength == "drop"
    assert long_recipe(tmp_path, "data.filter={min_response_chars: 1}").data.filter.overlength == "truncate_input"
    with pytest.raises(UserError, match="truncate_input cuts the input text"):
        load_recipe(long_recipe_path_for_sharegpt(tmp_path), ["data.filter.overlength=truncate_input"])


def long_recipe_path_for_sharegpt(tmp_path):
    from helpers import tiny_recipe

    return tiny_recipe(tmp_path, "embedded:smollm2-135m-instruct")


@pytest.mark.parametrize("side", ["middle", "end"])
def test_a_cut_keeps_the_instruction_and_the_label_and_fits(tmp_path, tokenizer, side):
    from tuneforge.data.formats import Sample
    from tuneforge.data.tokenize import encode_conversation
    from tuneforge.tasks.classification.data import CUT_MARK, fit_sample, prompt_messages

    data = long_recipe(tmp_path, f"data.filter.truncate_side={side}").data
    sample = Sample(
        [*prompt_messages(data, LONG_TEXT), {"role": "assistant", "content": "positive"}],
        "x:1",
        meta={"text": LONG_TEXT, "label": "positive"},
    )
    fitted = fit_sample(data, sample, tokenizer, 96)
    ids, mask = encode_conversation(tokenizer, fitted.messages, assistant_only=True)
    assert len(ids) <= 96 and tokenizer.decode([t for t, keep in zip(ids, mask) if keep]) == "positive<|im_end|>"
    # the system prompt as it was; the sample's meta keeps the whole text (the run's split files hold it)
    assert fitted.messages[0] == sample.messages[0] and fitted.meta["text"] == LONG_TEXT
    user = fitted.messages[1]["content"]
    instruction, cut = user.split("\n\n", 1)
    assert instruction == sample.messages[1]["content"].split("\n\n", 1)[0]
    assert cut.startswith("开头很好。") and CUT_MARK in cut and len(cut) < len(LONG_TEXT)
    assert cut.endswith("结尾很差。") if side == "middle" else cut.endswith(CUT_MARK)
    short = Sample(
        [*prompt_messages(data, "好"), {"role": "assistant", "content": "positive"}],
        "x:2",
        meta={"text": "好", "label": "positive"},
    )
    assert fit_sample(data, short, tokenizer, 96) is short


def test_a_prompt_too_long_without_its_text_cannot_fit(tmp_path, tokenizer):
    from tuneforge.tasks.classification.data import fitted_text

    data = long_recipe(tmp_path).data
    assert fitted_text(data, tokenizer, LONG_TEXT, 20) is None


def test_prediction_cuts_a_text_exactly_as_training_did(tmp_path, tokenizer, scoring_model, monkeypatch):
    from tuneforge.data.prepare import prepare_datasets
    from tuneforge.tasks.classification.predict import Predictor

    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    recipe = long_recipe(tmp_path)
    datasets, report = prepare_datasets(recipe.data, tokenizer, recipe.model.max_seq_length)
    assert sum(report.truncated.values()) == 5 and sum(report.splits.values()) == 10  # five long texts cut, kept
    predictor = Predictor.from_model(recipe, scoring_model, tokenizer)
    rows = [row for split in datasets.values() for row in split["input_ids"]]
    assert max(map(len, rows)) <= 96
    for text in long_texts(5):  # each one's prediction prompt begins exactly one training row: its own
        prompt = predictor.prompt_ids(text)
        assert len(prompt) < 96 and sum(row[: len(prompt)] == prompt for row in rows) == 1, text


# ---------------------------------------------------------------- the TF-IDF baseline


def test_the_tfidf_baseline_learns_the_train_split_and_its_lead_is_spelled_out():
    from tuneforge.tasks.classification.evaluate import tfidf_gap, tfidf_predictions

    labels = ["negative", "positive"]
    train = [(f"房间很好，服务很好{i}", "positive") for i in range(8)] + [
        (f"房间很差，服务太差{i}", "negative") for i in range(8)
    ]
    predicted = tfidf_predictions(labels, train, ["非常好", "太差了"])
    assert [p["label"] for p in predicted] == ["positive", "negative"]
    assert all(sum(p["probabilities"].values()) == pytest.approx(1.0, abs=1e-5) for p in predicted)
    assert tfidf_predictions(labels, [("好", "positive"), ("很好", "positive")], ["好"]) is None  # one label only
    assert "**The TF-IDF baseline is 11.0 points above the tuned model**" in tfidf_gap(
        {"accuracy": 0.66}, {"accuracy": 0.77}
    )
    assert tfidf_gap({"accuracy": 0.9}, {"accuracy": 0.8}).startswith("The tuned model is 10.0 points above")
