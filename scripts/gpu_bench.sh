#!/usr/bin/env bash
# The GPU training benchmark in one command, on a GPU machine that reaches no package registry.
#
#   bash scripts/gpu_bench.sh OUT            # there, with .gpu-kit/ (from `make gpu-kit`) beside the repo
#   bash scripts/gpu_bench.sh OUT --smoke    # on a CPU: tiny shape, 2 steps (tests/unit/test_gpu_kit.py)
#
# It installs the kit with pip --target (nothing else is installed or changed), records the GPU and
# the versions, and runs `tuneforge bench train`, our Unsloth path against transformers + PEFT +
# TRL, at Qwen3-1.7B then Qwen3-0.6B, sequence 2048 then 1024, packing off and on. Sized for one
# 10-minute command: the sweep starts no configuration once the mean so far says it would end
# past BUDGET seconds, and the table is rewritten after each configuration, so a cut-short sweep
# still leaves every finished row (marked partial). Writes OUT/train.json, OUT/train.md,
# OUT/gpu.txt and OUT/versions.txt.
#
# Settings (environment): PYTHON (python3), KIT (.gpu-kit), BUDGET (420), STEPS (10), WARMUP (3).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: bash scripts/gpu_bench.sh OUT [--smoke]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
OUT=$1
MODE=${2:-full}
[[ $MODE == full || $MODE == --smoke ]] || usage
PYTHON=${PYTHON:-python3}
KIT=${KIT:-.gpu-kit}
BUDGET=${BUDGET:-420}
mkdir -p "$OUT"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/tuneforge-gpu-bench.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
SITE=$SCRATCH/site
# PYTHONSAFEPATH: `python -m` must not import the repo's own tuneforge/ folder from the working
# directory (it lacks tuneforge.train etc., which only the install maps in), in children too.
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 PYTHONSAFEPATH=1
started=$SECONDS
say() { echo "gpu-bench [$((SECONDS - started)) s]: $*"; }

# 1. The kit: installed natively where this Python is the kit's (cp312); elsewhere (a smoke run on
# another Python) only checked for installability, and this Python's own packages are used.
PIP=("$PYTHON" -m pip --disable-pip-version-check install -q --no-index --no-deps --no-compile)
tag=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
if [[ -d $KIT/wheels ]]; then
  kit_python=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["python"])' "$KIT/kit.json")
  kit_tag=cp${kit_python/./}
  if [[ $tag == "$kit_tag" ]]; then
    "${PIP[@]}" --target "$SITE" "$KIT"/wheels/*.whl
    say "kit installed into $SITE ($(ls "$KIT"/wheels/*.whl | wc -l) wheels)"
  else
    "${PIP[@]}" --only-binary=:all: --python-version "$kit_python" --implementation cp --abi "$kit_tag" --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 \
      --platform manylinux_2_17_x86_64 --target "$SCRATCH/kit-check" "$KIT"/wheels/*.whl
    say "kit is for $kit_tag, this Python is $tag: checked that it installs, using this Python's own packages"
  fi
elif [[ $MODE == full ]]; then
  echo "gpu-bench: no kit at $KIT/wheels. Run \`make gpu-kit\` where a package registry is reachable and" \
       "carry .gpu-kit with the repository (docs/benchmarking.md, the GPU proof kit)." >&2
  exit 2
else
  say "no kit at $KIT: smoke run on this Python's own packages"
fi
# tuneforge itself, from this working tree (so the code measured is the code here), built with the
# kit's setuptools where the kit is installed (PYTHONPATH): the machine's may be too old.
PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH} "${PIP[@]}" --no-build-isolation --target "$SITE" . \
  >"$SCRATCH/tuneforge-install.log" 2>&1 \
  || { cat "$SCRATCH/tuneforge-install.log" >&2; exit 1; }
export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}

# 2. The GPU and the versions.
{ command -v nvidia-smi >/dev/null && nvidia-smi || echo "nvidia-smi: not found"; } >"$OUT/gpu.txt" 2>&1
"$PYTHON" - >>"$OUT/gpu.txt" <<'EOF'
import torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuda available: {torch.cuda.is_available()}")
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"{p.name}: {p.total_memory / 2**30:.1f} GiB, {p.multi_processor_count} SMs, capability {p.major}.{p.minor}")
EOF
cat "$OUT/gpu.txt"
gpu=$("$PYTHON" -c 'import torch; print(int(torch.cuda.is_available()))')
if [[ $MODE == full && $gpu != 1 ]]; then
  echo "gpu-bench: torch sees no CUDA GPU here; for a CPU check use --smoke" >&2
  exit 2
fi
"$PYTHON" - >"$OUT/versions.txt" <<'EOF'
import platform
from importlib.metadata import PackageNotFoundError, version
import tuneforge.train
print("python", platform.python_version())
print("tuneforge.train from", tuneforge.train.__file__)
for name in ["tuneforge", "torch", "transformers", "peft", "accelerate", "trl", "unsloth", "unsloth_zoo",
             "bitsandbytes", "datasets", "triton", "torchao", "xformers", "flash_attn", "pydantic"]:
    try:
        print(name, version(name))
    except PackageNotFoundError:
        print(name, "not installed")
EOF
say "versions: $(tr '\n' ' ' <"$OUT/versions.txt")"

# 3. The sweep, most important configuration first: the claim is made at Qwen3-1.7B.
tokenizer=()
[[ -d $KIT/tokenizer ]] && tokenizer=(--tokenizer "$KIT/tokenizer")
if [[ $MODE == full ]]; then
  sweep=(--shape qwen3-1.7b,qwen3-0.6b --seq 2048,1024 --packing off,on --steps "${STEPS:-10}" --warmup "${WARMUP:-3}")
else
  sweep=(--shape smoke --seq 64 --packing off,on --steps 2 --warmup 1)
fi
"$PYTHON" -m tuneforge bench train "${sweep[@]}" "${tokenizer[@]}" --budget "$BUDGET" --output "$OUT"
say "done: $OUT/train.md"
