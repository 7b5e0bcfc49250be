"""`tuneforge train` through click's runner past the dry run: malformed data stops it before a run
folder exists. The rest of the CLI: tests/unit/test_cli.py."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from helpers import write_jsonl, write_recipe
from tuneforge.cli import main

pytestmark = pytest.mark.integration


def test_malformed_data_stops_before_any_run_folder_exists(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "a", "output": "b"}, "{oops", {"instruction": "x"}])
    recipe = write_recipe(tmp_path / "r.yaml", {"name": "r", "data": {"format": "alpaca", "train": data.name}})
    result = CliRunner().invoke(main, ["train", str(recipe), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    assert "d.jsonl:2: invalid JSON" in result.output and "d.jsonl:3: missing field 'output'" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "runs").exists()
