"""Data every task shares: the Sample and the conversation readers (formats.py), filter and seeded
split (prepare.py), the run's split files (splits.py), chat template + loss mask (tokenize.py) and
the tokenized cache (prepare.py). A task's own format reader lives in its package (tuneforge/tasks/)."""
