"""A new training method from this file alone: its settings section, the data it trains on and its trainer,
trained through `tuneforge train` and explained by `tuneforge recipes show --explain`.

Nothing in tuneforge/ knows about "simpo": the method below (SimPO, through TRL's CPOTrainer with its
SimPO loss) is registered here, and the core (recipe schema and checks, train, CLI) picks it up through
tuneforge.registry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, ClassVar

import pytest
from click.testing import CliRunner
from pydantic import Field

from helpers import preference_recipe
from tuneforge.cli import main
from tuneforge.data.rows import preference_rows
from tuneforge.errors import UserError
from tuneforge.recipe.loading import load_recipe
from tuneforge.recipe.schema import Section
from tuneforge.registry import Method, register_method, unregister_method
from tuneforge.train.job import TrainingJob
from tuneforge.train.methods.rows import row_trainer

pytestmark = pytest.mark.integration


class SimPOSection(Section):
    """Simple preference optimization (TRL's CPOTrainer, SimPO loss): raise the length-normalized
    log-probability of chosen over rejected replies by a margin, without a reference model."""

    beta: Annotated[float, Field(gt=0)] = 2.0
    """Scale of the length-normalized log-probability that serves as the reward."""
    gamma: Annotated[float, Field(ge=0)] = 0.5
    """Target reward margin between the chosen and the rejected reply."""


class SimPO(Method):
    name: ClassVar[str] = "simpo"
    settings: ClassVar[type[Section]] = SimPOSection
    formats: ClassVar[tuple[str, ...]] = ("preference",)

    def build_trainer(self, job: TrainingJob):
        from trl.experimental.cpo import CPOConfig, CPOTrainer

        settings = self.settings_of(job.recipe)
        config = {"loss_type": "simpo", "cpo_alpha": 0.0, "beta": settings.beta, "simpo_gamma": settings.gamma}
        return row_trainer(job, CPOTrainer, CPOConfig, config, preference_rows)


@pytest.fixture
def simpo_method():
    register_method(SimPO())
    yield
    unregister_method("simpo")


def simpo_recipe(tmp_path: Path, model_dir: Path) -> Path:
    return preference_recipe(
        tmp_path, model_dir, method="simpo", max_steps=2, save_steps=2, lr=5e-2, simpo={"gamma": 0.8}
    )


def test_a_method_registered_by_a_test_trains_through_the_cli(simpo_method, tiny_llama_dir, tmp_path):
    from safetensors.torch import load_file

    trained = CliRunner().invoke(
        main, ["train", str(simpo_recipe(tmp_path, tiny_llama_dir)), "--runs-dir", str(tmp_path / "runs")]
    )
    assert trained.exit_code == 0, trained.output
    run = Path(trained.output.strip().splitlines()[-1])
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["effective"]["method"] == "simpo"
    assert manifest["metrics"]["global_step"] == 2 and manifest["metrics"]["held_out_loss_after"] is not None
    weights = load_file(run / "adapter" / "adapter_model.safetensors")
    lora_b = [tensor for name, tensor in weights.items() if "lora_B" in name]
    assert lora_b and all(tensor.abs().sum() > 0 for tensor in lora_b), "LoRA B starts at zero; training moved it"


def test_the_new_method_s_settings_are_explained_and_checked(simpo_method, tiny_llama_dir, tmp_path):
    recipe = simpo_recipe(tmp_path, tiny_llama_dir)
    explained = CliRunner().invoke(main, ["recipes", "show", str(recipe), "--explain"])
    assert explained.exit_code == 0, explained.output
    lines = explained.output.splitlines()
    assert any(line.startswith("train.simpo:  Simple preference optimization") for line in lines), explained.output
    assert "train.simpo.gamma = 0.8  [float; default 0.5]  Target reward margin between the chosen" in explained.output
    assert "train.simpo.beta = 2.0  [float; default 2.0]  Scale of the length-normalized" in explained.output
    with pytest.raises(UserError, match="train.simpo.gama: unknown key"):
        load_recipe(recipe, ["train.simpo.gama=1.0"])
    with pytest.raises(UserError, match="train.method: simpo trains on data.format preference, not sharegpt"):
        load_recipe("quickstart", ["train.method=simpo"])


def test_without_the_method_its_name_and_section_are_refused(tiny_llama_dir, tmp_path):
    with pytest.raises(UserError) as error:
        load_recipe(simpo_recipe(tmp_path, tiny_llama_dir))
    problems = error.value.render()
    assert "train.method" in problems and "train.simpo: unknown key" in problems
