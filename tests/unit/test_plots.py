"""A plot never fails the work it reports on: any failure to draw, matplotlib's import included, is a
warning naming the plot (tuneforge.plots.reporting_plot), every plot site goes through it, and no module a
training process imports loads matplotlib. A whole training run with a broken matplotlib:
tests/integration/test_best_checkpoint_run.py."""

from __future__ import annotations

import ast
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = ("tuneforge", "train", "export", "serve")


def broken_matplotlib(folder: Path) -> Path:
    """Fault injection of a real failure: a `matplotlib` package, first on the path, whose import raises what
    matplotlib's font extension raised in the rank-0 process of a two-process training run."""
    package = folder / "matplotlib"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('raise ImportError("initialization failed")\n')
    return folder


def test_a_plot_whose_matplotlib_import_fails_is_a_warning_naming_it(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text("".join(json.dumps({"step": s, "loss": 1.0 / s}) + "\n" for s in (1, 2, 3)))
    probe = (
        "import logging, sys\n"
        "from pathlib import Path\n"
        "logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format='%(levelname)s %(message)s')\n"
        "from tuneforge.train.callbacks import plot_loss\n"
        "from tuneforge.tasks.classification.evaluate import plot_confusion\n"
        f"folder = Path({str(tmp_path)!r})\n"
        "print('RESULT', plot_loss(folder / 'metrics.jsonl', folder / 'loss.png'),"
        " plot_confusion(folder / 'confusion_matrix.png', ['a', 'b'], [[1, 0], [0, 1]]))\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(broken_matplotlib(tmp_path / "faults"))}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr
    assert "RESULT None None" in result.stdout
    for plot in ("loss.png", "confusion_matrix.png"):
        assert f"WARNING could not draw {tmp_path / plot} (ImportError: initialization failed)" in result.stdout
    assert sorted(path.name for path in tmp_path.iterdir()) == ["faults", "metrics.jsonl"]


def test_a_figure_that_cannot_be_written_is_a_warning_and_leaves_no_staging_file(tmp_path, caplog):
    from tuneforge.tasks.classification.evaluate import plot_confusion

    unwritable = tmp_path / "gone" / "confusion_matrix.png"  # its folder does not exist: savefig raises
    with caplog.at_level(logging.WARNING, logger="tuneforge.plots"):
        assert plot_confusion(unwritable, ["a", "b"], [[1, 0], [0, 1]]) is None
    assert f"could not draw {unwritable} (FileNotFoundError" in caplog.text
    assert list(tmp_path.iterdir()) == []


def functions_calling(name: str, tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            calls = [n for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
            if any(call.func.id == name for call in calls):
                yield node


def test_every_function_that_writes_a_figure_is_a_reporting_plot():
    sites, undecorated = [], []
    for folder in SOURCE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "tuneforge" / "plots.py":
                continue
            for function in functions_calling("save_figure", ast.parse(path.read_text(encoding="utf-8"))):
                sites.append(f"{path.relative_to(ROOT)}:{function.name}")
                decorators = [d.id for d in function.decorator_list if isinstance(d, ast.Name)]
                if "reporting_plot" not in decorators:
                    undecorated.append(sites[-1])
    assert len(sites) >= 8, sites  # the loss plot and every task's evaluation plots were found
    assert undecorated == [], f"decorate these with tuneforge.plots.reporting_plot: {undecorated}"


def test_no_module_of_a_training_process_imports_matplotlib_when_imported():
    """Only the rank-0 process draws loss.png; the others must never load matplotlib, so nothing imported to
    train may import it at module level (the methods, the launcher, the engine, the callbacks, the CLI)."""
    probe = (
        "import sys\n"
        "from tuneforge.builtins import register_builtins\n"
        "register_builtins()\n"
        "import tuneforge.cli, tuneforge.train.finetune, tuneforge.train.launch, tuneforge.train.callbacks\n"
        "import tuneforge.train.methods.sft, tuneforge.train.methods.dpo, tuneforge.train.methods.orpo\n"
        "import tuneforge.train.methods.kto, tuneforge.train.methods.grpo, tuneforge.train.best_checkpoint\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout
