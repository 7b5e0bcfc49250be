"""The export's check of a written Modelfile: read back as Ollama's parser reads it, its TEMPLATE rendered
with Ollama's data on conversations and tokenized, its stops against the end of a turn. A damaged copy of
a sound Modelfile is caught, with what is wrong named. Through a real export: tests/integration/
test_ollama_check_run.py; the renderer against Go's own text/template: tests/unit/test_ollama.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneforge.export.modelfile import ModelfileError, parse_modelfile, read_modelfile
from tuneforge.export.ollama import FAMILIES, end_of_turn_tokens, load_generation_config, modelfile
from tuneforge.export.ollama_check import HeldOut, check_modelfile, collate, ollama_data, prompt_turns

CONVERSATIONS = [
    HeldOut("data.jsonl:1", [{"role": "user", "content": "What is the capital of France?"}]),
    HeldOut(
        "data.jsonl:2",
        [
            {"role": "system", "content": "You are Lyra."},
            {"role": "user", "content": "Hi!"},
            {"role": "assistant", "content": "Good day, master!"},
            {"role": "user", "content": "Tea, please.\nWith milk."},
        ],
    ),
]


@pytest.fixture
def end_tokens(tokenizer, embedded_dir) -> list[str]:
    return end_of_turn_tokens(tokenizer, load_generation_config(embedded_dir))


@pytest.fixture
def written(tokenizer, end_tokens, tmp_path) -> Path:
    """A Modelfile as the export writes it, in export/ollama/, beside the GGUF it names."""
    (tmp_path / "tiny.Q8_0.gguf").write_bytes(b"GGUF")
    folder = tmp_path / "ollama"
    folder.mkdir()
    text = modelfile(tokenizer, "tiny.Q8_0.gguf", None, 2048, end_tokens=tuple(end_tokens))
    (folder / "Modelfile").write_text(text, encoding="utf-8")
    return folder / "Modelfile"


def damaged(path: Path, old: str, new: str) -> Path:
    """A copy of the Modelfile beside it with one edit (the original is left as written)."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    copy = path.with_name("Modelfile.damaged")
    copy.write_text(text.replace(old, new), encoding="utf-8")
    return copy


# ---------------------------------------------------------------- reading a Modelfile as Ollama does


def test_the_written_modelfile_reads_back_as_written(tokenizer, written):
    read = read_modelfile(written)
    family = FAMILIES[0]
    default = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    assert read.template == family.go_template(default)
    assert read.values("model") == ["../tiny.Q8_0.gguf"] and read.system is None
    assert read.stops == ["<|im_end|>", "<|im_start|>"] and read.values("num_ctx") == ["2048"]


def test_ollamas_parsing_rules():
    read = parse_modelfile(
        "\ufeff# a comment\n"
        "from ./model.gguf\n"
        '  SYSTEM """  two\nlines, "quoted" and\ttabbed  """  \n'
        "PARAMETER stop <|eot_id|>\n"
        'PARAMETER stop "two words"\n'
        "PARAMETER stop unquoted words # not a comment\n"
        "MESSAGE user Hello there\n"
        "ADAPTER one.gguf\nADAPTER two.gguf\n"
        "SYSTEM keep\u00a0the\u200bprintable\u00e9\n"
    )
    assert read.values("system") == ['  two\nlines, "quoted" and\ttabbed  ', "keeptheprintable\u00e9"]
    assert read.system == "keeptheprintable\u00e9"  # the last one wins; Go drops what it does not print
    assert read.stops == ["<|eot_id|>", "two words", "unquoted words # not a comment"]
    assert read.messages == [{"role": "user", "content": "Hello there"}]
    assert read.values("model") == ["./model.gguf"] and read.last("adapter") == "two.gguf"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('FROM x.gguf\nTEMPLATE """{{ .Prompt }}\n', "line 3: a quoted value is never closed"),
        ("FROM x.gguf\nTEMPERATURE 0.7\n", "line 2: a command must be one of FROM, LICENSE"),
        ("FROM x.gguf\nMESSAGE robot hi\n", "line 2: a MESSAGE role must be one of system, user, assistant"),
        ('TEMPLATE """{{ .Prompt }}"""\n', "no FROM line"),
        ("FROM x.gguf\nPARAMETER", "the file ends inside a command"),
    ],
)
def test_what_ollama_would_refuse_to_read_is_refused(text, message):
    with pytest.raises(ModelfileError, match=message):
        parse_modelfile(text)


# ---------------------------------------------------------------- the data Ollama gives a TEMPLATE


