"""Builders shared by the tests (both tiers): tiny random-weight models, small data files and task
recipes, a scripted judge server, and runners for the benchmark CLI and scripts/gpu_bench.sh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TINY_SHAPES = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    max_position_embeddings=512,
    tie_word_embeddings=True,
)


def build_tiny_model(arch: str, tokenizer, folder: Path) -> Path:
    """A 2-layer model of the given architecture with random weights and the embedded tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen3Config

    config_class = {"llama": LlamaConfig, "qwen3": Qwen3Config}[arch]
    config = config_class(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **TINY_SHAPES,
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def write_jsonl(path: Path, records: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records),
        encoding="utf-8",
    )
    return path


def sharegpt_records(count: int) -> list[dict]:
    """Small, distinct two-turn conversations that a tiny model can overfit in a few steps."""
    return [
        {
            "id": f"c{i}",
            "conversations": [
                {"from": "system", "value": "You are Captain Test."},
                {"from": "human", "value": f"What is {i} plus {i}?"},
                {"from": "gpt", "value": f"Ahoy! {i} plus {i} is {2 * i}."},
                {"from": "human", "value": "Thanks!"},
                {"from": "gpt", "value": "Fair winds!"},
            ],
        }
        for i in range(count)
    ]


def write_recipe(path: Path, body: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def tiny_recipe(tmp_path: Path, model_dir: Path, **train) -> Path:
    """A recipe that trains a tiny model on 24 short conversations in seconds.

    4-bit loading and Unsloth's gradient checkpointing are forced on, so the GPU code path is
    what runs here on the CPU ("auto" would turn both off without a GPU)."""
    data = write_jsonl(tmp_path / "data.jsonl", sharegpt_records(24))
    settings = {
        "max_steps": 6,
        "batch_size": 4,
        "grad_accum": 1,
        "lr": 5e-3,
        "logging_steps": 1,
        "eval_steps": 3,
        "save_steps": 3,
        "save_total_limit": 2,
        "warmup_ratio": 0.0,
        "gradient_checkpointing": "unsloth",
        **train,
    }
    return write_recipe(
        tmp_path / "tiny.yaml",
        {
            "name": "tiny",
            "model": {"base": str(model_dir), "max_seq_length": 128, "load_in_4bit": True},
            "lora": {"r": 8, "alpha": 16},
            "data": {"format": "sharegpt", "train": data.name, "split": {"val": 0.2}},
            "train": settings,
        },
    )


# ---------------------------------------------------------------- task recipes shared by the unit and integration tiers

CLASSIFICATION_LABELS = ["negative", "positive"]


# The 4-step schedule of the tiny task runs (classification, translation).
TINY_TASK_TRAIN = {
    "max_steps": 4,
    "batch_size": 8,
    "grad_accum": 1,
    "lr": 5e-3,
    "eval_steps": None,
    "save_steps": 4,
    "warmup_ratio": 0.0,
}


def classification_recipe(tmp_path: Path, model: str, records: list, **extra) -> Path:
    data = write_jsonl(tmp_path / "reviews.jsonl", records)
    body = {
        "name": "tinysent",
        "model": {"base": model, "max_seq_length": 128},
        "lora": {"r": 8, "alpha": 16},
        "data": {
            "format": "classification",
            "train": data.name,
            "system_prompt": "Classify.",
            "classification": {"labels": CLASSIFICATION_LABELS},
            "split": {"val": 0.1, "test": 0.2},
        },
        "train": dict(TINY_TASK_TRAIN),
        "eval": {"classification": {"batch_size": 8}},
        **extra,
    }
    return write_recipe(tmp_path / "tinysent.yaml", body)


TRANSLATION_SYSTEM = "You are a precise and helpful multilingual translation assistant."


def write_corpus(folder: Path, files: dict[str, list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return folder


def parallel_recipe(tmp_path: Path, folder: Path, model: str = "embedded:smollm2-135m-instruct", **extra) -> Path:
    body = {
        "name": "tinytranslate",
        "model": {"base": model, "max_seq_length": 128},
        "lora": {"r": 8, "alpha": 16},
        "data": {
            "format": "parallel",
            "train": str(folder),
            "system_prompt": TRANSLATION_SYSTEM,
            "split": {"val": 0.1, "test": 0.2},
        },
        "train": dict(TINY_TASK_TRAIN),
        "eval": {"translation": {"max_samples": 3, "max_new_tokens": 6, "batch_size": 4}},
        **extra,
    }
    return write_recipe(tmp_path / "tinytranslate.yaml", body)


# ---------------------------------------------------------------- a scripted LLM judge (tests/unit/test_domain.py)

GOOD_VERDICT = {
    "reasoning": "Matches the reference.",
    "accuracy": 4,
    "completeness": 3,
    "fluency": 5,
    "professionalism": 4,
    "overall": 4,
}


class FakeJudgeServer:
    """A tiny OpenAI chat-completions endpoint that answers from a script.

    Why not a real model: no model can be made to emit invalid JSON (or a 500) on demand, and the
    retry and failure counting must be tested deterministically. The real judge runs against a
    llama.cpp server in tests/integration/test_domain_judge.py."""

    def __init__(self, replies: list):
        self.replies, self.requests = list(replies), []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                self._send(
                    200,
                    {
                        "object": "list",
                        "data": [{"id": "fake-judge", "object": "model", "created": 0, "owned_by": "test"}],
                    },
                )

            def do_POST(self):  # noqa: N802
                owner.requests.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                reply = owner.replies.pop(0) if owner.replies else json.dumps(GOOD_VERDICT)
                if isinstance(reply, int):  # an HTTP status to fail with
                    self._send(reply, {"error": {"message": "scripted failure", "type": "server_error"}})
                    return
                self._send(
                    200,
                    {
                        "id": "c",
                        "object": "chat.completion",
                        "created": 0,
                        "model": "fake-judge",
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply}}
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

            def _send(self, status: int, payload: dict):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------- per-artifact task metrics


def assert_served_like_the_adapter(adapter: dict, served: dict, texts: str) -> None:
    """A served F16 GGUF against the fp32 adapter in process (one task's results of `evaluate_artifacts`):
    greedy decoding of the same weights gives the same texts (`texts` names the list), but for one where
    two candidate tokens lie within f16 rounding of each other; with every text the same, the same value."""
    import pytest

    assert served["metric"] == adapter["metric"] and served["samples"] == adapter["samples"] > 0
    same = sum(a == b for a, b in zip(adapter[texts], served[texts]))
    assert same >= len(served[texts]) - 1, (adapter[texts], served[texts])
    if same == len(served[texts]):
        assert served["value"] == pytest.approx(adapter["value"]) and served["drop"] == pytest.approx(0)


# ---------------------------------------------------------------- benchmarks and the GPU kit


def run_bench(args: list[str]) -> str:
    from click.testing import CliRunner

    from tuneforge.bench.cli import bench

    result = CliRunner().invoke(bench, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def make_wheel(folder: Path, files: dict[str, bytes], name: str = "demo", version: str = "1.0") -> Path:
    from tuneforge.bench.gpu_kit import record_line

    dist_info = f"{name}-{version}.dist-info"
    files = {
        **files,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [record_line(path, data) for path, data in files.items()] + [f"{dist_info}/RECORD,,"]
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as out:
        for path, data in files.items():
            out.writestr(path, data)
        out.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


def run_gpu_bench(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    from tuneforge.bench.gpu_kit import REPO

    environment = {**os.environ, "PYTHON": sys.executable, **env}
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "gpu_bench.sh"), *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=900,
    )


# ---------------------------------------------------------------- distributed runs (tests/integration/test_distributed_run.py)


def full_precision_recipe(tmp_path: Path, name: str, model_dir: Path, data: dict, train: dict, **sections) -> Path:
    """A recipe of the tiny model in full precision with a small LoRA (the CPU path, no 4-bit)."""
    return write_recipe(
        tmp_path / f"{name}.yaml",
        {
            "name": name,
            "model": {"base": str(model_dir), "max_seq_length": 128, "load_in_4bit": False},
            "lora": {"r": 8, "alpha": 16},
            "data": data,
            "train": {"lr": 5e-3, "logging_steps": 1, "eval_steps": None, "warmup_ratio": 0.0, **train},
            **sections,
        },
    )


def distributed_recipe(tmp_path: Path, model_dir: Path, **train) -> Path:
    """A recipe whose runs give the same result on 1 or 2 processes: 24 training and 6 validation
    conversations (both divide evenly over 2 ranks, so no rank pads its share) and a global batch
    of 4, which is 2 per forward pass on 2 processes or 2 x 2 accumulated on one."""
    data = write_jsonl(tmp_path / "data.jsonl", sharegpt_records(30))
    schedule = {"max_steps": 12, "batch_size": 2, "global_batch_size": 4, "save_steps": 6, "save_total_limit": 4}
    data_section = {"format": "sharegpt", "train": data.name, "split": {"val": 0.2}}
    return full_precision_recipe(tmp_path, "dist", model_dir, data_section, {**schedule, **train})


# ---------------------------------------------------------------- preference pairs (DPO)


def pair_records(count: int) -> list[dict]:
    """In-character vs generic-assistant replies in the three layouts the reader takes, plus one
    identical pair (dropped and counted)."""
    records = [
        {
            "prompt": f"What is {i} plus {i}?",
            "chosen": f"Ahoy! {i} plus {i} be {2 * i}, matey.",
            "rejected": f"As an AI language model, I can tell you that {i} plus {i} is {2 * i}.",
        }
        for i in range(count)
    ]
    records.append(
        {
            "chosen": [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Ahoy there, matey!"}],
            "rejected": [
                {"role": "user", "content": "Hi!"},
                {"role": "assistant", "content": "Hello. How can I help?"},
            ],
        }
    )
    records.append({"prompt": "Same?", "chosen": "Aye.", "rejected": "Aye."})
    return records


def marked_records(count: int) -> list[dict]:
    """Single replies marked good (in character) or bad (a generic assistant), for format kto."""
    good = [
        {"prompt": f"What is {i} plus {i}?", "completion": f"Ahoy! {2 * i}, matey.", "label": True}
        for i in range(count)
    ]
    bad = [
        {"prompt": f"What is {i} times 2?", "completion": f"As an AI, {2 * i}.", "label": False} for i in range(count)
    ]
    return good + bad


def preference_recipe(tmp_path: Path, model_dir: Path, data_format: str = "preference", **train) -> Path:
    records = pair_records(30) if data_format == "preference" else marked_records(16)
    data = write_jsonl(tmp_path / f"{data_format}.jsonl", records)
    method = {"preference": "dpo", "kto": "kto"}[data_format]
    schedule = {"method": method, "max_steps": 8, "batch_size": 4, "grad_accum": 1, "save_steps": 8}
    data_section = {"format": data_format, "train": data.name, "split": {"val": 0.2}}
    evaluation = {"eval": {"preference": {"max_pairs": 50}}}
    return full_precision_recipe(tmp_path, "pairs", model_dir, data_section, {**schedule, **train}, **evaluation)


# ---------------------------------------------------------------- `tuneforge compare` on a task's real evaluation


def assert_compares_with_itself(run: Path, artifact: str | None = None) -> dict:
    """`tuneforge compare RUN RUN` through the CLI, on `tuneforge eval`'s results or on an artifact's (evaluated
    first where they are missing): every test item paired, none changed, every interval [0, 0]; and each
    task's items recompute the metrics its evaluation reported (its compared_items reads what the evaluation
    wrote). Returns the comparison."""
    import pytest
    from click.testing import CliRunner

    from tuneforge.cli import main
    from tuneforge.evaluate.artifact import evaluate_artifacts
    from tuneforge.evaluate.compare import read_results, read_side, task_items
    from tuneforge.evaluate.run import evaluate_run

    if not (run / "eval" / "results.json").is_file():
        evaluate_run(run)
    if artifact and not (run / "eval" / "artifacts" / f"{artifact.replace(':', '-')}.json").is_file():
        evaluate_artifacts(run, [artifact])
    out = run / "compare" / f"self-{(artifact or 'eval').replace(':', '-')}.json"
    chosen = ["--artifact", artifact] if artifact else []
    result = CliRunner().invoke(main, ["compare", str(run), str(run), "--json", str(out), *chosen])
    assert result.exit_code == 0, result.output
    comparison = json.loads(out.read_text())
    for task, section in comparison["tasks"].items():
        assert section["paired"] and section["items"]["b"] > 0, (task, section["note"])
        assert section["improved_count"] == section["worsened_count"] == 0, task
    for row in comparison["metrics"]:
        assert row["difference"] in (0, None), row
        assert row["interval"] is None or row["interval"]["low"] == row["interval"]["high"] == 0, row
    side = read_side(run)
    read_results(side, artifact)
    for task in side.tasks:
        found = task_items(task, side, artifact)
        everything = list(range(len(found.items)))
        for metric in found.metrics:
            if metric.on_items is not None and metric.value is not None:
                assert metric.on_items(everything) == pytest.approx(metric.value, rel=1e-6, abs=1e-9), metric.name
    return comparison
