"""The GPU proof kit: the wheels a registry-less GPU machine lacks, trimmed to travel with the repo.

    make gpu-kit                 # = .venv/bin/python -m tuneforge.bench.gpu_kit [--kit .gpu-kit]

Downloads requirements/gpu-kit.txt as cp312 / manylinux x86_64 wheels (the lent H200's Python),
repacks the two large ones without what training never loads, adds the embedded model's
tokenizer files (the benchmark's random-weight models use them), and checks here, as far as this
machine allows:

1. the kit installs with `pip install --no-index --no-deps --target` for cp312 / manylinux;
2. with only the GPU machine's packages (requirements/gpu-machine.txt) taken from this venv,
   `import unsloth, trl, bitsandbytes, datasets` resolves from the kit (its cp312 extension
   modules cannot load in this Python; there the same versions come from this venv);
3. where a python3.12 exists, those extension modules import from a native cp312 install;
4. the kit plus the working tree fits the 64 MiB a device call carries.

Then `scripts/gpu_bench.sh OUT` on the GPU machine installs it and runs the benchmark.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from tuneforge.models import cache_root, resolve_model

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
LIMIT_BYTES = 64 * 2**20  # what one device call carries: working tree + carried paths
TARGET_PYTHON = "3.12"
PLATFORMS = [
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
]
TARGET_TAGS = [
    "--python-version",
    TARGET_PYTHON,
    "--implementation",
    "cp",
    "--abi",
    "cp312",
    *[arg for platform in PLATFORMS for arg in ("--platform", platform)],
]
CUDA_LIBRARY = "libbitsandbytes_cuda130.so"  # torch 2.11 there is built for CUDA 13.0
IMPORT_CHECK = ["unsloth", "trl", "bitsandbytes", "datasets"]
# What the benchmark imports of tuneforge: each must find all it needs in the kit + the machine.
TUNEFORGE_MODULES = [
    "tuneforge.cli",
    "tuneforge.bench.train",
    "tuneforge.bench.train_worker",
    "tuneforge.train.finetune",
    "tuneforge.data.prepare",
    "tuneforge.builtins",
]
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json"]


# ---------------------------------------------------------------- trimming


def bitsandbytes_drops(name: str) -> bool:
    """Every native library but CUDA 13.0's and the CPU one (which the CPU import check loads)."""
    library = re.fullmatch(r"bitsandbytes/(libbitsandbytes_\w+\.so)", name)
    return bool(library) and library.group(1) not in (CUDA_LIBRARY, "libbitsandbytes_cpu.so")


def unsloth_drops(name: str) -> bool:
    """Unsloth Studio, its web app: about 2,000 of the wheel's files, never imported by training."""
    return name.startswith("studio/")


TRIMS = {"bitsandbytes": bitsandbytes_drops, "unsloth": unsloth_drops}


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def repack_wheel(source: Path, destination: Path, drops) -> dict:
    """Copy a wheel without the entries `drops(name)` selects, with a RECORD rewritten to match
    (one line per file with its sha256 and size, as the wheel spec requires)."""
    with zipfile.ZipFile(source) as wheel:
        record_name = next(n for n in wheel.namelist() if n.endswith(".dist-info/RECORD"))
        kept, dropped, dropped_bytes, lines = 0, 0, 0, []
        staging = destination.with_name(destination.name + ".tmp")
        with zipfile.ZipFile(staging, "w", zipfile.ZIP_DEFLATED) as out:
            for info in wheel.infolist():
                if info.filename == record_name or info.filename.endswith(("RECORD.jws", "RECORD.p7s")):
                    continue
                if drops(info.filename):
                    dropped, dropped_bytes = dropped + 1, dropped_bytes + info.file_size
                    continue
                data = wheel.read(info)
                out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                lines.append(record_line(info.filename, data))
                kept += 1
            out.writestr(record_name, "\n".join(lines + [f"{record_name},,"]) + "\n")
    staging.replace(destination)
    return {"kept_files": kept, "dropped_files": dropped, "dropped_bytes": dropped_bytes}


def project_name(wheel: Path) -> str:
    return wheel.name.split("-")[0].lower()


# ---------------------------------------------------------------- building


def download(wheel_dir: Path, requirements: Path) -> list[Path]:
    wheel_dir.mkdir(parents=True, exist_ok=True)
    pip(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            *TARGET_TAGS,
            "-d",
            str(wheel_dir),
            "-r",
            str(requirements),
        ]
    )
    return sorted(wheel_dir.glob("*.whl"))


