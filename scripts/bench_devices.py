"""Training throughput on 1, 2, ... processes for the same total work, side by side in one run.

    .venv/bin/python scripts/bench_devices.py [--recipe quickstart] [--devices 1,2] [--steps 6] [--repeats 2]

Each configuration trains the recipe through `tuneforge train --devices N` for the same number of
optimizer steps of the same global batch (the per-process batch times the derived accumulation
times N), so every run sees the same samples. Configurations alternate (1, 2, 1, 2, ...) so that
a noisy machine hurts them alike. Throughput is the run's own non-padding tokens per second of
training (manifest metrics.tokens_per_second: model loading and tokenization excluded). Prints a
Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def train_once(recipe: str, devices: int, steps: int, global_batch: int, runs: Path) -> dict:
    command = [sys.executable, "-m", "tuneforge", "train", recipe, "--resume", "none", "--runs-dir", str(runs)]
    command += ["--devices", str(devices), "-o", f"train.max_steps={steps}", "-o", "train.grad_accum=null"]
    command += ["-o", f"train.global_batch_size={global_batch}", "-o", "train.eval_steps=null"]
    command += ["-o", "eval.held_out_loss=false", "-o", f"train.save_steps={steps}"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"training on {devices} process(es) failed:\n{done.stderr[-3000:]}")
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return manifest["metrics"] | {"effective": manifest["effective"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="quickstart")
    parser.add_argument("--devices", default="1,2", help="comma-separated process counts")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--global-batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    counts = [int(count) for count in args.devices.split(",")]
    results: dict[int, list[dict]] = {count: [] for count in counts}
    with tempfile.TemporaryDirectory(prefix="bench-devices-") as scratch:
        for repeat in range(args.repeats):
            for count in counts:
                result = train_once(
                    args.recipe, count, args.steps, args.global_batch, Path(scratch) / f"{count}-{repeat}"
                )
                results[count].append(result)
                print(
                    f"# {count} process(es), try {repeat + 1}: {result['tokens_per_second']} tokens/s", file=sys.stderr
                )
    print_table(results, counts[0])


def print_table(results: dict[int, list[dict]], base_count: int) -> None:
    def rate(count: int) -> float:
        return statistics.median(run["tokens_per_second"] for run in results[count])

    print(
        "| processes | per-process batch × accumulation | train s (each try) | tokens/s (median) | speed-up | efficiency |"
    )
    print("|---|---|---|---|---|---|")
    for count, runs in results.items():
        effective = runs[0]["effective"]
        seconds = ", ".join(f"{run['train_seconds']:.1f}" for run in runs)
        speedup = rate(count) / rate(base_count)
        print(
            f"| {count} | {effective['per_device_batch']} × {effective['grad_accum']} (global {effective['global_batch']}) "
            f"| {seconds} | {rate(count):.1f} | {speedup:.2f}× | {speedup / (count / base_count):.0%} |"
        )


if __name__ == "__main__":
    main()
