"""Training with Unsloth + TRL (installed as tuneforge.train)."""
