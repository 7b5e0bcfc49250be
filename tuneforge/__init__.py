"""tuneforge: one YAML recipe from data to a served model.

Heavy libraries (torch, unsloth, transformers) are imported inside the functions that
need them, so `import tuneforge` and `tuneforge --help` stay instant.
"""

__version__ = "0.1.0"
