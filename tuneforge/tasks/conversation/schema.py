"""Recipe schema of the conversation task: `format: chat | sharegpt | alpaca`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from tuneforge.data.formats import load_samples
from tuneforge.errors import ProblemCollector
from tuneforge.recipe.schema import DataSection


class ConversationSection(DataSection):
    """Conversations in one of the usual layouts (docs/data-formats.md)."""

    FIELDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "chat": ("messages",),
        "sharegpt": ("conversations",),
        "alpaca": ("instruction", "input", "output", "system"),
    }

    format: Literal["chat", "sharegpt", "alpaca"]
    """chat: {"messages": [{role, content}]}; sharegpt: {"conversations": [{from, value}]};
    alpaca: {"instruction", "input", "output"}."""

    def read(self, path: Path, problems: ProblemCollector) -> list:
        return load_samples([path], self.format, self.system_prompt, problems, self.columns)
