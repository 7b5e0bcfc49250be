"""What changed since a run's checkpoint, and which of those changes a resumed session may carry.

`tuneforge train --resume` compares the run's resolved recipe (its recipe.resolved.yaml) with the one given
now, key by key: both flattened to dotted keys and compared as parsed values, so an older file's order of
keys does not matter. It compares what the run recorded about its training beyond the recipe (`trained_with`,
tuneforge.train.fingerprint) with the same facts now, too. A change is safe where SAFE_CHANGES names its key or
a section above it, and no extra condition of that key refuses it. Every other change would make the rest of
the run train something else than the checkpoint's first part did (another shape of adapter, other data,
another optimizer), and is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Keys (or whole sections) that may change between two sessions of a run, and why each is safe. A fact of
# tuneforge.train.fingerprint is a key here too. Any key not named, nor under a section named, is refused.
SAFE_CHANGES = {
    "description": "a line for `tuneforge recipes list`; training never reads it",
    "train.max_steps": "the schedule is rebuilt for the new length and goes on from the checkpoint's step "
    "(refused when it ends at or before that step: nothing would be left to train)",
    "train.epochs": "as train.max_steps, where the epochs decide the length",
    "train.logging_steps": "how often the loss is written down, not what a step computes",
    "train.eval_steps": "how often the held-out measure is taken, not what a step computes",
    "train.save_steps": "how often a checkpoint is written",
    "train.save_total_limit": "how many checkpoints are kept",
    "train.report_to": "which trackers see the metrics (metrics.jsonl has them all)",
    "train.early_stopping": "when the run may stop early, not what a step computes",
    "train.distributed.timeout_s": "how long a collective may wait, not what it computes",
    "train.distributed.strategy": "what it becomes on this many processes is compared as the fact `strategy`",
    "train.batch_size": "samples per forward pass; the samples per optimizer step are compared as `global_batch`",
    "train.grad_accum": "forward passes per optimizer step; the samples per step are compared as `global_batch`",
    "train.global_batch_size": "compared as what it gives, the fact `global_batch`",
    "world_size": "checkpoints hold whole state dicts, and the sampler and the derived accumulation keep the "
    "data order while `global_batch` stays the same (compared on its own)",
    "strategy": "single, ddp and fsdp2 checkpoints are whole state dicts that each of them loads "
    "(refused to or from deepspeed, whose checkpoints only DeepSpeed loads)",
    "eval": "read by `tuneforge eval` and the held-out measure, never by an optimizer step",
    "export": "read by `tuneforge export` after training",
    "serve": "read by serve, chat and predict after training",
}


def _still_to_train(old: Any, new: Any, step: int) -> str | None:
    if isinstance(new, int) and new <= step:
        return f"the checkpoint is at step {step}: {new} steps leave nothing to train"
    return None


def _whole_state_dicts(old: Any, new: Any, step: int) -> str | None:
    if "deepspeed" in (old, new):
        return "DeepSpeed's checkpoints load only into DeepSpeed"
    return None


# Extra conditions of safe keys: (old, new, checkpoint step) -> why the change is refused after all, or None.
CONDITIONS: dict[str, Callable[[Any, Any, int], str | None]] = {
    "train.max_steps": _still_to_train,
    "strategy": _whole_state_dicts,
}
UNRECORDED = "the run recorded no training facts (an older tuneforge made it): only an identical recipe resumes it"


class _Absent:
    """A key one side has and the other has not (a schema that gained or lost a key)."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()


@dataclass(frozen=True)
class Change:
    key: str
    old: Any
    new: Any
    safe: bool
    note: str = ""  # why a change of a safe key is refused after all, or why nothing could be compared


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """{"train": {"lr": 1e-4}} -> {"train.lr": 1e-4}; lists and empty sections are values of their own."""
    if not isinstance(tree, dict) or not tree:
        return {prefix: tree}
    flat = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def changes_since(
    old_recipe: dict, new_recipe: dict, old_facts: dict | None, new_facts: dict, checkpoint_step: int
) -> list[Change]:
    """Every key whose value differs, classified. `old_facts` None: the run recorded none, so only the recipes
    are compared and any difference is refused."""
    old, new = flatten(old_recipe), flatten(new_recipe)
    if old_facts is not None:
        old |= old_facts
        new |= new_facts
    changes = []
    for key in [*old, *(key for key in new if key not in old)]:
        before, after = old.get(key, ABSENT), new.get(key, ABSENT)
        if not same(before, after):
            changes.append(classify(key, before, after, checkpoint_step, facts_recorded=old_facts is not None))
    return changes


def same(old: Any, new: Any) -> bool:
    if isinstance(old, bool) or isinstance(new, bool):  # YAML's true is not 1
        return type(old) is type(new) and old == new
    return old == new


def classify(key: str, old: Any, new: Any, checkpoint_step: int, facts_recorded: bool = True) -> Change:
    if not facts_recorded:
        return Change(key, old, new, safe=False, note=UNRECORDED)
    rule = safe_rule(key)
    if rule is None:
        return Change(key, old, new, safe=False)
    condition = CONDITIONS.get(rule)
    refusal = condition(old, new, checkpoint_step) if condition else None
    return Change(key, old, new, safe=refusal is None, note=refusal or "")


def safe_rule(key: str) -> str | None:
    """The entry of SAFE_CHANGES that covers `key`: the key itself or the nearest section above it."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in SAFE_CHANGES:
            return ".".join(parts[:end])
    return None


def change_table(changes: list[Change]) -> str:
    """key / old / new, one row per change (and why, where a row says more), indented for a log or an error."""
    rows = [("key", "old", "new", "why" if any(change.note for change in changes) else "")]
    rows += [(change.key, shown(change.old), shown(change.new), change.note) for change in changes]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(map(shown, value)) + "]"
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:16]  # a sha256: enough of it to tell two apart
    return str(value)


def change_record(changes: list[Change]) -> dict[str, list]:
    """{key: [old, new]} for the manifest's session entry (a key one side lacks is null there)."""
    return {change.key: [_recorded(change.old), _recorded(change.new)] for change in changes}


def _recorded(value: Any) -> Any:
    return None if value is ABSENT else value
