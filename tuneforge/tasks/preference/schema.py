"""Recipe schema of the preference task: `format: preference` (pairs) and `format: kto` (marked replies)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from tuneforge.errors import ProblemCollector
from tuneforge.recipe.schema import DataSection, PositiveInt, Section
from tuneforge.tasks.preference.data import load_marked, load_pairs, pair_rejection


class PreferenceSection(DataSection):
    """Preference data for train.method dpo, orpo (pairs) and kto (marked replies); docs/data-formats.md."""

    FIELDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "preference": ("prompt", "chosen", "rejected"),
        "kto": ("prompt", "completion", "label"),
    }

    format: Literal["preference", "kto"]
    """preference: {"prompt", "chosen", "rejected"}, each a string or a message list, or chosen / rejected as
    whole conversations sharing their first turns (the Anthropic-HH and UltraFeedback layouts), whose
    shared turns become the prompt. kto: {"prompt", "completion", "label": true | false}."""

    def read(self, path: Path, problems: ProblemCollector) -> list:
        loader = load_pairs if self.format == "preference" else load_marked
        return loader(path, self.system_prompt, problems, self.columns)

    def rejection_reason(self, sample) -> str | None:
        return pair_rejection(sample)


class PreferenceEval(Section):
    """How often the model ranks the chosen reply above the rejected one on held-out pairs, by
    log-probability, base vs tuned."""

    max_pairs: PositiveInt | None = 200
    """Held-out pairs scored (the test split, else the validation split); None: all of them."""
