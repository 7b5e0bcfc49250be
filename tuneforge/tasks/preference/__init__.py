"""The preference task: pairs of a better and a worse reply to the same prompt, learned with DPO.

Owns `format: preference` (schema.py, read by data.py). A sample is the prompt plus the chosen
reply (what the shared pipeline filters, splits and writes to RUN/data/), and carries the
rejected reply in its meta; `preference_dataset` turns a split into TRL's
{prompt, chosen, rejected} rows for the DPO trainer.
"""

from __future__ import annotations

from tuneforge.tasks import Task


class PreferenceTask(Task):
    name = "preference"

    def data_sections(self):
        from tuneforge.tasks.preference.schema import PreferenceSection

        return (PreferenceSection,)
