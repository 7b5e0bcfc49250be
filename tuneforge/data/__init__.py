"""Data: read (formats.py) → filter and split (prepare.py) → chat template + loss mask (tokenize.py)."""
