"""The studio's Data screen (tuneforge/studio/data_view.py): the data report as `tuneforge data inspect`
computes it, the length histogram, and the first samples as the model sees them, on shipped recipes and the
real tokenizer of the embedded model."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from studio_client import studio_client

from tuneforge.data.inspect import inspect_data
from tuneforge.data.tokenize import encode_conversation, render
from tuneforge.recipe.loading import load_recipe

END_OF_TURN = "<|im_end|>"  # SmolLM2's ChatML end of a turn
DRAWN_WHITESPACE = {"·": " ", "→": "\t", "↵": ""}  # ↵ is followed by the newline itself


@pytest.fixture
def client(tmp_path):
    return studio_client(tmp_path)


class TokenSpans(HTMLParser):
    """The token spans of a page, in order, per `.tokens` box: (classes, text as the tokenizer wrote it)."""

    def __init__(self):
        super().__init__()
        self.boxes, self.spans = [], []  # the boxes found; the classes of the open spans, innermost last

    def handle_starttag(self, tag, attrs):
        classes = set((dict(attrs).get("class") or "").split())
        if tag == "div" and "tokens" in classes and "legend" not in classes:
            self.boxes.append([])
        elif tag == "span":
            if "tok" in classes and self.boxes and not self.spans:
                self.boxes[-1].append([classes, ""])
            self.spans.append(classes)

    def handle_endtag(self, tag):
        if tag == "span" and self.spans:
            self.spans.pop()

    def handle_data(self, data):
        if self.boxes and self.spans and "tok" in self.spans[0] and self.boxes[-1]:
            self.boxes[-1][-1][1] += DRAWN_WHITESPACE.get(data, data) if "ws" in self.spans[-1] else data


def token_boxes(html: str) -> list[list[tuple[set, str]]]:
    parser = TokenSpans()
    parser.feed(html)
    return [[(classes, text) for classes, text in box] for box in parser.boxes]


def replies_with_end(messages: list[dict]) -> str:
    return "".join(message["content"] + END_OF_TURN for message in messages if message["role"] == "assistant")


def loss_text(tokens: list[dict]) -> str:
    return "".join(token["text"] for token in tokens if token["loss"])


# ---------------------------------------------------------------- report and histogram


def test_report_is_what_data_inspect_computes(client):
    shown = client.get("/api/recipes/quickstart/data")
    assert shown.status_code == 200, shown.text
    view = shown.json()
    assert view["report"] == inspect_data(load_recipe("quickstart")[0])
    assert view["report"]["loaded"] > 0 and view["method"] == "sft" and view["max_seq_length"] == 320


def test_histogram_counts_every_kept_sample(client):
    view = client.get("/api/recipes/quickstart/data").json()
    splits = view["report"]["splits"]
    for series, hist in view["lengths"].items():
        expected = sum(splits.values()) if series == "all" else splits[series]
        assert hist["samples"] == sum(hist["counts"]) == expected
        assert hist["bin_width"] * len(hist["counts"]) > max(hist["longest"] or 0, view["max_seq_length"])
    tokens = view["report"]["tokens"]
    assert view["lengths"]["train"]["longest"] <= view["max_seq_length"] < tokens["train_tokens"]


def test_page_draws_one_bar_series_and_the_max_seq_length_line(client):
    page = client.get("/recipes/quickstart/data")
    assert page.status_code == 200
    view = client.get("/api/recipes/quickstart/data").json()
    figures = re.findall(r'<figure class="histogram" data-series="(\w+)".*?</figure>', page.text, re.S)
    assert figures == ["all", "train", "val", "test"]
    all_splits = re.search(r'<figure class="histogram" data-series="all".*?</figure>', page.text, re.S).group(0)
    assert all_splits.count('<g class="bars">') == 1
    assert all_splits.count("<rect ") == len(view["lengths"]["all"]["counts"])
    assert re.search(r'<line class="max-seq-length" x1="([\d.]+)" y1="[\d.]+" x2="\1"', all_splits)
    assert "max_seq_length 320" in all_splits
    assert "tokens per sample" in all_splits and ">samples</text>" in all_splits
    report = view["report"]
    assert f'<div class="big" id="report-loaded">{report["loaded"]}</div>' in page.text
    assert f'<div class="big" id="report-kept">{report["kept"]}</div>' in page.text


# ---------------------------------------------------------------- samples as the model sees them


def test_loss_tokens_are_the_assistant_replies(client, tokenizer):
    view = client.get("/api/recipes/quickstart/data?split=train&n=3").json()
    assert view["kind"] == "conversation" and len(view["samples"]) == 3
    for sample in view["samples"]:
        tokens = sample["tokens"]
        ids, mask = encode_conversation(tokenizer, sample["messages"], assistant_only=True)
        assert [token["id"] for token in tokens] == ids
        assert [int(token["loss"]) for token in tokens] == mask
        assert "".join(token["text"] for token in tokens) == render(tokenizer, sample["messages"])
        assert loss_text(tokens) == replies_with_end(sample["messages"])
        ends = [token for token in tokens if token["eot"]]
        replies = [message for message in sample["messages"] if message["role"] == "assistant"]
        assert len(ends) == len(replies) and all(t["text"] == END_OF_TURN and t["loss"] and t["special"] for t in ends)
        assert sample["n_loss"] == sum(mask) and sample["n_tokens"] == len(ids)


def test_page_marks_loss_special_and_end_of_turn_tokens(client):
    view = client.get("/api/recipes/quickstart/data?n=2").json()
    page = client.get("/recipes/quickstart/data?n=2")
    boxes = token_boxes(page.text)
    assert len(boxes) == 2
    for box, sample in zip(boxes, view["samples"]):
        assert "".join(text for _, text in box) == "".join(token["text"] for token in sample["tokens"])
        assert "".join(text for classes, text in box if "loss" in classes) == replies_with_end(sample["messages"])
        assert [text for classes, text in box if "eot" in classes] == [END_OF_TURN] * len(
            [m for m in sample["messages"] if m["role"] == "assistant"]
        )
        assert {text for classes, text in box if "special" in classes} == {"<|im_start|>", END_OF_TURN}
        assert f"{sample['n_loss']} of {sample['n_tokens']} tokens carry loss" in page.text
    assert '<span class="ws">↵</span>\n' in page.text  # newlines drawn, and still breaking the line
    for legend in ("carries loss", "special token", "end of an assistant turn"):
        assert legend in page.text


def test_split_chooser_shows_that_split(client):
    view = client.get("/api/recipes/quickstart/data?split=val&n=50").json()
    assert view["split"] == "val" and len(view["samples"]) == view["report"]["splits"]["val"] == view["kept_in_split"]
    page = client.get("/recipes/quickstart/data?split=val&n=1")
    assert '<option value="val" selected>' in page.text and "First samples of val" in page.text


def test_preference_pairs_side_by_side(client):
    shown = client.get("/api/recipes/roleplay-dpo/data?profile=cpu&n=2")
    assert shown.status_code == 200, shown.text
    view = shown.json()
    assert view["kind"] == "pair" and view["report"] == inspect_data(load_recipe("roleplay-dpo", profile="cpu")[0])
    for sample in view["samples"]:
        row = sample["row"]
        assert not any(token["loss"] for token in sample["prompt"]["tokens"])
        for side in ("chosen", "rejected"):
            assert loss_text(sample[side]["tokens"]) == replies_with_end(row[side])
            assert [token["text"] for token in sample[side]["tokens"] if token["eot"]] == [END_OF_TURN]
        assert row["chosen"] != row["rejected"]
    page = client.get("/recipes/roleplay-dpo/data?profile=cpu&n=2").text
    assert page.count('<div class="side-by-side">') == 2
    assert '<option value="cpu" selected>' in page
    boxes = token_boxes(page)
    assert len(boxes) == 6  # prompt, chosen, rejected per pair
    rejected = view["samples"][0]["row"]["rejected"][0]["content"]
    assert "".join(text for classes, text in boxes[2] if "loss" in classes) == rejected + END_OF_TURN


def test_grpo_prompts_and_what_the_rewards_receive(client, tokenizer):
    """translation-grpo validates without its parent run (model.adapter is null until make sets it)."""
    shown = client.get("/api/recipes/translation-grpo/data?profile=cpu&n=3")
    assert shown.status_code == 200, shown.text
    view = shown.json()
    assert view["kind"] == "prompt" and view["method"] == "grpo"
    for sample in view["samples"]:
        messages, reference = sample["messages"], sample["fields"]["reference"]
        assert messages[-1]["role"] == "user" and reference
        assert "".join(token["text"] for token in sample["prompt"]["tokens"]) == render(tokenizer, messages, True)
        assert sample["prompt"]["n_loss"] == 0
        assert sample["rewards"] == [{"name": "chrf", "weight": 1.0, "field": "reference", "value": reference}]
    page = client.get("/recipes/translation-grpo/data?profile=cpu&n=1").text
    first = view["samples"][0]
    assert "What the rewards receive" in page and f"<td>{first['fields']['reference']}</td>" in page


# ---------------------------------------------------------------- mistakes


def write_recipe(tmp_path, name: str, text: str) -> None:
    (tmp_path / "my-recipes").mkdir(exist_ok=True)
    (tmp_path / "my-recipes" / f"{name}.yaml").write_text(text)


def test_bad_recipe_shows_the_cli_message(tmp_path):
    write_recipe(tmp_path, "bad", "name: bad\nmodel: {base: embedded:smollm2-135m-instruct, max_seq_length: 0}\n")
    client = studio_client(tmp_path)
    page = client.get("/recipes/bad/data")
    assert page.status_code == 400
    assert "invalid recipe" in page.text and "model.max_seq_length" in page.text and "Traceback" not in page.text
    answer = client.get("/api/recipes/bad/data")
    assert answer.status_code == 400
    assert "invalid recipe" in answer.json()["error"]
    assert any("model.max_seq_length" in line for line in answer.json()["problems"])


def test_bad_data_shows_the_malformed_records(tmp_path):
    data = tmp_path / "my-recipes" / "talk.jsonl"
    write_recipe(
        tmp_path,
        "talk",
        "name: talk\nmodel: {base: embedded:smollm2-135m-instruct}\ndata: {format: chat, train: talk.jsonl}\n",
    )
    good = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"}]}
    data.write_text(json.dumps(good) + "\n" + json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    answer = studio_client(tmp_path).get("/api/recipes/talk/data")
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("the data has malformed records")
    assert any(f"{data}:2" in line for line in answer.json()["problems"])


def test_unknown_profile_or_split_is_a_message(client):
    page = client.get("/recipes/quickstart/data?profile=gpu")
    assert page.status_code == 400 and "no profile" in page.text and "it has no profiles" in page.text
    answer = client.get("/api/recipes/quickstart/data?split=dev")
    assert answer.status_code == 400 and answer.json()["error"] == "no split called 'dev'"


@pytest.mark.parametrize("path", ["/recipes/..%2Fx/data", "/api/recipes/..%2F..%2Fetc/data", "/recipes/..%5Cx/data"])
def test_paths_outside_the_recipe_folders_are_refused(client, path):
    assert client.get(path).status_code == 404


def test_unknown_recipe_is_a_message(client):
    answer = client.get("/api/recipes/no-such-recipe/data")
    assert answer.status_code == 400 and "no recipe called 'no-such-recipe'" in answer.json()["error"]


def test_marked_replies_show_their_label(tmp_path):
    write_recipe(
        tmp_path,
        "marked",
        "name: marked\nmodel: {base: embedded:smollm2-135m-instruct}\n"
        "data: {format: kto, train: marked.jsonl, split: {val: 0.0, test: 0.0}}\ntrain: {method: kto}\n"
        "eval: {held_out_loss: false}\n",
    )
    records = [
        {
            "prompt": f"Say something about the number {index}.",
            "completion": f"{index} is a number.",
            "label": index % 2 == 0,
        }
        for index in range(6)
    ]
    (tmp_path / "my-recipes" / "marked.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    client = studio_client(tmp_path)
    view = client.get("/api/recipes/marked/data?n=6").json()
    assert view["kind"] == "marked" and len(view["samples"]) == 6
    for sample in view["samples"]:
        number = int(sample["row"]["completion"][0]["content"].split()[0])
        assert sample["label"] is (number % 2 == 0)
        assert loss_text(sample["completion"]["tokens"]) == f"{number} is a number.{END_OF_TURN}"
    page = client.get("/recipes/marked/data?n=6").text
    assert page.count("Completion · good") == 3 and page.count("Completion · bad") == 3
