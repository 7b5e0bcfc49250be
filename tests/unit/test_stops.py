"""Does it stop? Where a greedy reply ends (the tiny model with its real generate()), the budget sized
from the references, and the verdict of export.max_stop_drop. A damaged artifact caught end to end:
tests/integration/test_stop_check_run.py."""

from __future__ import annotations

import pytest

from tuneforge.data.formats import Sample
from tuneforge.eval.stops import MAX_BUDGET, MIN_BUDGET, StopPrompts, measure_stops, reply_budget, stop_cell, stop_drop
from tuneforge.evaluate.artifact import compare_with_reference, stop_failures

PROMPTS = [[{"role": "user", "content": text}] for text in ("Hello there", "What is two and two?", "Name a colour")]


@pytest.fixture(scope="module")
def generator(tiny_llama_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneforge.eval.generate import AdapterGenerator

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir))
    return AdapterGenerator.from_model(model, AutoTokenizer.from_pretrained(str(tiny_llama_dir)))


def test_a_reply_ends_at_the_first_id_generate_stops_at(generator):
    generator.model.generation_config.eos_token_id = None
    runaway = generator.ended_replies(PROMPTS, max_new_tokens=6)
    assert [(r.ended, r.tokens) for r in runaway] == [(False, 6)] * 3
    # Make the token each reply greedily produces third an end of turn: every reply then ends there.
    third = {row[2] for row in generator._new_tokens(PROMPTS, 6).tolist()}
    generator.model.generation_config.eos_token_id = sorted(third)
    ended = generator.ended_replies(PROMPTS, max_new_tokens=6)
    assert all(r.ended and r.tokens <= 3 for r in ended)  # the end-of-turn token counts
    assert [r.text for r in ended] == [
        generator.tokenizer.decode(row[: r.tokens - 1], skip_special_tokens=True).strip()
        for row, r in zip(generator._new_tokens(PROMPTS, 6).tolist(), ended)
    ]


def test_measure_stops_counts_the_share_and_the_mean_length(generator):
    from tuneforge.eval.answerers import InProcessAnswerer

    generator.model.generation_config.eos_token_id = None
    measured = measure_stops(StopPrompts("test", PROMPTS, 5), InProcessAnswerer(generator))
    assert measured["share"] == 0.0 and measured["mean_tokens"] == 5 and measured["prompts"] == 3
    assert len(measured["unended_examples"]) == 3
    assert measure_stops(StopPrompts("none", [], 128), InProcessAnswerer(generator))["share"] is None


def test_the_budget_is_twice_the_longest_reference_within_bounds(tokenizer):
    def rows(*replies):
        return [{"prompt": PROMPTS[0], "reference": reply} for reply in replies]

    long = " ".join(["word"] * 40)
    assert reply_budget(tokenizer, rows("yes", long)) == 2 * len(tokenizer(long, add_special_tokens=False)["input_ids"])
    assert reply_budget(tokenizer, rows("yes")) == MIN_BUDGET
    assert reply_budget(tokenizer, rows(" ".join(["word"] * 1000))) == MAX_BUDGET


def test_held_out_prompts_are_cut_before_the_reply(tokenizer):
    from tuneforge.eval.stops import held_out_prompts

    class Run:  # RunFolder's one member the prompts are read from
        def held_out_split(self):
            turns = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"}]
            return "val", [Sample(turns, "x:1")]

    prompts = held_out_prompts(Run(), tokenizer)
    assert prompts.split == "val" and prompts.conversations == [[{"role": "user", "content": "Hi"}]]
    assert prompts.max_tokens == MIN_BUDGET


def stops(share, prompts=16, max_tokens=64, mean_tokens=20.0):
    return {"share": share, "prompts": prompts, "max_tokens": max_tokens, "mean_tokens": mean_tokens}


def test_an_artifact_that_stops_less_than_the_adapter_fails_past_the_limit():
    results = {
        "adapter": {"tasks": {}, "stops": stops(0.9375)},
        "merged": {"tasks": {}, "stops": stops(0.875)},
        "gguf:q8_0": {"tasks": {}, "stops": stops(0.25, mean_tokens=61.5)},
    }
    compare_with_reference(results)
    assert results["adapter"]["stops"]["drop"] == 0
    assert results["merged"]["stops"]["drop"] == pytest.approx(0.0625)
    failures = stop_failures(results, 0.25)
    assert len(failures) == 1 and failures[0].startswith("gguf:q8_0: 25.0% of 16 held-out replies end")
    assert "adapter's 93.8%" in failures[0] and "export.max_stop_drop: 0.25" in failures[0]
    assert stop_cell(results["gguf:q8_0"]["stops"]) == "25.0% (-68.8%) ended, 61.5 tokens"
    assert stop_cell(results["adapter"]["stops"]) == "93.8% ended, 20.0 tokens"
    assert stop_drop(None, stops(0.5)) is None and stop_cell({"share": None}) == ""
