"""Recipe schema of the preference task: `format: preference`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from tuneforge.errors import ProblemCollector
from tuneforge.recipe import DataSection


class PreferenceSection(DataSection):
    """Preference pairs for train.method: dpo (README: Data formats)."""

    format: Literal["preference"]
    """{"prompt", "chosen", "rejected"}, each a string or a message list; or chosen / rejected as whole
    conversations sharing their first turns (the Anthropic-HH and UltraFeedback layouts), whose shared
    turns become the prompt."""

    def read(self, path: Path, problems: ProblemCollector) -> list:
        from tuneforge.tasks.preference.data import load_pairs

        return load_pairs(path, self.system_prompt, problems)

    def rejection_reason(self, sample) -> str | None:
        from tuneforge.tasks.preference.data import pair_rejection

        return pair_rejection(sample)
