"""The import structure docs/architecture.md describes: layers and independence (import-linter's contracts in
pyproject.toml), no import cycle among our modules, and imports of our own modules kept at module top."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lint_imports", ROOT / "scripts" / "lint_imports.py")
lint_imports = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lint_imports)


@pytest.fixture(scope="module")
def view(tmp_path_factory) -> Path:
    return lint_imports.assemble(tmp_path_factory.mktemp("import-graph"))


def test_the_import_linter_contracts_hold(view):
    result = lint_imports.lint_contracts(view)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_import_cycle_and_few_imports_inside_functions(view):
    problems, figures = lint_imports.structure_report(view)
    assert problems == [], "\n".join(problems)
    assert figures["imports"] > 300  # the whole package was read, not an empty copy


def test_the_cycle_finder_finds_a_cycle_through_an_import_inside_a_function(tmp_path):
    package = tmp_path / "tuneforge"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "__init__.py").write_text("")
    (package / "data" / "a.py").write_text("from tuneforge.data.b import thing\n")
    (package / "data" / "b.py").write_text("def thing():\n    from tuneforge.data import a\n    return a\n")
    (package / "data" / "c.py").write_text("if TYPE_CHECKING:\n    from tuneforge.data.a import x\n")
    edges = list(lint_imports.own_imports(lint_imports.module_files(tmp_path)))
    assert ("tuneforge.data.b", "tuneforge.data.a", True) in edges
    assert not any(importer == "tuneforge.data.c" for importer, _, _ in edges)  # type-checking imports don't count
    assert lint_imports.import_cycles(edges) == [["tuneforge.data.a", "tuneforge.data.b"]]


def test_help_loads_no_training_stack():
    """`tuneforge --help` stays instant because the CLI's import path holds no heavy library (its time is measured
    in BENCHMARKS.md, "CLI start-up"): every command is listed, and torch and friends were never imported."""
    heavy = (
        "torch",
        "transformers",
        "trl",
        "unsloth",
        "datasets",
        "peft",
        "vllm",
        "llama_cpp",
        "matplotlib",
        "sklearn",
    )
    probe = (
        "import sys; from tuneforge.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "train" in result.stdout and "export" in result.stdout
    assert "LOADED []" in result.stdout, result.stdout
