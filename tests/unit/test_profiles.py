"""Recipe profiles: a shipped recipe's `cpu` profile gives exactly the recipe its make target trained with
the Makefile's own overrides, and the make targets train through the profiles, not through -o."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tuneforge.errors import UserError
from tuneforge.recipe.loading import load_recipe, read_yaml, recipe_to_yaml, shipped_recipes

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = ROOT / "Makefile"
EMBEDDED = "embedded:smollm2-135m-instruct"

# The overrides each make target passed before the recipes had profiles, as that Makefile's CPU_* variables
# held them: the reference each cpu profile must reproduce.
CPU = "-o model.base=embedded:smollm2-135m-instruct"
MAKEFILE_OVERRIDES = {
    "roleplay": f"""{CPU} -o model.max_seq_length=320 -o train.max_steps=36 -o train.batch_size=4
        -o train.grad_accum=1 -o train.lr=1e-3 -o train.eval_steps=18 -o train.save_steps=18
        -o lora.target_modules=[q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj]""",
    "sentiment": f"{CPU} -o train.max_steps=40 -o train.lr=1e-3 -o train.eval_steps=20 -o train.save_steps=20",
    "roleplay-dpo": f"""{CPU} -o model.max_seq_length=320 -o train.max_steps=40 -o train.lr=2e-5
        -o train.eval_steps=20 -o train.save_steps=20""",
    "domain": f"""{CPU} -o model.max_seq_length=384 -o train.max_steps=60 -o train.batch_size=4 -o train.grad_accum=1
        -o train.lr=1e-3 -o train.eval_steps=30 -o train.save_steps=30 -o eval.domain.max_samples=24
        -o eval.domain.max_new_tokens=112 -o eval.domain.batch_size=12""",
    "translation": f"""{CPU} -o model.max_seq_length=128 -o train.max_steps=60 -o train.global_batch_size=8
        -o train.lr=2e-3 -o train.optim=auto -o train.eval_steps=30 -o train.save_steps=30
        -o eval.translation.max_samples=8 -o eval.translation.max_new_tokens=48""",
    "translation-grpo": f"""{CPU} -o model.max_seq_length=128 -o train.max_steps=40 -o train.batch_size=8
        -o train.grad_accum=1 -o train.lr=2e-4 -o train.optim=auto -o train.logging_steps=2 -o train.eval_steps=null
        -o train.save_steps=20 -o train.grpo.num_generations=4 -o train.grpo.max_completion_length=48
        -o train.grpo.eval_prompts=32 -o eval.translation.max_samples=8 -o eval.translation.max_new_tokens=48""",
    "style": f"""{CPU} -o model.load_in_4bit=auto -o model.max_seq_length=384 -o train.optim=auto
        -o train.precision=auto -o train.gradient_checkpointing=auto -o data.markdown.chunk_min_tokens=64
        -o data.markdown.chunk_max_tokens=160 -o data.split.val=0.2 -o train.max_steps=40 -o train.batch_size=4
        -o train.grad_accum=1 -o train.lr=1e-3 -o train.warmup_ratio=0.05 -o train.eval_steps=20
        -o train.save_steps=20 -o eval.style.max_samples=24 -o eval.style.max_new_tokens=120""",
}

# Second stages continue their first stage's run: make passes -o model.adapter=<that run> beside the profile.
FIRST_STAGES = {"roleplay-dpo": "roleplay", "translation-grpo": "translation"}


def override_list(options: str) -> list[str]:
    """["key=value", ...] from a string of `-o key=value` options."""
    words = shlex.split(options)
    assert words[::2] == ["-o"] * (len(words) // 2), options
    return words[1::2]


def adapter_overrides(name: str, tmp_path: Path) -> list[str]:
    """For a second stage, -o model.adapter=<a complete run of its first stage>: a folder that has what
    recipe validation asks of one (adapter/adapter_config.json) and a manifest that says complete."""
    if name not in FIRST_STAGES:
        return []
    run = tmp_path / "runs" / FIRST_STAGES[name] / "20260101-000000"
    (run / "adapter").mkdir(parents=True)
    (run / "adapter" / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 16}))
    (run / "manifest.json").write_text(json.dumps({"status": "complete", "recipe": FIRST_STAGES[name]}))
    return [f"model.adapter={run}"]


def profiles_of(name: str) -> dict:
    return read_yaml(shipped_recipes()[name]).get("profiles") or {}


@pytest.mark.parametrize("name", sorted(MAKEFILE_OVERRIDES))
def test_cpu_profile_gives_the_recipe_of_the_makefile_overrides(name: str, tmp_path: Path):
    adapter = adapter_overrides(name, tmp_path)
    from_profile, _ = load_recipe(name, overrides=adapter, profile="cpu")
    from_overrides, _ = load_recipe(name, overrides=[*override_list(MAKEFILE_OVERRIDES[name]), *adapter])
    resolved = recipe_to_yaml(from_profile)
    assert resolved == recipe_to_yaml(from_overrides)
    assert from_profile.model.base == EMBEDDED
    assert "profiles" not in yaml.safe_load(resolved)


def test_overrides_apply_after_the_profile():
    recipe, _ = load_recipe("sentiment", overrides=["train.max_steps=5"], profile="cpu")
    assert recipe.train.max_steps == 5 and recipe.model.base == EMBEDDED


def test_an_unknown_profile_names_the_recipes_profiles():
    with pytest.raises(UserError, match="cpu"):
        load_recipe("sentiment", profile="gpu-huge")


@pytest.mark.parametrize("name", sorted(shipped_recipes()))
def test_every_profile_of_a_shipped_recipe_validates(name: str, tmp_path: Path):
    for profile in profiles_of(name):
        load_recipe(name, overrides=adapter_overrides(name, tmp_path), profile=profile)


def make_targets() -> list[str]:
    return re.findall(r"^([a-z][\w-]*):(?!=)", MAKEFILE.read_text(), re.M)


def dry_run(target: str) -> list[str]:
    """The commands `make TARGET` runs (setup left out), as make prints them."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        [make, "--no-print-directory", "-n", "-o", "setup", target, "RUNS=runs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.replace("\\\n", " ").splitlines()  # a command continued over lines is one command


