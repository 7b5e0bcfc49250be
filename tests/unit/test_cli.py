"""The CLI through click's runner: help everywhere, clean errors with exit 2, dry runs."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
import yaml
from click.testing import CliRunner

from helpers import write_jsonl, write_recipe
from tuneforge.cli import main


def all_commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,)
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path", [()] + list(all_commands(main)), ids=lambda p: " ".join(p) or "tuneforge")
def test_help_on_every_command(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from click.testing import CliRunner; from tuneforge.cli import main; "
        "CliRunner().invoke(main, ['--help']); "
        "heavy = [m for m in ('torch', 'transformers', 'unsloth', 'trl', 'llama_cpp') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bad_recipe_exits_2_with_every_problem_and_no_traceback(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "a", "output": "b"}])
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {"name": "r", "data": {"format": "alpaca", "train": data.name}, "lora": {"r": 0, "alphaa": 3}},
    )
    result = CliRunner().invoke(main, ["train", str(recipe), "--dry-run", "-o", "train.lr=fast"])
    assert result.exit_code == 2
    assert "lora.r" in result.output and "lora.alphaa: unknown key" in result.output and "train.lr" in result.output
    assert "Traceback" not in result.output


def test_dry_run_prints_the_resolved_recipe_with_overrides():
    result = CliRunner().invoke(main, ["train", "quickstart", "--dry-run", "-o", "train.lr=5e-4"])
    assert result.exit_code == 0, result.output
    assert "lr: 0.0005" in result.output and "name: quickstart" in result.output


def test_recipes_list_show_validate():
    runner = CliRunner()
    listed = runner.invoke(main, ["recipes", "list"])
    assert listed.exit_code == 0 and "quickstart" in listed.output
    shown = runner.invoke(main, ["recipes", "show", "quickstart"])
    assert shown.exit_code == 0 and "target_modules" in shown.output  # defaults filled in
    validated = runner.invoke(main, ["recipes", "validate"])
    assert validated.exit_code == 0 and "ok      quickstart" in validated.output


def test_a_profile_applies_before_the_overrides_and_leaves_no_trace():
    result = CliRunner().invoke(main, ["train", "sentiment", "--dry-run", "--profile", "cpu", "-o", "train.lr=5e-4"])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["model"]["base"] == "embedded:smollm2-135m-instruct" and shown["train"]["max_steps"] == 40
    assert shown["train"]["lr"] == 0.0005 and "profiles" not in shown  # -o wins over the profile
    unknown = CliRunner().invoke(main, ["data", "inspect", "sentiment", "--profile", "tpu"])
    assert unknown.exit_code == 2 and "no profile 'tpu'" in unknown.output and "cpu" in unknown.output


def test_recipes_show_lists_the_profiles_unless_one_is_applied():
    shown = CliRunner().invoke(main, ["recipes", "show", "sentiment"])
    assert shown.exit_code == 0, shown.output
    listed = shown.output[shown.output.index("# profiles (--profile NAME):") :].splitlines()[1:]
    assert len(listed) == 2 and listed[0].startswith("#   cpu: ") and "model.base" in listed[0]
    assert listed[1].startswith("#   cpu-qwen: ") and "embedded:qwen2.5-coder-0.5b-instruct" in listed[1]
    assert "profiles" not in yaml.safe_load(shown.output)  # the listing is YAML comments: still a recipe
    applied = CliRunner().invoke(main, ["recipes", "show", "sentiment", "--profile", "cpu"])
    assert applied.exit_code == 0 and "# profiles" not in applied.output
    assert yaml.safe_load(applied.output)["train"]["max_steps"] == 40


def test_recipes_validate_checks_every_profile_as_its_own_entry(tmp_path):
    validated = CliRunner().invoke(main, ["recipes", "validate", "sentiment", "quickstart"])
    assert validated.exit_code == 0, validated.output
    assert validated.output.splitlines() == [
        "ok      sentiment",
        "ok      sentiment --profile cpu",
        "ok      sentiment --profile cpu-qwen",
        "ok      quickstart",
    ]
    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "a", "output": "b"}])
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {"name": "r", "data": {"format": "alpaca", "train": data.name}, "profiles": {"bad": {"lora.r": 0}}},
    )
    result = CliRunner().invoke(main, ["recipes", "validate", str(recipe)])
    assert result.exit_code == 2 and f"ok      {recipe}\ninvalid {recipe} --profile bad" in result.output
    assert "1 recipe(s) failed validation" in result.output and "lora.r" in result.output


def test_eval_prints_a_summary_table_and_where_the_results_are(tmp_path, monkeypatch):
    from tuneforge.cli import run_commands

    results = {"run": str(tmp_path), "recipe": "demo", "held_out_loss": {"before": 2.5, "after": 1.25}}

    def evaluate_run(run_dir, overrides):
        (run_dir / "eval").mkdir()
        (run_dir / "eval" / "results.json").write_text(json.dumps(results, indent=2))
        return run_dir / "eval"

    monkeypatch.setattr(run_commands, "resolve_run", lambda run, runs_dir: tmp_path)
    monkeypatch.setattr(run_commands, "evaluate_run", evaluate_run)
    result = CliRunner().invoke(main, ["eval", "demo"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "held_out_loss" in line)
    assert "2.5" in row and "1.25" in row and "metric" in result.output and "tuned" in result.output
    assert f"full results: {tmp_path / 'eval' / 'results.json'}" in result.output
    assert f"report: {tmp_path / 'eval' / 'report.md'}" in result.output
    assert '"before"' not in result.output and '"recipe"' not in result.output  # not the results.json itself


def test_validate_reports_bad_recipes_with_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad Name\n")
    result = CliRunner().invoke(main, ["recipes", "validate", str(bad)])
    assert result.exit_code == 2 and "data: required key is missing" in result.output and "name" in result.output


def test_eval_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = CliRunner().invoke(main, ["eval", str(tmp_path)])
    assert result.exit_code == 2 and "not a tuneforge run" in result.output


def test_data_inspect_prints_the_data_report():
    result = CliRunner().invoke(main, ["data", "inspect", "quickstart", "-o", "data.split.val=0.1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report["loaded"] == 378 and report["kept"] == 378
    assert report["splits"]["val"] == 38 and report["splits"]["train"] == 340


def test_api_key_comes_from_a_file_or_the_environment_never_a_flag(tmp_path, monkeypatch):
    import click

    from tuneforge.cli.serve_commands import read_api_key

    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    monkeypatch.setenv("TUNEFORGE_API_KEY", "from-env")
    assert read_api_key(None, None, key_file) == "from-file" and read_api_key(None, None, None) == "from-env"
    (tmp_path / "empty").write_text("")
    with pytest.raises(click.BadParameter, match="empty"):
        read_api_key(None, None, tmp_path / "empty")
    result = CliRunner().invoke(main, ["serve", "x", "--api-key", "secret"])
    assert result.exit_code == 2 and "No such option '--api-key'" in result.output


def test_runs_list_and_latest_name_the_newest_complete_run(tmp_path):
    runs = tmp_path / "runs"
    for run_id, status, steps in (("20261201-100000", "complete", 36), ("20261201-110000", "failed", None)):
        folder = runs / "roleplay" / run_id
        folder.mkdir(parents=True)
        manifest = {
            "status": status,
            "effective": {"method": "sft"},
            "metrics": {"global_step": steps} if steps else {},
        }
        (folder / "manifest.json").write_text(json.dumps(manifest))
    listed = CliRunner().invoke(main, ["runs", "list", "roleplay", "--runs-dir", str(runs)])
    assert listed.exit_code == 0, listed.output
    assert [line.split()[1:] for line in listed.output.splitlines()] == [
        ["complete", "sft", "steps", "36"],
        ["failed", "sft", "steps", "-"],
    ]
    latest = CliRunner().invoke(main, ["runs", "latest", "roleplay", "--runs-dir", str(runs)])
    assert latest.exit_code == 0 and latest.output.strip() == str((runs / "roleplay" / "20261201-100000").resolve())
    missing = CliRunner().invoke(main, ["runs", "latest", "translation", "--runs-dir", str(runs)])
    assert missing.exit_code == 2 and "no complete run of recipe 'translation'" in missing.output


def test_every_package_is_in_the_wheel():
    """pyproject lists the packages by name: a new package missing there works in the editable .venv
    and fails in a wheel install (the GPU kit's)."""
    from pathlib import Path

    import tomllib

    root = Path(__file__).resolve().parents[2]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for top in ("tuneforge", "train", "export", "serve"):
        for init in (root / top).rglob("__init__.py"):
            parts = init.parent.relative_to(root).parts  # train/... installs as tuneforge.train...
            found.add(".".join(parts if top == "tuneforge" else ("tuneforge", *parts)))
    assert found - listed == set()
