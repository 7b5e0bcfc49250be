"""Recipe schema of the prompts task: `format: prompts`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from tuneforge.errors import ProblemCollector
from tuneforge.recipe.schema import DataSection
from tuneforge.tasks.prompts.data import load_prompts


class PromptsSection(DataSection):
    """Prompts for train.method grpo; docs/data-formats.md."""

    format: Literal["prompts"]
    """prompts: {"prompt": a string or a message list, ...any fields the rewards read, e.g. "reference" or "label"}."""

    def read(self, path: Path, problems: ProblemCollector) -> list:
        return load_prompts(path, self.system_prompt, problems, self.columns)
