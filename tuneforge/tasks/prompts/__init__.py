"""Prompts for GRPO: what the model is asked, plus the fields its rewards read.

Owns `format: prompts` (schema.py, read by data.py). GRPO also takes every other task's samples as
prompts: the last reply of a sample becomes its `reference`, and the task's own fields (a
classification label) come along (tuneforge.data.rows.prompt_rows), so a translation or
classification recipe can say `train.method: grpo` as it is.
"""

from __future__ import annotations

from tuneforge.registry import Task
from tuneforge.tasks.prompts.schema import PromptsSection


class PromptsTask(Task):
    name = "prompts"

    def data_sections(self):
        return (PromptsSection,)
