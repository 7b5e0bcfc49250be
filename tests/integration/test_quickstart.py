"""The quickstart recipe on the embedded model, shortened: trained through the CLI (the
embedded_run fixture), then evaluated."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tuneforge.cli import main

pytestmark = pytest.mark.integration


def test_quickstart_trains_and_evaluates(embedded_run):
    run_dir, runs = embedded_run, embedded_run.parent.parent
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["base_model"]["kind"] == "embedded"
    assert manifest["data"]["loaded"] >= 200  # the shipped persona dataset
    evaluated = CliRunner().invoke(main, ["eval", "quickstart", "--runs-dir", str(runs)])
    assert evaluated.exit_code == 0, evaluated.output
    results = json.loads((run_dir / "eval" / "results.json").read_text())
    assert results["held_out_loss"]["before"] > 0 and results["held_out_loss"]["after"] > 0
    for condition in ("with_system_prompt", "without_system_prompt"):
        scores = results["persona"][condition]
        assert scores["base"]["replies"] == scores["tuned"]["replies"] == 24
        assert len(scores["samples"]) == 24 and all(s["tuned"] is not None for s in scores["samples"])
    assert (run_dir / "eval" / "persona.png").read_bytes()[:4] == b"\x89PNG"
    assert "Persona on unseen prompts" in (run_dir / "eval" / "report.md").read_text()
