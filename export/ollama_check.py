"""The Ollama Modelfiles as written, checked on the run's own conversations: same prompt, and it stops.

Ollama cannot run here, so each written Modelfile is read back as Ollama's parser reads it
(export/modelfile.py) and its TEMPLATE rendered with Go's text/template semantics
(export/go_template.py) on the run's held-out conversations (test split, else validation, else
training; the turns before the last reply), with the data Ollama's chat endpoint gives it: the
conversation's system turns as .System (the SYSTEM line when it opens with none), every turn as
.Messages. The rendering, tokenized by the merged model's tokenizer, must give exactly the token ids
of the model's own chat template with the generation prompt. And Ollama must stop where the model's
turn ends: the text the chat template writes right after a reply, and the model's end-of-turn
tokens (tokenizer and generation_config EOS), must each begin with a PARAMETER stop.

A Modelfile that fails either fails the export (no export.json); one that passes gets its record in
export.json's `ollama` entry and a line in report.md.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.export.go_template import TemplateError, field_names, parse_template, render
from tuneforge.export.modelfile import Modelfile, ModelfileError, read_modelfile
from tuneforge.export.ollama import PROBE_CONVERSATIONS, end_of_turn_tokens, load_generation_config
from tuneforge.run_folder import RunFolder

log = logging.getLogger(__name__)
CHECKED_CONVERSATIONS = 16
CONTEXT_TOKENS = 6  # decoded tokens shown on each side of the first difference
REPLY_PROBE = "tuneforge-reply-probe"  # a reply whose end the chat template's rendering is searched for


@dataclass(frozen=True)
class HeldOut:
    source: str  # the sample's file:line
    messages: list[dict]  # its turns before the last reply


@dataclass(frozen=True)
class ModelfileCheck:
    """One Modelfile's result, as export.json records it."""

    conversations: int
    split: str
    tokens_identical: bool
    stops_covered: bool
    problems: list[str]


def prompt_turns(messages: list[dict]) -> list[dict] | None:
    """The turns before the last assistant turn (all of them when none is); None without a user turn."""
    last = max((index for index, m in enumerate(messages) if m["role"] == "assistant"), default=len(messages))
    prompt = messages[:last]
    return prompt if any(m["role"] == "user" for m in prompt) else None


def held_out_conversations(run: RunFolder, count: int = CHECKED_CONVERSATIONS) -> tuple[str, list[HeldOut]]:
    """The split they come from and the first `count` conversations of the first split that has one;
    tuneforge's probe conversations when the run has none."""
    split, samples = run.held_out_split()
    held = [HeldOut(sample.source, turns) for sample in samples if (turns := prompt_turns(sample.messages))]
    if held:
        return split, held[:count]
    return "probes", [HeldOut(f"probe {index + 1}", turns) for index, turns in enumerate(PROBE_CONVERSATIONS)]


def collate(messages: list[dict]) -> list[dict]:
    """Ollama's collate: consecutive turns of one role become one, joined by a blank line."""
    merged: list[dict] = []
    for message in messages:
        if merged and merged[-1]["Role"] == message["role"] and message["role"] != "tool":
            merged[-1]["Content"] += "\n\n" + message["content"]
        else:
            merged.append({"Role": message["role"], "Content": message["content"]})
    return merged


def ollama_data(modelfile: Modelfile, conversation: list[dict]) -> dict:
    """What Ollama's chat endpoint hands the TEMPLATE (server/routes.go, template.Execute): the MESSAGE
    turns first, the SYSTEM line as a first turn unless the conversation opens with a system turn, .System
    every system turn joined by a blank line, .Messages every turn collated."""
    messages = [*modelfile.messages, *conversation]
    if conversation[0]["role"] != "system" and modelfile.system:
        messages.insert(0, {"role": "system", "content": modelfile.system})
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    return {"System": system, "Messages": collate(messages), "Response": ""}


def first_difference(expected: list[int], actual: list[int]) -> int | None:
    """The first position where the two differ (the shorter one's length when one extends the other)."""
    if expected == actual:
        return None
    return next((i for i, (a, b) in enumerate(zip(expected, actual)) if a != b), min(len(expected), len(actual)))


def around(tokenizer, ids: list[int], index: int) -> str:
    """A few decoded tokens before `index`, then a few from it on (the text exactly, no clean-up)."""
    before = tokenizer.decode(ids[max(0, index - CONTEXT_TOKENS) : index], clean_up_tokenization_spaces=False)
    after = tokenizer.decode(ids[index : index + CONTEXT_TOKENS], clean_up_tokenization_spaces=False)
    return f"{before!r} then {after!r}"


def template_problem(template: str | None) -> str | None:
    """Why the TEMPLATE cannot be checked: missing, outside the rendered subset, or not a messages template."""
    if template is None:
        return "no TEMPLATE: Ollama would fall back to the GGUF's template or a bare prompt"
    try:
        names = {name.lower() for name in field_names(parse_template(template))}
    except TemplateError as error:
        return f"TEMPLATE: {error}"
    if "messages" not in names:
        return "TEMPLATE does not read .Messages: Ollama would render it turn by turn (.Prompt, .Response), unchecked"
    return None


