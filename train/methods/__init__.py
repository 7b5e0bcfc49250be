"""`train.method`: one module per way of training, each a `Method` (tuneforge.registry) that owns its
`train.<name>` settings, the data formats it trains on, its TRL trainer (as Unsloth patches it: importing
unsloth patches TRL's trainers itself) and its held-out measure. Everything around the trainer (model,
LoRA, data, run folder, resume, devices, export) is shared (tuneforge.train.finetune).

- sft: SFTTrainer on the tokenized samples (assistant turns in the loss).
- dpo, orpo: DPOTrainer / ORPOTrainer on {prompt, chosen, rejected} rows from the run's split files;
  kto: KTOTrainer on {prompt, completion, label} rows. TRL tokenizes them (rows.py).
- grpo: GRPOTrainer on {prompt, **fields} rows, scored by the recipe's rewards (tuneforge.train.rewards);
  its held-out measure is the mean reward on validation prompts, not a loss.
- The reference of dpo and kto is the starting model: with no `model.adapter`, the fresh adapter
  (a zero update, i.e. the base model); with one, TRL copies the loaded adapter into a frozen "ref"
  adapter, so the reference is the SFT model itself, not the bare base. ORPO has no reference; GRPO
  has one only with a KL penalty (train.grpo.beta > 0).

The built-ins are registered by tuneforge.builtins; a new method is one module plus one
`register_method(...)` line (docs/adding-a-method.md).
"""
