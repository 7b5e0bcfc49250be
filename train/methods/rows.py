"""The trainers that tokenize rows themselves (DPO, ORPO, KTO, GRPO): the run's split samples as TRL's
rows, and the trainer built on them with the job's shared settings plus the method's own."""

from __future__ import annotations

from collections.abc import Callable

from tuneforge.data.formats import Sample
from tuneforge.data.splits import SPLITS, read_split_file
from tuneforge.train.job import TrainingJob


def kept_samples(samples: list[Sample], tokenized) -> list[Sample]:
    """The split samples the tokenizing step kept: one that data.filter.overlength dropped (and the data
    report counts as dropped) must not reach a trainer that reads the samples themselves."""
    kept = set(tokenized["source"])
    return [sample for sample in samples if sample.source in kept]


def split_rows(job: TrainingJob, rows_of: Callable[[list[Sample]], list[dict]]) -> dict[str, list[dict]]:
    """Each split's kept samples as the method's rows."""
    return {
        split: rows_of(kept_samples(read_split_file(job.split_folder / f"{split}.jsonl"), job.datasets[split]))
        for split in SPLITS
    }


def row_trainer(
    job: TrainingJob,
    trainer_class,
    config_class,
    settings: dict,
    rows_of: Callable[[list[Sample]], list[dict]],
    eval_rows: int | None = None,
    not_settings: tuple[str, ...] = (),
    **extra,
):
    """`trainer_class` on the job's rows, with `config_class(**shared settings, **settings)`; the validation
    rows cut to `eval_rows` where given; `not_settings`: shared settings this method's config does not have;
    `extra`: further arguments of the trainer (reward functions, a reference model)."""
    from datasets import Dataset

    rows = split_rows(job, rows_of)
    rows["val"] = rows["val"][:eval_rows]
    has_val = bool(rows["val"])
    arguments = job.arguments(has_val) | settings
    for key in not_settings:
        del arguments[key]
    return trainer_class(
        model=job.model,
        processing_class=job.tokenizer,
        args=config_class(**arguments),
        train_dataset=Dataset.from_list(rows["train"]),
        eval_dataset=Dataset.from_list(rows["val"]) if has_val else None,
        callbacks=job.callbacks,
        **extra,
    )