def tuneforge_commands(target: str) -> list[tuple[str, str, list[str]]]:
    """(command, recipe, its words) for each `tuneforge train|data inspect|data build-style` that TARGET runs."""
    found = []
    for line in dry_run(target):
        for command in re.split(r"&&|;", line):
            words = shlex.split(command.replace("$", ""))
            at = next((i for i, word in enumerate(words) if word.endswith("/tuneforge")), None)
            if at is None:
                continue
            rest = words[at + 1 :]
            if rest[:1] == ["train"]:
                found.append(("train", rest[1], rest))
            elif rest[:2] == ["data", "inspect"]:
                found.append(("data inspect", rest[2], rest))
            elif rest[:2] == ["data", "build-style"]:
                recipe = rest[rest.index("--recipe") + 1] if "--recipe" in rest else "style"
                found.append(("data build-style", recipe, rest))
    return found


RECIPE_TARGETS = sorted(set(make_targets()) & set(shipped_recipes()))


def test_every_shipped_recipe_with_a_cpu_profile_has_a_make_target():
    with_profile = {name for name in shipped_recipes() if "cpu" in profiles_of(name)}
    assert with_profile == set(MAKEFILE_OVERRIDES), "a cpu profile needs its reference overrides above"
    assert with_profile <= set(RECIPE_TARGETS)


def trains_on_the_cpu_as_written(name: str) -> bool:
    model = read_yaml(shipped_recipes()[name]).get("model") or {}
    return model.get("base", EMBEDDED) == EMBEDDED


@pytest.mark.parametrize("target", RECIPE_TARGETS)
def test_make_targets_train_on_the_cpu_through_the_recipes_cpu_profile(target: str):
    commands = tuneforge_commands(target)
    assert any(command == "train" and recipe == target for command, recipe, _ in commands), commands
    for command, recipe, words in commands:
        if trains_on_the_cpu_as_written(recipe):
            continue  # quickstart: the recipe as written is the CPU one
        assert ("--profile", "cpu") in zip(words, words[1:]), f"make {target}: {command} {recipe} lacks --profile cpu"
        assert "cpu" in profiles_of(recipe), f"make {target}: {recipe}.yaml has no cpu profile"


def recipe_lines(text: str) -> list[str]:
    """The Makefile's command lines: a target's tab-indented lines and the bodies of `define` macros."""
    lines, in_define = [], False
    for line in text.splitlines():
        in_define = (in_define or line.startswith("define ")) and line != "endef"
        if line.startswith("\t") or (in_define and not line.startswith(("define ", "#"))):
            lines.append(line)
    return lines


def test_makefile_passes_no_overrides_but_the_first_stage_run():
    text = MAKEFILE.read_text()
    assert not re.search(r"^CPU\w* *:?=", text, re.M), "CPU_* override variables are back in the Makefile"
    options = [value for line in recipe_lines(text) for value in re.findall(r"(?<!\S)(?:-o|--override)[ =](\S+)", line)]
    assert options, "no -o found: the parser misses the second stages' -o model.adapter"
    assert all(value.startswith("model.adapter=") for value in options), options
