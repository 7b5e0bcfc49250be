"""The Chat screen: serve an exported run, talk to it, compare two servers side by side, classify a text.

    GET  /chat                               the exported runs, the form to start a server, the chats
    POST /api/chat/servers                   {"run", "artifact", "backend"}: start `tuneforge serve` on it
    GET  /api/chat/servers                   every server (id, run, artifact, backend, port, state)
    GET  /api/chat/servers/{id}              one server, with its log tail while it starts or after it failed
    POST /api/chat/servers/{id}/stop         stop it (its whole process group)
    POST /api/chat/servers/{id}/chat         {"messages", "max_tokens", "temperature", "voice"}: the reply
                                             as Server-Sent Events (start, token..., end with finish_reason)
    POST /api/chat/classify                  {"run", "text"}: a classification run's label and probabilities

Replies come from the server's OpenAI-compatible API through the official `openai` client, as `tuneforge
chat` gets them. Labels come from the run itself in the studio's process (the adapter on its base model),
as `tuneforge predict` computes them for a classification run: the probabilities are the model's, over
the label set, not read off a reply.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from tuneforge.errors import UserError
from tuneforge.serve.exports import find_export
from tuneforge.studio.chat_servers import (
    ChatServer,
    choice_named,
    serve_choices,
    start_server,
    stop_all,
    stop_server,
    vllm_installed,
)
from tuneforge.studio.context import Studio, studio_of
from tuneforge.studio.pages import page
from tuneforge.studio.security import PathRefused, inside
from tuneforge.targets import EXPORT_MANIFEST
from tuneforge.tasks.classification.predict import Predictor

log = logging.getLogger(__name__)
router = APIRouter()
MAX_REPLY_TOKENS = 8192
ENDINGS = {"stop": "ended on its own", "length": "hit max_tokens"}


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run: str = Field(description="<recipe>/<run-id>")
    artifact: str = Field(description="a GGUF quant (q8_0 ...), adapter or merged")
    backend: Literal["llamacpp", "vllm"] = "llamacpp"


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[Message] = Field(min_length=1)
    max_tokens: int = Field(256, ge=1, le=MAX_REPLY_TOKENS)
    temperature: float = Field(0.7, ge=0, le=2)
    voice: Literal["tuned", "base"] = "tuned"


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run: str
    text: str = Field(min_length=1, max_length=20_000)


# ---------------------------------------------------------------- runs and servers


def run_folder(studio: Studio, run: str) -> Path:
    """The folder of "<recipe>/<run-id>", inside the runs folder (PathRefused, answered 404, otherwise)."""
    parts = run.split("/")
    if len(parts) != 2 or parts[0].startswith("."):
        raise PathRefused(run)
    folder = inside(studio.runs_dir, *parts)
    if not folder.is_dir():
        raise PathRefused(run)
    return folder


def exported_runs(studio: Studio, with_vllm: bool) -> list[dict]:
    """Every run with a finished export, newest first, with what can serve it (or why nothing can)."""
    found = []
    for manifest in studio.runs_dir.glob(f"*/*/export/{EXPORT_MANIFEST}"):
        run_dir = manifest.parent.parent
        if run_dir.parent.name.startswith("."):
            continue
        entry = {"run": f"{run_dir.parent.name}/{run_dir.name}", "recipe": run_dir.parent.name, "id": run_dir.name}
        try:
            export = find_export(str(run_dir), studio.runs_dir)
        except UserError as error:  # e.g. an export whose files changed since: shown, not served
            found.append(entry | {"choices": [], "problem": error.title, "classification": None})
            continue
        found.append(entry | {"choices": serve_choices(export, with_vllm), "problem": None} | classifier(export.recipe))
    return sorted(found, key=lambda entry: entry["id"], reverse=True)


def classifier(recipe) -> dict:
    is_classification = recipe.data.format == "classification"
    return {"classification": recipe.data.classification.labels if is_classification else None}


def server_of(studio: Studio, server_id: str) -> ChatServer:
    server = studio.servers.get(server_id)
    if server is None:
        raise HTTPException(404, f"no chat server {server_id!r} in this studio (it may have been stopped)")
    return server


def stop_all_servers(studio: Studio) -> list[str]:
    """Stops every chat server of the studio (when the studio stops); the ids of those stopped."""
    return stop_all(studio.servers)


@router.get("/chat")
def chat_page(request: Request):
    studio = studio_of(request)
    with_vllm = vllm_installed()
    return page(
        request,
        "chat.html",
        nav="chat",
        runs=exported_runs(studio, with_vllm),
        servers=[server.public() for server in list(studio.servers.values())],
        with_vllm=with_vllm,
    )


@router.post("/api/chat/servers")
def start(body: StartRequest, request: Request) -> dict:
    """Starts a server (or answers with the one already serving this run and artifact); the page then
    polls GET /api/chat/servers/{id} until its state is ready or failed."""
    studio = studio_of(request)
    run_dir = run_folder(studio, body.run)
    export = find_export(str(run_dir), studio.runs_dir)
    choice = choice_named(serve_choices(export, vllm_installed()), body.backend, body.artifact)
    for server in list(studio.servers.values()):  # a copy: another request may stop one meanwhile
        if (server.run, server.choice) == (body.run, choice) and server.current_state() in ("starting", "ready"):
            return server.public()
    server = start_server(studio.runs_dir, body.run, run_dir, export, choice)
    studio.servers[server.id] = server
    return server.public()


@router.get("/api/chat/servers")
def list_servers(request: Request) -> dict:
    return {"servers": [server.public() for server in list(studio_of(request).servers.values())]}


@router.get("/api/chat/servers/{server_id}")
def one_server(server_id: str, request: Request) -> dict:
    return server_of(studio_of(request), server_id).public()


@router.post("/api/chat/servers/{server_id}/stop")
def stop(server_id: str, request: Request) -> dict:
    studio = studio_of(request)
    server = server_of(studio, server_id)
    stop_server(server)
    studio.servers.pop(server_id, None)
    return server.public()


# ---------------------------------------------------------------- chat


@router.post("/api/chat/servers/{server_id}/chat")
def chat(server_id: str, body: ChatRequest, request: Request) -> StreamingResponse:
    server = server_of(studio_of(request), server_id)
    if server.current_state() != "ready":
        raise UserError(f"chat server {server_id} is {server.current_state()}, not ready", fix="start it again")
    if body.voice not in server.voices:
        raise UserError(
            f"chat server {server_id} has no {body.voice} model",
            fix="serve the run's adapter (base + LoRA) to compare base and tuned from one server",
        )
    return StreamingResponse(
        reply_events(server, body), media_type="text/event-stream", headers={"cache-control": "no-store"}
    )


def event(**fields) -> str:
    return f"data: {json.dumps(fields, ensure_ascii=False)}\n\n"


def reply_events(server: ChatServer, body: ChatRequest) -> Iterator[str]:
    """The reply as events: start, one per streamed piece of text, then end (finish_reason, timings) or
    error. A browser that goes away closes the generator, which closes the stream to the server."""
    import openai

    voice = server.voices[body.voice]
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=600)
    began, first, pieces, finish = time.perf_counter(), None, 0, None
    yield event(type="start", server=server.id, voice=body.voice, model=voice["model"])
    try:
        with client.chat.completions.create(
            model=voice["model"],
            messages=[message.model_dump() for message in body.messages],
            max_tokens=body.max_tokens,
            temperature=body.temperature,
            stream=True,
            extra_body=voice.get("extra_body"),
        ) as stream:
            for chunk in stream:
                choice = chunk.choices[0] if chunk.choices else None
                text = choice.delta.content if choice and choice.delta else None
                if text:
                    first = first or time.perf_counter() - began
                    pieces += 1
                    yield event(type="token", text=text)
                finish = (choice.finish_reason if choice else None) or finish
    except openai.APIError as error:
        yield event(type="error", error=f"the server refused or failed: {error.message}")
        return
    yield event(
        type="end",
        finish_reason=finish,
        ended=ENDINGS.get(finish, finish or "ended without a reason"),
        max_tokens=body.max_tokens,
        pieces=pieces,
        first_token_seconds=round(first, 3) if first is not None else None,
        seconds=round(time.perf_counter() - began, 3),
    )


# ---------------------------------------------------------------- classification

_predictor_lock = threading.Lock()
_predictor: dict = {}  # the one classification run whose model is loaded: {"run_dir": ..., "predictor": ...}


def predictor_for(run_dir: Path) -> Predictor:
    """The run's Predictor, kept loaded for the next text (one run at a time: a model is large)."""
    with _predictor_lock:
        if _predictor.get("run_dir") != run_dir:
            _predictor.clear()
            _predictor.update(run_dir=run_dir, predictor=Predictor(run_dir))
        return _predictor["predictor"]


@router.post("/api/chat/classify")
def classify(body: ClassifyRequest, request: Request) -> dict:
    """The label and its probabilities from `tuneforge predict`'s own Predictor, in this process."""
    run_dir = run_folder(studio_of(request), body.run)
    began = time.perf_counter()
    predictor = predictor_for(run_dir)
    with _predictor_lock:  # one text at a time through the one loaded model
        result = predictor.predict(body.text)
    return result | {
        "run": body.run,
        "seconds": round(time.perf_counter() - began, 3),
        "how": "scored in the studio's process with the run's adapter, as `tuneforge predict` does",
    }