def pip(command: list[str]) -> None:
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode:
        raise SystemExit(
            f"gpu-kit: {' '.join(command[:5])} ... failed (exit {done.returncode}):\n{done.stdout[-3000:]}"
        )


def build_kit(kit: Path, requirements: Path) -> dict:
    """Download, trim, add the tokenizer; returns the kit's manifest (also written as kit.json)."""
    downloads = cache_root() / "gpu-kit-downloads"  # the untrimmed originals, outside what travels
    wheels = kit / "wheels"
    if wheels.exists():
        shutil.rmtree(wheels)
    wheels.mkdir(parents=True)
    manifest = {"python": TARGET_PYTHON, "platforms": PLATFORMS, "wheels": {}}
    for source in download(downloads, requirements):
        destination = wheels / source.name
        if project_name(source) in TRIMS:
            manifest["wheels"][source.name] = repack_wheel(source, destination, TRIMS[project_name(source)])
        else:
            shutil.copy2(source, destination)
            manifest["wheels"][source.name] = {"trimmed": False}
        manifest["wheels"][source.name]["bytes"] = destination.stat().st_size
    copy_tokenizer(kit / "tokenizer")
    (kit / "kit.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def copy_tokenizer(destination: Path) -> None:
    source = resolve_model("embedded:smollm2-135m-instruct").path
    destination.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, destination / name)


# ---------------------------------------------------------------- checking


def check_install(wheels: Path, target: Path) -> None:
    """pip itself accepts every wheel for cp312 / manylinux x86_64, as the GPU machine's pip will."""
    pip(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--no-compile",
            "--only-binary=:all:",
            *TARGET_TAGS,
            "--target",
            str(target),
            *map(str, sorted(wheels.glob("*.whl"))),
        ]
    )


def distribution_entries(names: set[str]) -> list[Path]:
    """This venv's top-level files and folders of the named distributions, dist-info included."""
    from importlib.metadata import distributions

    entries = set()
    for dist in distributions():
        if normalize(dist.metadata["Name"]) not in names:
            continue
        for file in dist.files or []:
            top = file.parts[0]
            if top != ".." and not top.endswith(".pth"):
                entries.add(Path(dist.locate_file(top)))
    return sorted(path for path in entries if path.exists())


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def compiled_for_target(wheel: Path) -> bool:
    """A cp312-only wheel: its extension modules cannot load in another Python."""
    return "-cp312-" in wheel.name


def same_version_substitutes(wheels: Path) -> set[str]:
    """The kit's cp312-only projects, each of which this venv must hold at the kit's version."""
    from importlib.metadata import PackageNotFoundError, version

    names = set()
    for wheel in wheels.glob("*.whl"):
        if compiled_for_target(wheel):
            name, wanted = project_name(wheel), wheel.name.split("-")[1]
            try:
                have = version(name)
            except PackageNotFoundError:
                have = None
            if have != wanted:
                raise SystemExit(
                    f"gpu-kit: {name} {wanted} is cp312-only; the import check needs the same version "
                    f"in this venv, which has {have}"
                )
            names.add(normalize(name))
    return names


def check_imports(kit: Path, installed: Path, scratch: Path) -> dict:
    """Import the training stack from the kit beside only what the GPU machine already has."""
    machine = {
        normalize(line)
        for line in (REPO / "requirements" / "gpu-machine.txt").read_text().split()
        if not line.startswith("#")
    }
    substitutes = same_version_substitutes(kit / "wheels")
    mirror = scratch / "gpu-machine"
    mirror.mkdir()
    for entry in distribution_entries(machine | substitutes):
        (mirror / entry.name).symlink_to(entry)
    kit_path = scratch / "kit"
    shutil.copytree(
        installed,
        kit_path,
        symlinks=True,
        ignore=lambda folder, names: [
            n for n in names if folder == str(installed) and normalize(n.split("-")[0]) in substitutes
        ],
    )
    pip(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(kit_path),
            str(REPO),
        ]
    )  # as scripts/gpu_bench.sh installs it there
    code = (
        "import importlib, json, sys\n"
        f"mods = {{name: importlib.import_module(name).__file__ for name in {IMPORT_CHECK + TUNEFORGE_MODULES!r}}}\n"
        "print(json.dumps(mods))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{kit_path}:{mirror}",
        "UNSLOTH_DISABLE_STATISTICS": "1",
        "HOME": str(scratch),
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run([sys.executable, "-S", "-P", "-c", code], capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"gpu-kit: the import check failed:\n{done.stderr[-3000:]}")
    files = json.loads(done.stdout.strip().splitlines()[-1])
    outside = {name: path for name, path in files.items() if not path.startswith(str(kit_path))}
    if outside:
        raise SystemExit(f"gpu-kit: these resolved outside the kit: {outside}")
    return {
        "resolved_from_kit": sorted(files),
        "from_this_venv_for_cp312": sorted(substitutes),
        "machine_packages_seen": len(machine),
    }


def find_python312() -> str | None:
    """A working python3.12 with pip: on PATH, or one of pyenv's (whose shim may not select it)."""
    candidates = [
        shutil.which("python3.12"),
        *map(str, sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))),
    ]
    return next(
        (c for c in candidates if c and subprocess.run([c, "-c", "import pip"], capture_output=True).returncode == 0),
        None,
    )


