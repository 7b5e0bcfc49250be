"""scripts/gpu_bench.sh runs end to end here in smoke mode (the GPU run itself needs a lent GPU). The
kit's wheels and pins: tests/unit/test_gpu_kit.py."""

from __future__ import annotations

import json
import re
import sys

import pytest

from helpers import make_wheel, run_gpu_bench

pytestmark = pytest.mark.integration


def test_gpu_bench_smoke_installs_the_kit_and_keeps_to_its_budget(tmp_path):
    """The script as it runs on the GPU machine, on this CPU: a kit for this Python installs with
    --target, tuneforge runs from that install, and a budget of 1 s runs one configuration and
    lists the other three as skipped."""
    kit = tmp_path / "kit"
    (kit / "wheels").mkdir(parents=True)
    make_wheel(kit / "wheels", {"kitprobe/__init__.py": b""}, name="kitprobe")
    (kit / "kit.json").write_text(json.dumps({"python": f"{sys.version_info[0]}.{sys.version_info[1]}"}))
    out = tmp_path / "out"
    done = run_gpu_bench(tmp_path, str(out), "--smoke", KIT=str(kit), BUDGET="1")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "kit installed into" in done.stdout
    payload = json.loads((out / "train.json").read_text())
    results = payload["results"]
    assert [(r["path"], r["packing"]) for r in results] == [
        ("tuneforge", False),
        ("baseline", False),
        ("tuneforge", True),
        ("baseline", True),
    ]
    assert "error" not in results[0] and results[0]["tokens_per_s"] > 0 and results[0]["unsloth_loaded"]
    assert all(r["skipped"] == "time budget of 1 s" for r in results[1:]) and payload["complete"]
    assert "cuda available: False" in (out / "gpu.txt").read_text()
    versions = (out / "versions.txt").read_text()
    assert re.search(r"tuneforge.train from .*/site/tuneforge/train/__init__.py", versions), versions
    assert "unsloth 2026.10.9" in versions
