"""Ollama Modelfiles for the exported GGUF: `ollama create NAME -f export/ollama/Modelfile`.

    FROM ../quickstart.Q8_0.gguf
    TEMPLATE <triple-quoted>    Go text/template equivalent to the model's Jinja chat template
    SYSTEM <triple-quoted>      the recipe's system prompt (data.system_prompt), when it has one
    PARAMETER stop "<|im_end|>" the chat format's end-of-turn tokens, and the model's EOS tokens
    PARAMETER num_ctx 2048      the recipe's serve.n_ctx

Ollama cannot run Jinja, so the chat template is translated by family (ChatML: SmolLM2,
Qwen2.5, Qwen3 without thinking; Llama 3 headers). Before writing, the Jinja template is
rendered on probe conversations and compared with what the Go template produces for them
(`render`, the same format written in Python); any difference stops the export instead of
shipping a Modelfile that prompts the model differently from training. tests/unit/test_ollama.py
renders the Go template with Go's own text/template to check that equivalence. After writing, the
export checks the Modelfiles as written on the run's own conversations (export/ollama_check.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.files import atomic_folder

PROBE = "tuneforge-probe"
PROBE_CONVERSATIONS = [
    [{"role": "user", "content": "Hello!"}],
    [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Bye"},
    ],
    [{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"}, {"role": "user", "content": "three"}],
]


@dataclass(frozen=True)
class ChatFamily:
    name: str
    marker: str  # text that identifies the family in a Jinja chat template
    stops: tuple[str, ...]
    turn: str  # one turn, with {role} and {content}
    generation_prompt: str

    def render(self, messages: list[dict], default_system: str | None) -> str:
        """What the Go template renders for these messages (system from .System, as Ollama does)."""
        system = next((m["content"] for m in messages if m["role"] == "system"), None) or default_system
        turns = [{"role": "system", "content": system}] if system else []
        turns += [m for m in messages if m["role"] != "system"]
        return "".join(self.turn.format(**m) for m in turns) + self.generation_prompt

    def go_template(self, default_system: str | None) -> str:
        system = self.turn.format(role="system", content="{{ .System }}")
        if default_system:
            system = (
                "{{ if .System }}" + system + "{{ else }}" + self.turn.format(role="system", content=default_system)
            )
        else:
            system = "{{ if .System }}" + system
        turn = self.turn.format(role="{{ .Role }}", content="{{ .Content }}")
        return (
            system
            + '{{ end }}{{ range .Messages }}{{ if ne .Role "system" }}'
            + turn
            + "{{ end }}{{ end }}"
            + self.generation_prompt
        )


FAMILIES = (
    ChatFamily(
        "chatml",
        "<|im_start|>",
        ("<|im_end|>", "<|im_start|>"),
        "<|im_start|>{role}\n{content}<|im_end|>\n",
        "<|im_start|>assistant\n",
    ),
    ChatFamily(
        "llama3",
        "<|start_header_id|>",
        ("<|eot_id|>", "<|start_header_id|>"),
        "<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>",
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    ),
)


def jinja(tokenizer, messages: list[dict]) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def default_system_prompt(tokenizer, family: ChatFamily) -> str | None:
    """The system prompt the Jinja template inserts when a conversation has none (SmolLM2 does)."""
    rendered = jinja(tokenizer, [{"role": "user", "content": PROBE}])
    head, _, _ = family.turn.partition("{content}")
    opening = head.format(role="system")
    if not rendered.startswith(opening):
        return None
    return rendered[len(opening) :].split(family.stops[0], 1)[0]


def translate_template(tokenizer) -> tuple[ChatFamily, str | None]:
    """The chat family whose Go template renders exactly what the Jinja template renders."""
    template = tokenizer.chat_template or ""
    for family in FAMILIES:
        if family.marker not in template:
            continue
        default = default_system_prompt(tokenizer, family)
        mismatches = [m for m in PROBE_CONVERSATIONS if jinja(tokenizer, m) != family.render(m, default)]
        if not mismatches:
            return family, default
        raise UserError(
            f"the chat template looks like {family.name} but renders differently from its Ollama "
            f"translation (e.g. for {mismatches[0]})",
            fix="serve the GGUF with llama.cpp (`tuneforge serve`), which uses the Jinja template itself",
        )
    raise UserError(
        f"no Ollama TEMPLATE translation for this model's chat template (known: {', '.join(f.name for f in FAMILIES)})",
        fix="drop `ollama` from export.formats and serve the GGUF with llama.cpp (`tuneforge serve`)",
    )


def quoted(text: str) -> str:
    if '"""' in text:
        raise UserError('a Modelfile value cannot contain """', fix="remove triple quotes from data.system_prompt")
    return f'"""{text}"""'


def load_generation_config(model_dir: Path):
    """The model's generation_config.json, or None where it has none."""
    from transformers import GenerationConfig

    try:
        return GenerationConfig.from_pretrained(str(model_dir))
    except OSError:
        return None


def end_of_turn_tokens(tokenizer, generation_config) -> list[str]:
    """The tokens that end the model's turn: the generation_config's EOS ids and the tokenizer's EOS. Each
    must be a stop, or Ollama generates through it (Qwen2.5 ends on <|endoftext|> as well as <|im_end|>)."""
    ids = getattr(generation_config, "eos_token_id", None)
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    ids += [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    return list(dict.fromkeys(tokenizer.decode([token], clean_up_tokenization_spaces=False) for token in ids))


def modelfile(
    tokenizer,
    gguf: str,
    system_prompt: str | None,
    num_ctx: int,
    adapter: str | None = None,
    end_tokens: tuple[str, ...] = (),
) -> str:
    family, default = translate_template(tokenizer)
    lines = [
        "# Written by `tuneforge export`; the TEMPLATE was checked against the model's chat template.",
        f"FROM ../{gguf}",
    ]  # Ollama resolves paths from the Modelfile's folder
    lines += [f"ADAPTER ../{adapter}"] if adapter else []
    lines.append(f"TEMPLATE {quoted(family.go_template(default))}")
    lines += [f"SYSTEM {quoted(system_prompt)}"] if system_prompt else []
    lines += [f'PARAMETER stop "{stop}"' for stop in dict.fromkeys([*family.stops, *end_tokens])]
    lines.append(f"PARAMETER num_ctx {num_ctx}")
    return "\n".join(lines) + "\n"


def write_modelfiles(folder: Path, merged: Path, recipe, gguf: str | None, lora: tuple[str, str] | None) -> Path:
    """folder/Modelfile for the merged GGUF and folder/Modelfile.lora for base + LoRA GGUF, whichever
    exist; written aside and renamed into place."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(merged))
    end_tokens = tuple(end_of_turn_tokens(tokenizer, load_generation_config(merged)))
    with atomic_folder(folder) as staging:
        for name, model, adapter in (("Modelfile", gguf, None), ("Modelfile.lora", *(lora or (None, None)))):
            if model:
                system, n_ctx = recipe.data.system_prompt, recipe.serve.n_ctx
                text = modelfile(tokenizer, model, system, n_ctx, adapter, end_tokens)
                (staging / name).write_text(text, encoding="utf-8")
    return folder
