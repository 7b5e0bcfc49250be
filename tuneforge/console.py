"""The console: third-party messages known to be harmless in tuneforge's use, filtered where they are made.

Each entry matches one message (a regular expression matched at its start) on one logger, never a whole
logger, module or category: a new message from the same library still shows. `tuneforge -v` installs none
of them, so everything shows again. Distributed workers run the same
CLI (`python -m tuneforge [-v] train ...`, train/launch.py), so they filter the same messages.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager

# (logger name, message pattern): messages logged through the standard logging module.
LOG_MESSAGES = [
    # torch tells library authors that registering an Enum as a pytree constant is no longer needed; libraries
    # (transformers, unsloth) still do it on import, once per Enum. Nothing changes for us.
    ("torch.utils._pytree", r".* is an Enum subclass and is now natively supported by torch\.compile"),
    # transformers already skips that clean-up for BPE tokenizers (SmolLM2's, Qwen's): the warning only says so.
    ("transformers.tokenization_utils_tokenizers", r"Ignoring clean_up_tokenization_spaces=True for BPE tokenizer"),
    # datasets says it will not use TensorFlow (Unsloth sets USE_TORCH); tuneforge never does.
    ("datasets", r"Disabling Tensorflow because USE_TORCH is set"),
    # bitsandbytes would fetch a faster CPU 4-bit kernel from the Hugging Face Hub through the `kernels` package;
    # without it (tuneforge never downloads at run time) it uses its own CPU kernel, with the same results.
    ("bitsandbytes.backends.cpu.ops", r"Failed to load CPU gemm_4bit_forward from kernels-community: No module named"),
]
# Filtered only while the data step tokenizes (during_data_step): the tokenizer's limit is the recipe's
# model.max_seq_length (Unsloth sets it), and the data step drops or truncates every longer sample
# (data.filter.overlength) and counts it in the data report, so none reaches the model too long.
DATA_STEP_MESSAGES = [
    ("transformers.tokenization_utils_base", r"Token indices sequence length is longer than the specified maximum"),
]

_installed: list[tuple[logging.Logger, logging.Filter]] = []
_verbose = False


class KnownMessages(logging.Filter):
    """Drops the records whose message starts with one of `patterns`."""

    def __init__(self, patterns: list[str]):
        super().__init__()
        self.patterns = [re.compile(pattern) for pattern in patterns]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(pattern.match(message) for pattern in self.patterns)


def install(verbose: bool) -> None:
    """Filter the known-harmless messages (none with verbose); calling it again replaces what it installed."""
    global _verbose
    _verbose = verbose
    for logger, installed in _installed:
        logger.removeFilter(installed)
    _installed.clear()
    if verbose:
        return
    _installed.extend(add_filters(LOG_MESSAGES))


def add_filters(messages: list[tuple[str, str]]) -> list[tuple[logging.Logger, logging.Filter]]:
    """One KnownMessages filter on each named logger (a logger's filter sees only its own records)."""
    by_logger: dict[str, list[str]] = {}
    for name, pattern in messages:
        by_logger.setdefault(name, []).append(pattern)
    added = []
    for name, patterns in by_logger.items():
        logger, known = logging.getLogger(name), KnownMessages(patterns)
        logger.addFilter(known)
        added.append((logger, known))
    return added


@contextmanager
def during_data_step():
    """DATA_STEP_MESSAGES filtered while the block runs (unless verbose)."""
    added = [] if _verbose else add_filters(DATA_STEP_MESSAGES)
    try:
        yield
    finally:
        for logger, known in added:
            logger.removeFilter(known)


@contextmanager
def quiet_progress():
    """No datasets progress bars for work inside a library (a trainer's own preparation of data that the data
    step already tokenized), unless verbose."""
    import datasets

    was_enabled = datasets.is_progress_bar_enabled()
    if was_enabled and not _verbose:
        datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_enabled:
            datasets.enable_progress_bars()
