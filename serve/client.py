"""Clients for any OpenAI-compatible endpoint: `tuneforge chat` and the connection `predict` uses.

    TUNEFORGE_API_KEY=KEY tuneforge chat http://127.0.0.1:8000/v1   # a running server (ours or any)
    tuneforge chat runs/quickstart/<run-id>                   # starts llama.cpp on the export

Given a run or export folder, a llama.cpp server is started on a free loopback port for the
session and stopped afterwards; the recipe's system prompt is then the default.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.serve.exports import find_export
from tuneforge.serve.server import Server, plan_launch
from tuneforge.targets import is_url

log = logging.getLogger(__name__)
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
EXIT_WORDS = {"exit", "quit", "/exit", "/quit"}


@dataclass
class Endpoint:
    client: object  # openai.OpenAI
    model: str
    system_prompt: str | None = None


@contextlib.contextmanager
def connect(
    target: str,
    *,
    runs_dir: Path,
    api_key: str | None = None,
    model: str | None = None,
    quant: str | None = None,
    max_retries: int = 3,
) -> Iterator[Endpoint]:
    """An endpoint for a URL, or a llama.cpp server started for the session on a run/export."""
    import openai

    if is_url(target):
        client = openai.OpenAI(base_url=target.rstrip("/"), api_key=api_key or "none", max_retries=max_retries)
        yield Endpoint(client, model or first_model(client, target))
        return
    export = find_export(target, runs_dir)
    launch = plan_launch(export, "llamacpp", quant=quant, port=0)
    with Server(launch, log_path=export.folder / "serve-llamacpp.log") as server:
        client = openai.OpenAI(base_url=server.launch.base_url, api_key="none", max_retries=max_retries)
        yield Endpoint(client, launch.model_name, export.recipe.data.system_prompt)


def first_model(client, url: str) -> str:
    import openai

    try:
        models = client.models.list().data
    except openai.AuthenticationError:
        raise UserError(
            f"{url} refused the request: wrong or missing API key", fix="set TUNEFORGE_API_KEY or pass --api-key-file"
        ) from None
    except openai.APIConnectionError:
        raise UserError(f"cannot reach {url}", fix="check the URL (it ends in /v1) and that the server runs") from None
    if not models:
        raise UserError(f"{url} serves no model", fix="pass --model NAME")
    return models[0].id


class ThinkFilter:
    """Drops `<think>…</think>` blocks from streamed text, even when a tag is split across chunks."""

    def __init__(self):
        self.pending, self.inside = "", False

    def feed(self, chunk: str) -> str:
        self.pending += chunk
        visible = []
        while True:
            tag = THINK_CLOSE if self.inside else THINK_OPEN
            at = self.pending.find(tag)
            if at >= 0:
                if not self.inside:
                    visible.append(self.pending[:at])
                self.pending, self.inside = self.pending[at + len(tag) :], not self.inside
                continue
            keep = partial_tag_length(self.pending, tag)  # a tag may be completed by the next chunk
            if not self.inside:
                visible.append(self.pending[: len(self.pending) - keep])
            self.pending = self.pending[len(self.pending) - keep :]
            return "".join(visible)

    def flush(self) -> str:
        rest, self.pending = ("" if self.inside else self.pending), ""
        return rest


def partial_tag_length(text: str, tag: str) -> int:
    """How many trailing characters of `text` could be the start of `tag`."""
    return next((n for n in range(min(len(tag) - 1, len(text)), 0, -1) if tag.startswith(text[-n:])), 0)


def strip_think(text: str) -> str:
    think = ThinkFilter()
    return (think.feed(text) + think.flush()).lstrip("\n")


def stream_reply(
    endpoint: Endpoint, messages: list[dict], write: Callable[[str], None], *, hide_think: bool, **sampling
) -> str:
    """Streams one assistant reply to `write`; returns the reply as kept in the history."""
    stream = endpoint.client.chat.completions.create(model=endpoint.model, messages=messages, stream=True, **sampling)
    think, parts = ThinkFilter(), []
    for chunk in stream:
        text = chunk.choices[0].delta.content if chunk.choices else None
        if text:
            parts.append(text)
            write(think.feed(text) if hide_think else text)
    if hide_think:
        write(think.flush())
    # Qwen3's template drops earlier turns' thinking too; the history keeps only the answer.
    return strip_think("".join(parts)) if hide_think else "".join(parts)


def chat_session(
    endpoint: Endpoint,
    read: Callable[[], str | None],
    write: Callable[[str], None],
    *,
    system: str | None,
    hide_think: bool,
    **sampling,
) -> list[dict]:
    """Multi-turn chat until `read` returns None or an exit word; returns the conversation."""
    messages = [{"role": "system", "content": system}] if system else []
    while (line := read()) is not None and line.strip().lower() not in EXIT_WORDS:
        if not line.strip():
            continue
        messages.append({"role": "user", "content": line})
        messages.append(
            {"role": "assistant", "content": stream_reply(endpoint, messages, write, hide_think=hide_think, **sampling)}
        )
        write("\n")
    return messages
