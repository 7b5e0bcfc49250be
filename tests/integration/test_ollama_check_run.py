"""The Ollama Modelfile check through real exports of tiny runs: its record in export.json and
report.md, damaged copies of the exported Modelfiles caught, and an export refused whose Modelfile
would prompt differently from the chat template on the run's own conversations. The parser, renderer
and check on their own: tests/unit/test_ollama_check.py and tests/unit/test_ollama.py."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from helpers import sharegpt_records, tiny_recipe, write_jsonl
from tuneforge.cli import main
from tuneforge.errors import UserError
from tuneforge.export.ollama_check import check_modelfiles
from tuneforge.recipe.loading import load_recipe
from tuneforge.run_folder import RunFolder

pytestmark = pytest.mark.integration
OLLAMA_EXPORT = ["--format", "merged,gguf,ollama,lora-gguf", "--quant", "q8_0", "--no-eval"]
# ChatML whose turns trim their content, as Llama 3's template does: Go templates cannot trim, so the
# translation prompts differently wherever a turn starts or ends with whitespace.
TRIMMING_CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + "
    "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_export_checks_its_modelfiles_and_catches_damaged_copies(tiny_trained_run, tmp_path):
    run = shutil.copytree(tiny_trained_run, tmp_path / "run")
    result = CliRunner().invoke(main, ["export", str(run), *OLLAMA_EXPORT])
    assert result.exit_code == 0, result.output
    out = run / "export"
    checks = json.loads((out / "export.json").read_text())["artifacts"]["ollama"]["checks"]
    held_out = len(RunFolder(run).split("val"))  # the tiny recipe holds out validation samples only
    assert held_out > 0
    expected = {"conversations": held_out, "split": "val", "tokens_identical": True, "stops_covered": True}
    assert checks == {"Modelfile": {**expected, "problems": []}, "Modelfile.lora": {**expected, "problems": []}}
    assert "Ollama (Modelfile, Modelfile.lora): the TEMPLATE, rendered as Ollama renders it" in (
        out / "report.md"
    ).read_text(encoding="utf-8")

    damaged = shutil.copytree(out / "ollama", out / "ollama-damaged")  # beside the GGUFs its FROM lines name
    edit(damaged / "Modelfile", "{{ .Role }}\n", "{{ .Role }}")
    edit(damaged / "Modelfile.lora", 'PARAMETER stop "<|im_end|>"\n', "")
    with pytest.raises(UserError, match="an Ollama Modelfile would not prompt or stop") as caught:
        check_modelfiles(damaged, out / "merged", RunFolder(run))
    modelfile, *lora = caught.value.problems
    assert modelfile.startswith(
        f"ollama-damaged/Modelfile: TEMPLATE prompts {held_out} of {held_out} conversations differently"
    )
    assert "<|im_start|>user' then 'What is" in modelfile  # the Modelfile's side: no newline after the role
    assert lora == [
        "ollama-damaged/Modelfile.lora: after a reply the chat template writes '<|im_end|>\\n', which begins with "
        "no PARAMETER stop ('<|im_start|>'): Ollama would generate past the end of the turn",
        "ollama-damaged/Modelfile.lora: the end-of-turn token '<|im_end|>' is no PARAMETER stop ('<|im_start|>'): "
        "Ollama would generate through it",
    ]


@pytest.fixture
def trimming_run(tiny_llama_dir, tmp_path):
    """A 2-step run of the tiny model with a chat template that trims each turn, on conversations whose
    questions end in a newline (as pasted text often does)."""
    from tuneforge.train.finetune import train_recipe

    base = shutil.copytree(tiny_llama_dir, tmp_path / "trimming-base")
    (base / "chat_template.jinja").write_text(TRIMMING_CHATML, encoding="utf-8")
    recipe_path = tiny_recipe(tmp_path, base, max_steps=2, eval_steps=None, save_steps=2)
    records = sharegpt_records(24)
    for record in records:
        record["conversations"][1]["value"] += "\n"
    write_jsonl(tmp_path / "data.jsonl", records)
    recipe, source = load_recipe(recipe_path)
    return train_recipe(recipe, source, tmp_path / "runs", resume="none")


def test_an_export_whose_modelfile_would_prompt_differently_is_refused(trimming_run):
    result = CliRunner().invoke(main, ["export", str(trimming_run), *OLLAMA_EXPORT])
    assert result.exit_code == 2, result.output
    assert "an Ollama Modelfile would not prompt or stop as the model was trained" in result.output
    assert "ollama/Modelfile: TEMPLATE prompts" in result.output and "Traceback" not in result.output
    # The chat template trimmed the question's newline; the Modelfile keeps it.
    assert "?' then '<|im_end|>\\n<|im_start|>assistant\\n', the Modelfile '" in result.output, result.output
    assert "?' then '\\n<|im_end|>\\n<|im_start|>assistant'" in result.output
    assert not (trimming_run / "export" / "export.json").exists()  # nothing looks complete
