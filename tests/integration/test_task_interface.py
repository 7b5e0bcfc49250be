"""A new task from this file alone: its format, its metric and its command, trained and evaluated.

Nothing in tuneforge/ knows about "arithmetic": the task below is registered here, and the core
(recipe schema, reader, train, eval, CLI) picks it up through tuneforge.registry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import click
import pytest
from click.testing import CliRunner

from helpers import write_jsonl, write_recipe
from tuneforge.cli import main
from tuneforge.data.formats import Sample
from tuneforge.data.sources import read_records
from tuneforge.errors import ProblemCollector, UserError
from tuneforge.eval.generate import AdapterGenerator
from tuneforge.eval.kit import for_each_variant, held_out
from tuneforge.recipe.loading import load_recipe
from tuneforge.recipe.schema import DataSection, PositiveInt, Section
from tuneforge.registry import Task, register_task, unregister_task
from tuneforge.run_folder import RunFolder

pytestmark = pytest.mark.integration


class SumsSection(DataSection):
    """`format: sums`: {"a": int, "b": int} records; the answer is their sum."""

    format: Literal["sums"]
    """sums: two numbers per record."""

    def read(self, path: Path, problems: ProblemCollector) -> list:
        samples = []
        for where, record in read_records(path, problems):
            if not all(isinstance(record.get(key), int) for key in ("a", "b")):
                problems.add(f"{where}: needs integers 'a' and 'b'")
                continue
            answer = str(record["a"] + record["b"])
            messages = [
                {"role": "user", "content": f"{record['a']}+{record['b']}="},
                {"role": "assistant", "content": answer},
            ]
            samples.append(Sample(messages, where, meta={"answer": answer}))
        return samples


class ArithmeticEval(Section):
    """Exact-match share of the answers on the test split."""

    max_new_tokens: PositiveInt = 4
    """Longest answer generated."""


def exact_match(run, out_dir: Path) -> tuple[dict, str]:
    samples = held_out(run, "eval.arithmetic")
    generator = AdapterGenerator(run.path, run.manifest)
    answers = for_each_variant(
        lambda tuned: generator.generate(
            [s.messages[:-1] for s in samples], run.recipe.eval.arithmetic.max_new_tokens, use_adapter=tuned
        ),
        "adding",
    )
    shares = {
        variant: sum(a == s.meta["answer"] for a, s in zip(found, samples)) / len(samples)
        for variant, found in answers.items()
    }
    (out_dir / "sums.json").write_text(json.dumps({"answers": answers, "exact_match": shares}))
    return {"exact_match": shares, "items": len(samples)}, f"## Sums\n\nexact match: {shares}"


@click.command(name="sums-count")
@click.argument("run", type=click.Path(exists=True, path_type=Path))
def sums_count(run: Path) -> None:
    """How many test items the run holds."""
    click.echo(f"{len(RunFolder(run).split('test'))} test sums")


class ArithmeticTask(Task):
    name = "arithmetic"

    def data_sections(self):
        return (SumsSection,)

    def eval_section(self):
        return ArithmeticEval

    def check(self, recipe):
        if recipe.eval.arithmetic is not None and recipe.data.split.test == 0:
            return ["eval.arithmetic: needs a test split; set data.split.test"]
        return []

    def evaluate(self, run, out_dir):
        return exact_match(run, out_dir)

    def commands(self):
        return [(None, sums_count)]


@pytest.fixture
def arithmetic_task():
    register_task(ArithmeticTask())
    yield
    unregister_task("arithmetic")


def sums_recipe(tmp_path: Path, model_dir: Path, **split) -> Path:
    data = write_jsonl(tmp_path / "sums.jsonl", [{"a": a, "b": b} for a in range(8) for b in range(5)])
    return write_recipe(
        tmp_path / "sums.yaml",
        {
            "name": "sums",
            "model": {"base": str(model_dir), "max_seq_length": 96},
            "lora": {"r": 4, "alpha": 8},
            "data": {"format": "sums", "train": data.name, "split": {"val": 0.1, "test": 0.2, **split}},
            "train": {"max_steps": 2, "batch_size": 4, "grad_accum": 1, "eval_steps": None, "save_steps": 2},
            "eval": {"arithmetic": {"max_new_tokens": 3}},
        },
    )


def test_a_task_registered_by_a_test_trains_evaluates_and_adds_a_command(arithmetic_task, tiny_llama_dir, tmp_path):
    recipe = sums_recipe(tmp_path, tiny_llama_dir)
    trained = CliRunner().invoke(main, ["train", str(recipe), "--runs-dir", str(tmp_path / "runs")])
    assert trained.exit_code == 0, trained.output
    run = Path(trained.output.strip().splitlines()[-1])
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["metrics"]["global_step"] == 2 and manifest["data_splits"]["test"]["samples"] == 8

    evaluated = CliRunner().invoke(main, ["eval", str(run)])
    assert evaluated.exit_code == 0, evaluated.output
    results = json.loads((run / "eval" / "results.json").read_text())
    assert results["arithmetic"]["items"] == 8
    assert set(results["arithmetic"]["exact_match"]) == {"base", "tuned"}
    assert all(0.0 <= share <= 1.0 for share in results["arithmetic"]["exact_match"].values())
    assert "## Sums" in (run / "eval" / "report.md").read_text()
    assert (run / "eval" / "sums.json").is_file()

    counted = CliRunner().invoke(main, ["sums-count", str(run)])
    assert counted.exit_code == 0 and counted.output.strip() == "8 test sums"
    assert "sums-count" in CliRunner().invoke(main, ["--help"]).output


def test_the_new_task_s_schema_and_checks_come_with_it(arithmetic_task, tiny_llama_dir, tmp_path):
    recipe = sums_recipe(tmp_path, tiny_llama_dir, test=0.0)
    with pytest.raises(UserError) as error:
        load_recipe(recipe, ["eval.arithmetic.max_new_token=3", "data.split.val=0.0"])
    assert "eval.arithmetic.max_new_token: unknown key" in str(error.value)
    with pytest.raises(UserError) as error:
        load_recipe(recipe, ["data.split.val=0.0"])
    problems = error.value.problems
    assert "eval.arithmetic: needs a test split; set data.split.test" in problems
    assert any(p.startswith("eval.held_out_loss: needs a validation split") for p in problems)
    explained = CliRunner().invoke(main, ["recipes", "show", str(recipe), "--explain", "-o", "data.split.test=0.2"])
    assert explained.exit_code == 0, explained.output
    assert "eval.arithmetic.max_new_tokens = 3  [int; default 4]  Longest answer generated." in explained.output
    assert "data.format = sums  [one of: sums; required]  sums: two numbers per record." in explained.output


def test_without_the_task_its_format_is_refused(tiny_llama_dir, tmp_path):
    with pytest.raises(UserError, match=r"data.format: 'sums' is not a data format; use one of: chat, sharegpt"):
        load_recipe(sums_recipe(tmp_path, tiny_llama_dir))
