"""`train.grpo.rewards`: what a sampled reply earns in GRPO. schema.py: the recipe's reward sections;
functions.py: those sections as TRL reward functions."""