def compare_prompts(modelfile: Modelfile, tokenizer, conversations: list[HeldOut]) -> list[str]:
    """The conversations whose Ollama prompt has other token ids than the chat template's, the first one shown."""
    if problem := template_problem(modelfile.template):
        return [problem]
    differing = []
    for held in conversations:
        expected = tokenizer.apply_chat_template(held.messages, add_generation_prompt=True, return_dict=False)
        try:
            text = render(modelfile.template, ollama_data(modelfile, held.messages))
        except TemplateError as error:
            return [f"TEMPLATE on {held.source}: {error}"]
        actual = tokenizer(text, add_special_tokens=False)["input_ids"]
        if (index := first_difference(expected, actual)) is not None:
            differing.append((held, index, expected, actual))
    if not differing:
        return []
    held, index, expected, actual = differing[0]
    return [
        f"TEMPLATE prompts {len(differing)} of {len(conversations)} conversations differently from the chat "
        f"template; first {held.source} at token {index}: the chat template has {around(tokenizer, expected, index)}, "
        f"the Modelfile {around(tokenizer, actual, index)}"
    ]


def reply_ending(tokenizer, prompt: list[dict]) -> str | None:
    """What the chat template writes right after an assistant reply: what the model learned to end a turn with."""
    rendered = tokenizer.apply_chat_template([*prompt, {"role": "assistant", "content": REPLY_PROBE}], tokenize=False)
    _, found, after = rendered.rpartition(REPLY_PROBE)
    return after if found else None


def begins_with_stop(text: str, stops: list[str]) -> bool:
    """Ollama cuts the reply where a stop appears: the end of a turn must begin with one, or text leaks before it."""
    return any(stop and text.startswith(stop) for stop in stops)


def stop_problems(modelfile: Modelfile, tokenizer, end_tokens: list[str], prompt: list[dict]) -> list[str]:
    stops, listed = modelfile.stops, ", ".join(repr(stop) for stop in modelfile.stops) or "none"
    ending = reply_ending(tokenizer, prompt)
    problems = [] if ending is not None else ["the chat template drops an assistant reply, so its ending is unknown"]
    if ending and ending.strip() and not begins_with_stop(ending, stops):
        problems.append(
            f"after a reply the chat template writes {ending!r}, which begins with no PARAMETER stop "
            f"({listed}): Ollama would generate past the end of the turn"
        )
    problems += [
        f"the end-of-turn token {token!r} is no PARAMETER stop ({listed}): Ollama would generate through it"
        for token in end_tokens
        if not begins_with_stop(token, stops)
    ]
    return problems


def missing_files(path: Path, modelfile: Modelfile) -> list[str]:
    """FROM and ADAPTER files that are not there (Ollama resolves them from the Modelfile's folder)."""
    named = [("FROM", value) for value in modelfile.values("model")]
    named += [("ADAPTER", value) for value in modelfile.values("adapter")]
    return [f"{key} {value}: no such file" for key, value in named if not (path.parent / value).is_file()]


def check_modelfile(
    path: Path, tokenizer, end_tokens: list[str], split: str, conversations: list[HeldOut]
) -> ModelfileCheck:
    """One written Modelfile against the chat template, on the given conversations."""
    try:
        modelfile = read_modelfile(path)
    except ModelfileError as error:
        return ModelfileCheck(len(conversations), split, False, False, [f"Ollama could not read it: {error}"])
    prompts = compare_prompts(modelfile, tokenizer, conversations)
    stops = stop_problems(modelfile, tokenizer, end_tokens, conversations[0].messages)
    problems = missing_files(path, modelfile) + prompts + stops
    return ModelfileCheck(len(conversations), split, not prompts, not stops, problems)


def check_modelfiles(folder: Path, merged: Path, run: RunFolder) -> dict[str, dict]:
    """Every Modelfile in `folder` checked against the merged model's chat template; export.json's record of
    them. Raises UserError naming each problem when one would prompt differently or not stop."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(merged))
    end_tokens = end_of_turn_tokens(tokenizer, load_generation_config(merged))
    split, conversations = held_out_conversations(run)
    checks = {
        path.name: check_modelfile(path, tokenizer, end_tokens, split, conversations)
        for path in sorted(folder.glob("Modelfile*"))
    }
    problems = [f"{folder.name}/{name}: {problem}" for name, check in checks.items() for problem in check.problems]
    if problems:
        raise UserError(
            "an Ollama Modelfile would not prompt or stop as the model was trained, so the export stops:",
            problems,
            fix="serve the GGUF with llama.cpp (`tuneforge serve`, which reads the chat template itself), or drop "
            "ollama from export.formats; report a Modelfile tuneforge wrote wrong with export/ollama/",
        )
    log.info("Ollama Modelfiles prompt as the chat template on %d %s conversations", len(conversations), split)
    return {name: asdict(check) for name, check in checks.items()}


def report_note(artifacts: dict) -> str:
    """report.md's paragraph on the checked Modelfiles ("" without them; a failed check stops the export)."""
    checks = artifacts.get("ollama", {}).get("checks")
    if not checks:
        return ""
    first = next(iter(checks.values()))
    return (
        f"\nOllama ({', '.join(checks)}): the TEMPLATE, rendered as Ollama renders it, gives the chat template's "
        f"exact tokens on {first['conversations']} {first['split']} conversations, and PARAMETER stop covers "
        "the end of a turn.\n"
    )
