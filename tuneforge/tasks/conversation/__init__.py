"""The conversation task: chat, ShareGPT and Alpaca data, learned as conversations.

Owns `format: chat | sharegpt | alpaca` (schema.py; the record readers are shared in
tuneforge/data/formats.py). Its measure is the held-out loss every run reports; the persona and
domain tasks add their own evaluations on top of these formats.
"""

from __future__ import annotations

from tuneforge.registry import Task
from tuneforge.tasks.conversation.schema import ConversationSection


class ConversationTask(Task):
    name = "conversation"

    def data_sections(self):
        return (ConversationSection,)