def check_native_extensions(wheels: Path, scratch: Path) -> str:
    """With a python3.12 here, install the cp312-only wheels natively and import them (beside the
    GPU machine's pure-Python packages that they import, such as typing_extensions)."""
    python = find_python312()
    if not python:
        return "skipped: no python3.12 with pip on this machine"
    target = scratch / "native312"
    compiled = [w for w in sorted(wheels.glob("*.whl")) if compiled_for_target(w)]
    pip([python, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--target", str(target), *map(str, compiled)])
    modules = [project_name(w).replace("-", "_") for w in compiled]
    done = subprocess.run(
        [python, "-S", "-c", f"import {', '.join(modules)}"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{target}:{scratch / 'gpu-machine'}", "PATH": "/usr/bin:/bin"},
    )
    if done.returncode:
        raise SystemExit(f"gpu-kit: cp312 extension modules failed to import in {python}:\n{done.stderr[-2000:]}")
    return f"imported {', '.join(modules)} in {python}"


def working_tree_bytes() -> int:
    """What a device call sends besides carried paths: tracked and untracked-not-ignored files."""
    listed = (
        subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"], capture_output=True, check=True
        )
        .stdout.decode()
        .split("\0")
    )
    return sum((REPO / name).stat().st_size for name in listed if name and (REPO / name).is_file())


def travelling_bytes(kit: Path) -> int:
    return sum(
        p.stat().st_size
        for part in ("wheels", "tokenizer", "kit.json")
        for p in ([kit / part] if (kit / part).is_file() else (kit / part).rglob("*"))
        if p.is_file()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build and check the GPU proof kit.")
    parser.add_argument("--kit", type=Path, default=REPO / ".gpu-kit")
    parser.add_argument("--requirements", type=Path, default=REPO / "requirements" / "gpu-kit.txt")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="gpu-kit: %(message)s")
    manifest = build_kit(args.kit, args.requirements)
    log.info("%d wheels in %s", len(manifest["wheels"]), args.kit / "wheels")
    with tempfile.TemporaryDirectory(prefix="tuneforge-gpu-kit-") as scratch:
        installed = Path(scratch) / "site"
        check_install(args.kit / "wheels", installed)
        log.info("installs for cp312 / manylinux x86_64 with --no-index --no-deps --target: ok")
        manifest["import_check"] = check_imports(args.kit, installed, Path(scratch))
        log.info(
            "import %s from the kit beside the GPU machine's packages: ok", ", ".join(IMPORT_CHECK + TUNEFORGE_MODULES)
        )
        manifest["native_check"] = check_native_extensions(args.kit / "wheels", Path(scratch))
        log.info("cp312 extension modules: %s", manifest["native_check"])
    kit_bytes, tree_bytes = travelling_bytes(args.kit), working_tree_bytes()
    manifest.update(kit_bytes=kit_bytes, working_tree_bytes=tree_bytes)
    (args.kit / "kit.json").write_text(json.dumps(manifest, indent=2) + "\n")
    total = kit_bytes + tree_bytes
    log.info(
        "kit %.1f MiB + working tree %.1f MiB = %.1f MiB of the %.0f MiB a device call carries",
        kit_bytes / 2**20,
        tree_bytes / 2**20,
        total / 2**20,
        LIMIT_BYTES / 2**20,
    )
    if total > LIMIT_BYTES:
        log.error("the kit does not fit: trim more or carry less")
        return 1
    log.info(
        "ready: carry %s; run `bash scripts/gpu_bench.sh OUT` there (docs/benchmarking.md, the GPU proof kit)",
        args.kit.name,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
