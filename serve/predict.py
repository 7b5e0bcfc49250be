"""`tuneforge predict`: batch generation against an OpenAI-compatible endpoint.

    tuneforge predict runs/quickstart/<run-id> --input prompts.jsonl --output answers.jsonl

Input lines are `{"id": ..., "messages": [...]}` or `{"id": ..., "prompt": "..."}` (`id`
defaults to the line number). Each answer is appended to the output and flushed as soon as
it arrives, so an interrupted run loses nothing; running the same command again skips the
ids already answered. Transient errors (connection, 429, 5xx) are retried by the client.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tuneforge.errors import ProblemCollector, UserError
from tuneforge.serve.client import Endpoint, strip_think

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictRequest:
    id: str
    messages: list[dict]


def read_requests(path: Path, system: str | None) -> list[PredictRequest]:
    """Every request in the file; every malformed line is reported as file:line, together."""
    if not path.is_file():
        raise UserError(f"input file {path}: no such file")
    problems, requests, seen = ProblemCollector(f"cannot read {path}"), [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        request = parse_request(line, number, system)
        if isinstance(request, str):
            problems.add(f"{path}:{number}: {request}")
        elif request.id in seen:
            problems.add(f"{path}:{number}: duplicate id {request.id!r}")
        else:
            seen.add(request.id)
            requests.append(request)
    problems.raise_if_any(
        fix='each line needs {"id": ..., "messages": [{"role": ..., "content": ...}]} or {"id": ..., "prompt": "..."}'
    )
    return requests


def parse_request(line: str, number: int, system: str | None) -> PredictRequest | str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return f"invalid JSON ({error.msg})"
    if not isinstance(record, dict):
        return "expected a JSON object"
    if isinstance(record.get("prompt"), str):
        messages = [{"role": "user", "content": record["prompt"]}]
    elif (
        isinstance(record.get("messages"), list)
        and all(
            isinstance(m, dict)
            and isinstance(m.get("content"), str)
            and m.get("role") in ("system", "user", "assistant")
            for m in record["messages"]
        )
        and record["messages"]
    ):
        messages = record["messages"]
    else:
        return 'needs "prompt" (a string) or "messages" (a list of {"role", "content"})'
    if system and messages[0]["role"] != "system":
        messages = [{"role": "system", "content": system}, *messages]
    return PredictRequest(str(record.get("id", number)), messages)


def answered_ids(output: Path) -> set[str]:
    """Ids already in the output. A last line cut off by a kill is removed so it is redone."""
    if not output.is_file():
        return set()
    data = output.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    if len(complete) != len(data):
        log.warning("%s: dropping an unfinished last line (interrupted write); it will be redone", output)
        with open(output, "r+b") as handle:
            handle.truncate(len(complete))
    return {json.loads(line)["id"] for line in complete.decode("utf-8").splitlines() if line.strip()}


class AnswerLog:
    """Appends one JSON line per answer, flushed and synced so that a kill loses none."""

    def __init__(self, output: Path):
        output.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(output, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())

    def write(self, record: dict) -> None:
        self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


def answer(endpoint: Endpoint, request: PredictRequest, hide_think: bool, sampling: dict) -> dict:
    reply = endpoint.client.chat.completions.create(model=endpoint.model, messages=request.messages, **sampling)
    text = reply.choices[0].message.content or ""
    return {
        "id": request.id,
        "output": strip_think(text) if hide_think else text,
        "finish_reason": reply.choices[0].finish_reason,
        "model": reply.model,
        "usage": reply.usage.model_dump() if reply.usage else None,
    }


def predict(
    endpoint: Endpoint,
    requests: list[PredictRequest],
    output: Path,
    *,
    concurrency: int = 8,
    hide_think: bool = False,
    **sampling,
) -> dict:
    """Answers every request not yet in `output`; returns counts. Raises if any request failed."""
    from tqdm.auto import tqdm

    done = answered_ids(output)
    todo = [request for request in requests if request.id not in done]
    log.info(
        "%d requests: %d already answered in %s, %d to go", len(requests), len(requests) - len(todo), output, len(todo)
    )
    answers, failures = AnswerLog(output), {}
    pool = ThreadPoolExecutor(max_workers=concurrency)
    try:
        with tqdm(total=len(todo), unit="req") as bar:
            futures = {pool.submit(answer, endpoint, request, hide_think, sampling): request for request in todo}
            for future in as_completed(futures):
                try:
                    answers.write(future.result())
                except Exception as error:  # noqa: BLE001 (reported below; answered ones are kept)
                    failures[futures[future].id] = f"{type(error).__name__}: {error}"
                bar.update()
    finally:
        # On Ctrl-C, queued requests are dropped at once; every finished answer is already on disk.
        pool.shutdown(wait=False, cancel_futures=True)
        answers.close()
    if failures:
        first = next(iter(failures.items()))
        raise UserError(
            f"{len(failures)} of {len(todo)} requests failed after retries (first: id {first[0]}: {first[1]})",
            fix="run the same command again: answered ids are kept and only the rest are retried",
        )
    return {"requests": len(requests), "skipped": len(requests) - len(todo), "answered": len(todo)}
