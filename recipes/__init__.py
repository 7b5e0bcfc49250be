"""Shipped recipes (YAML) and their sample data. Installed as `tuneforge.recipes`."""