def test_ollama_data_follows_the_chat_endpoint():
    read = parse_modelfile('FROM x.gguf\nSYSTEM """From the Modelfile."""\nMESSAGE assistant Ready.\n')
    alone = ollama_data(read, [{"role": "user", "content": "a"}])
    assert alone["System"] == "From the Modelfile."
    assert [m["Role"] for m in alone["Messages"]] == ["system", "assistant", "user"]
    own = ollama_data(read, [{"role": "system", "content": "Own."}, {"role": "user", "content": "a"}])
    assert own["System"] == "Own." and own["Messages"][0] == {"Role": "assistant", "Content": "Ready."}
    merged = collate([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    assert merged == [{"Role": "user", "Content": "a\n\nb"}]


def test_the_prompt_is_the_turns_before_the_last_reply():
    turns = CONVERSATIONS[1].messages + [{"role": "assistant", "content": "At once."}]
    assert prompt_turns(turns) == CONVERSATIONS[1].messages
    assert prompt_turns([{"role": "user", "content": "q"}]) == [{"role": "user", "content": "q"}]  # prompts only
    assert prompt_turns([{"role": "system", "content": "s"}, {"role": "assistant", "content": "r"}]) is None


# ---------------------------------------------------------------- the check, on a sound and on damaged copies


def test_a_sound_modelfile_passes(tokenizer, end_tokens, written):
    check = check_modelfile(written, tokenizer, end_tokens, "test", CONVERSATIONS)
    assert check.problems == [] and check.tokens_identical and check.stops_covered
    assert check.conversations == 2 and check.split == "test"


def test_a_template_that_drops_the_newline_after_the_role_is_caught(tokenizer, end_tokens, written):
    copy = damaged(written, "{{ .Role }}\n", "{{ .Role }}")
    check = check_modelfile(copy, tokenizer, end_tokens, "test", CONVERSATIONS)
    assert not check.tokens_identical and check.stops_covered
    [problem] = check.problems
    assert problem.startswith("TEMPLATE prompts 2 of 2 conversations differently from the chat template")
    assert "first data.jsonl:1 at token" in problem
    # The decoded context on both sides: the chat template's newline after the role, the Modelfile's text.
    assert "the chat template has '" in problem and "<|im_start|>user' then '\\nWhat is the capital of'" in problem
    assert problem.endswith("<|im_start|>user' then 'What is the capital of France'")


def test_a_missing_end_of_turn_stop_is_caught(tokenizer, end_tokens, written):
    copy = damaged(written, 'PARAMETER stop "<|im_end|>"\n', "")
    check = check_modelfile(copy, tokenizer, end_tokens, "test", CONVERSATIONS)
    assert check.tokens_identical and not check.stops_covered
    assert check.problems == [
        "after a reply the chat template writes '<|im_end|>\\n', which begins with no PARAMETER stop "
        "('<|im_start|>'): Ollama would generate past the end of the turn",
        "the end-of-turn token '<|im_end|>' is no PARAMETER stop ('<|im_start|>'): Ollama would generate through it",
    ]


def test_an_end_of_turn_token_of_the_generation_config_must_be_a_stop(tokenizer, written):
    """Qwen2.5's generation_config ends on <|endoftext|> as well: the writer adds it; a Modelfile without it fails."""
    check = check_modelfile(written, tokenizer, ["<|im_end|>", "<|endoftext|>"], "test", CONVERSATIONS)
    assert check.problems == [
        "the end-of-turn token '<|endoftext|>' is no PARAMETER stop ('<|im_end|>', '<|im_start|>'): "
        "Ollama would generate through it"
    ]
    with_it = modelfile(tokenizer, "tiny.Q8_0.gguf", None, 2048, end_tokens=("<|im_end|>", "<|endoftext|>"))
    assert parse_modelfile(with_it).stops == ["<|im_end|>", "<|im_start|>", "<|endoftext|>"]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("{{ .Content }}", "{{ .Content | html }}", "TEMPLATE: line 6: '|' is outside the subset"),
        (
            "{{ .Content }}",
            "{{ .Prompt }}",
            "TEMPLATE on data.jsonl:1: line 6: no field .Prompt here (it holds .Role, .Content)",
        ),
        (
            "{{ end }}{{ end }}<|im_start|>assistant",
            "{{ end }}<|im_start|>assistant",
            "TEMPLATE: line 5: {{ range }} has no {{ end }}",
        ),
        ("FROM ../tiny.Q8_0.gguf", "FROM ../tiny.Q4_K_M.gguf", "FROM ../tiny.Q4_K_M.gguf: no such file"),
        ('TEMPLATE """', 'TEMPLATE """\n', "TEMPLATE prompts 2 of 2 conversations differently"),
    ],
    ids=["outside-the-subset", "unknown-field", "unbalanced", "missing-gguf", "leading-newline"],
)
def test_other_damage_is_named(tokenizer, end_tokens, written, old, new, problem):
    check = check_modelfile(damaged(written, old, new), tokenizer, end_tokens, "test", CONVERSATIONS)
    assert len(check.problems) == 1 and check.problems[0].startswith(problem), check.problems


def test_a_modelfile_ollama_cannot_read_is_named(tokenizer, end_tokens, written):
    unclosed = damaged(written, 'assistant\n"""\n', "assistant\n\n")
    check = check_modelfile(unclosed, tokenizer, end_tokens, "test", CONVERSATIONS)
    assert check.problems == ["Ollama could not read it: line 14: a quoted value is never closed"]
    assert not (check.tokens_identical or check.stops_covered)
