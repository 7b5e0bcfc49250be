"""The GPU proof kit: trimmed wheels stay valid wheels, the kit pins what the training venv pins,
and scripts/gpu_bench.sh says what to do without a kit or a GPU. Its smoke run here (it trains):
tests/integration/test_gpu_kit_run.py; the GPU run itself needs a lent GPU."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from helpers import make_wheel, run_gpu_bench
from tuneforge.bench.gpu_kit import REPO, bitsandbytes_drops, repack_wheel, unsloth_drops
from tuneforge.bench.train import markdown


def test_repacked_wheel_installs_without_the_dropped_files_and_its_record_matches(tmp_path):
    source = make_wheel(
        tmp_path,
        {
            "demo/__init__.py": b"VALUE = 7\n",
            "demo/libdemo_cuda118.so": b"x" * 5000,
            "demo/libdemo_cuda130.so": b"keep",
        },
    )
    out = tmp_path / "out"
    out.mkdir()
    stats = repack_wheel(source, out / source.name, lambda name: name.endswith("cuda118.so"))
    assert stats == {"kept_files": 4, "dropped_files": 1, "dropped_bytes": 5000}
    with zipfile.ZipFile(out / source.name) as wheel:
        names = wheel.namelist()
        record = wheel.read("demo-1.0.dist-info/RECORD").decode().splitlines()
        for line in record:
            path, digest, size = line.rsplit(",", 2)
            if path.endswith("RECORD"):
                assert digest == size == ""
                continue
            data = wheel.read(path)
            assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert int(size) == len(data)
    assert "demo/libdemo_cuda118.so" not in names and len(record) == len(names)
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--target",
            str(target),
            str(out / source.name),
        ],
        check=True,
    )
    assert (target / "demo" / "libdemo_cuda130.so").read_bytes() == b"keep"
    assert not (target / "demo" / "libdemo_cuda118.so").exists()


def test_trim_rules_keep_what_training_on_cuda_13_loads():
    assert bitsandbytes_drops("bitsandbytes/libbitsandbytes_cuda128.so")
    assert bitsandbytes_drops("bitsandbytes/libbitsandbytes_rocm72.so")
    assert not bitsandbytes_drops("bitsandbytes/libbitsandbytes_cuda130.so")
    assert not bitsandbytes_drops("bitsandbytes/libbitsandbytes_cpu.so")
    assert not bitsandbytes_drops("bitsandbytes/nn/modules.py")
    assert unsloth_drops("studio/frontend/index.html") and not unsloth_drops("unsloth/models/llama.py")


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.split("#")[0].strip())
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def test_kit_pins_match_the_training_requirements():
    kit, train = pins(REPO / "requirements" / "gpu-kit.txt"), pins(REPO / "requirements" / "train.txt")
    shared = kit.keys() & train.keys()
    assert {"trl", "datasets", "bitsandbytes", "torchao"} <= shared
    assert {name: kit[name] for name in shared} == {name: train[name] for name in shared}
    setup = (REPO / "scripts" / "setup.sh").read_text()
    assert f"unsloth=={kit['unsloth']}" in setup and f"unsloth_zoo=={kit['unsloth-zoo']}" in setup
    machine = (REPO / "requirements" / "gpu-machine.txt").read_text().split()
    assert "torch" in machine and "transformers" in machine and kit.keys() & set(machine) == {"setuptools"}


def test_partial_table_says_so():
    row = {"path": "tuneforge", "shape": "smoke", "seq": 64, "packing": False, "skipped": "time budget of 5 s"}
    assert markdown([row], planned=4).startswith("**Partial: 1 of 4")
    assert "Partial" not in markdown([row], planned=1) and "skipped: time budget" in markdown([row], planned=1)


def test_gpu_bench_without_a_kit_or_a_gpu_says_what_to_do(tmp_path):
    done = run_gpu_bench(tmp_path, str(tmp_path / "out"), KIT=str(tmp_path / "missing"))
    assert done.returncode == 2 and "make gpu-kit" in done.stderr
    assert run_gpu_bench(tmp_path, str(tmp_path / "out"), "--bogus").returncode == 2
