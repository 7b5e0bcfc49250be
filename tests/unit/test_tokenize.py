"""Loss masking with the real (embedded) tokenizer, and the tokenized-data cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import sharegpt_records, write_jsonl
from tuneforge.data.prepare import prepare_datasets
from tuneforge.data.tokenize import IGNORE_INDEX, encode_conversation, masked_labels
from tuneforge.errors import UserError
from tuneforge.recipe.assemble import data_formats

CONVERSATION = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Capital of France?"},
    {"role": "assistant", "content": "Paris."},
    {"role": "user", "content": "And of Spain?"},
    {"role": "assistant", "content": "Madrid, of course."},
]


def trained_text(tokenizer, ids, mask):
    return tokenizer.decode([t for t, keep in zip(ids, mask) if keep])


def test_only_assistant_tokens_carry_loss(tokenizer):
    ids, mask = encode_conversation(tokenizer, CONVERSATION, assistant_only=True)
    assert trained_text(tokenizer, ids, mask) == "Paris.<|im_end|>Madrid, of course.<|im_end|>"
    masked = tokenizer.decode([t for t, keep in zip(ids, mask) if not keep])
    assert "Capital of France?" in masked and "You are terse." in masked and "Paris" not in masked
    assert ids == tokenizer.apply_chat_template(CONVERSATION, tokenize=True, return_dict=True)["input_ids"]


# A template written for this test that, like Qwen3's, renders the last assistant reply
# differently from earlier ones, so a shorter conversation is not a prefix of a longer one.
LAST_TURN_DIFFERS = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['role'] == 'assistant' and loop.last %}<think>\n\n</think>\n\n{% endif %}"
    "{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def test_masking_with_a_template_that_is_not_prefix_stable(tokenizer):
    import copy

    changed = copy.deepcopy(tokenizer)
    changed.chat_template = LAST_TURN_DIFFERS
    ids, mask = encode_conversation(changed, CONVERSATION, assistant_only=True)
    # the first reply is found by search; the last is everything after the generation prompt,
    # including the empty think block the model itself emits there
    assert trained_text(changed, ids, mask) == "Paris.<|im_end|><think>\n\n</think>\n\nMadrid, of course.<|im_end|>"


def test_full_sequence_loss_when_asked(tokenizer):
    ids, mask = encode_conversation(tokenizer, CONVERSATION, assistant_only=False)
    assert all(mask) and len(ids) == len(mask)


def test_labels_use_the_ignore_index():
    assert masked_labels([5, 6, 7], [0, 1, 1]) == [IGNORE_INDEX, 6, 7]


def validated_data(raw: dict):
    """A `data` section alone, validated by its format's class as a recipe validates it."""
    return data_formats()[raw["format"]].model_validate(raw, context={"base_dir": Path(".")})


def data_section(path, **extra):
    return validated_data({"format": "sharegpt", "train": [str(path)], "split": {"val": 0.2}, **extra})


def test_prepare_masks_labels_and_reports_tokens(tokenizer, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    data = data_section(write_jsonl(tmp_path / "d.jsonl", sharegpt_records(10)))
    datasets, report = prepare_datasets(data, tokenizer, max_seq_length=256)
    row = datasets["train"][0]
    trained = tokenizer.decode([t for t in row["labels"] if t != IGNORE_INDEX])
    assert trained.startswith("Ahoy!") and trained.endswith("Fair winds!<|im_end|>")
    assert report.splits == {"test": 0, "val": 2, "train": 8}
    assert 0 < report.tokens["train_trained_tokens"] < report.tokens["train_tokens"]


def test_overlength_samples_are_dropped_or_truncated_and_counted(tokenizer, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    long_one = {
        "conversations": [
            {"from": "human", "value": "Tell me a story."},
            {"from": "gpt", "value": "Once upon a time " * 40},
        ]
    }
    path = write_jsonl(tmp_path / "d.jsonl", sharegpt_records(9) + [long_one])
    _, dropped = prepare_datasets(data_section(path), tokenizer, max_seq_length=100)
    assert sum(n for reason, n in dropped.filtered.items() if reason.startswith("longer_than")) == 1
    assert sum(dropped.splits.values()) == 9
    truncate = data_section(path, filter={"overlength": "truncate"})
    datasets, truncated = prepare_datasets(truncate, tokenizer, max_seq_length=100)
    assert sum(truncated.truncated.values()) == 1 and sum(truncated.splits.values()) == 10
    assert max(len(r) for split in datasets.values() for r in split["input_ids"]) == 100


def test_everything_too_long_is_a_clear_error(tokenizer, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    path = write_jsonl(tmp_path / "d.jsonl", sharegpt_records(5))
    with pytest.raises(UserError, match="every training sample was dropped") as caught:
        prepare_datasets(data_section(path), tokenizer, max_seq_length=10)
    assert "max_seq_length" in caught.value.fix


def test_tokenized_data_is_cached_by_content(tokenizer, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("TUNEFORGE_CACHE", str(cache))
    path = write_jsonl(tmp_path / "d.jsonl", sharegpt_records(10))
    prepare_datasets(data_section(path), tokenizer, 256)
    prepare_datasets(data_section(path), tokenizer, 256)
    assert len(list((cache / "datasets").iterdir())) == 1  # second call hit the cache
    write_jsonl(path, sharegpt_records(11))
    _, report = prepare_datasets(data_section(path), tokenizer, 256)
    assert len(list((cache / "datasets").iterdir())) == 2 and report.loaded == 11


def test_truncate_input_cuts_through_the_format_and_counts_every_cut(tokenizer, tmp_path, monkeypatch):
    """tokenize.py asks the format (DataSection.fit) to shorten a sample's input: classification cuts the text,
    never the label, and the data report counts each cut per split."""
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    long_text = "房间干净整洁，服务热情周到。" * 20
    records = [{"text": f"{i}{long_text}" if i % 3 == 0 else f"好{i}", "label": i % 2} for i in range(30)]
    raw = {
        "format": "classification",
        "train": [str(write_jsonl(tmp_path / "d.jsonl", records))],
        "classification": {"labels": ["negative", "positive"]},
        "split": {"val": 0.2, "test": 0.2},
    }
    data = validated_data(raw)
    assert data.filter.overlength == "truncate_input"  # the format's default
    datasets, report = prepare_datasets(data, tokenizer, max_seq_length=80)
    assert sum(report.truncated.values()) == 10 and sum(report.splits.values()) == 30 and not report.filtered
    for split in datasets.values():
        for row in split:
            assert len(row["input_ids"]) <= 80
            assert tokenizer.decode([t for t in row["labels"] if t != IGNORE_INDEX]) in (
                "negative<|im_end|>",
                "positive<|im_end|>",
            )
    with pytest.raises(UserError, match="every training sample was dropped") as caught:
        prepare_datasets(data, tokenizer, max_seq_length=20)
    assert "prompt_alone_longer_than_max_seq_length (train)" in caught.value.render()


def test_truncate_input_is_refused_for_a_format_that_cannot_cut_its_input(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", sharegpt_records(4))
    with pytest.raises(ValueError, match="truncate_input cuts the input text"):  # pydantic's ValidationError
        data_section(path, filter={"overlength": "truncate_input"})
