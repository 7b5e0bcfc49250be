"""The console filters (tuneforge/console.py): the listed third-party messages are dropped on their own loggers,
anything else those loggers say still shows, and `tuneforge -v` shows everything."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

from tuneforge import console
from tuneforge.cli import main

# Each filtered message as the library really logs it (copied from a `tuneforge -v train quickstart` log).
SEEN = {
    "torch.utils._pytree": "<enum 'KernelPreference'> is an Enum subclass and is now natively supported by "
    "torch.compile as an opaque value type. Calling register_constant() on Enum subclasses is deprecated and will "
    "be an error in a future release.",
    "transformers.tokenization_utils_tokenizers": "Ignoring clean_up_tokenization_spaces=True for BPE tokenizer "
    "TokenizersBackend. The clean_up_tokenization post-processing step is designed for WordPiece tokenizers",
    "datasets": "Disabling Tensorflow because USE_TORCH is set",
    "bitsandbytes.backends.cpu.ops": "Failed to load CPU gemm_4bit_forward from kernels-community: No module named "
    "'kernels'. Please make sure you already `pip install kernels` and the kernels >= 0.11.1",
}
TOO_LONG = (
    "Token indices sequence length is longer than the specified maximum sequence length for this model (220 > 211). "
    "Running this sequence through the model will result in indexing errors"
)


class Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def shown(request):
    """What reaches a handler on each named logger (a logger's filters run before its own handlers)."""
    recorders = {}
    for name in [*SEEN, "transformers.tokenization_utils_base"]:
        recorders[name] = Recorder()
        logging.getLogger(name).addHandler(recorders[name])
    yield recorders
    for name, recorder in recorders.items():
        logging.getLogger(name).removeHandler(recorder)
    console.install(verbose=False)  # as every CLI command leaves it


def test_every_listed_message_is_dropped_and_others_on_its_logger_show(shown):
    console.install(verbose=False)
    assert {name for name, _ in console.LOG_MESSAGES} == set(SEEN)  # every entry has a real sample here
    for name, message in SEEN.items():
        logging.getLogger(name).warning(message)
        logging.getLogger(name).warning("something else went wrong")
        assert shown[name].messages == ["something else went wrong"], name


def test_the_overlength_warning_is_dropped_only_while_the_data_step_runs(shown):
    console.install(verbose=False)
    logger = logging.getLogger("transformers.tokenization_utils_base")
    with console.during_data_step():
        logger.warning(TOO_LONG)
        logger.warning("a tokenizer problem")
    logger.warning(TOO_LONG)  # elsewhere (a prompt at generation time, say) it may matter: it shows
    assert shown["transformers.tokenization_utils_base"].messages == ["a tokenizer problem", TOO_LONG]


@pytest.mark.parametrize("flag", ["-v", "--verbose"])
def test_verbose_shows_every_message_again(shown, flag):
    assert CliRunner().invoke(main, [flag, "recipes", "list"]).exit_code == 0
    for name, message in SEEN.items():
        logging.getLogger(name).warning(message)
        assert shown[name].messages == [message], name
    with console.during_data_step():
        logging.getLogger("transformers.tokenization_utils_base").warning(TOO_LONG)
    assert shown["transformers.tokenization_utils_base"].messages == [TOO_LONG]
    assert CliRunner().invoke(main, ["recipes", "list"]).exit_code == 0  # without it: filtered again
    logging.getLogger("datasets").warning(SEEN["datasets"])
    assert shown["datasets"].messages == [SEEN["datasets"]]


def test_a_trainers_own_progress_bars_are_off_only_inside_the_block():
    import datasets

    console.install(verbose=False)
    assert datasets.is_progress_bar_enabled()
    with console.quiet_progress():
        assert not datasets.is_progress_bar_enabled()
    assert datasets.is_progress_bar_enabled()
    console.install(verbose=True)
    with console.quiet_progress():
        assert datasets.is_progress_bar_enabled()
    console.install(verbose=False)


def test_setup_steps_print_a_line_each_and_the_log_tail_on_failure(tmp_path):
    """scripts/steps.sh, as setup.sh and vllm_env.sh use it: the tools' output goes to the log; a failed
    step shows the log's last 40 lines and its path, and ends the script with the step's exit status."""
    import re
    import subprocess
    from pathlib import Path

    steps = Path(__file__).resolve().parents[2] / "scripts" / "steps.sh"
    log = tmp_path / "setup.log"
    script = f"""set -euo pipefail
STEP_PREFIX=setup STEP_LOG={log}
source {steps}
step "quiet tool" bash -c 'echo pip says hello; echo "WARNING: setuptools noise" >&2'
run_logged "optional part" false || echo "setup: WARNING: optional part skipped"
step "broken tool" bash -c 'for i in $(seq 1 50); do echo "line $i"; done; exit 3'
echo "never printed"
"""
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert done.returncode == 3
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"setup: \[0s\] quiet tool \.\.\. \d+s", lines[0]) and "noise" not in done.stdout + done.stderr
    assert (
        re.match(r"setup: \[\d+s\] optional part \.\.\. failed after", lines[1]) and "never printed" not in done.stdout
    )
    assert "pip says hello" in log.read_text() and "WARNING: setuptools noise" in log.read_text()
    shown = done.stderr.splitlines()
    assert shown[0] == f"setup: broken tool failed. The last 40 lines of {log}:" and shown[-1].endswith(str(log))
    assert [line.strip() for line in shown[1:-1]] == [f"line {i}" for i in range(11, 51)]


def test_a_background_step_prints_its_line_when_it_ends_and_never_outlives_the_script(tmp_path):
    """setup.sh compiles llama.cpp in the background while pip installs: its output joins the log, its
    failure is the caller's to handle, and a script that stops first (a failed step) kills it."""
    import re
    import subprocess
    import time
    from pathlib import Path

    steps = Path(__file__).resolve().parents[2] / "scripts" / "steps.sh"
    log = tmp_path / "setup.log"
    marker = tmp_path / "outlived"
    script = f"""set -euo pipefail
STEP_PREFIX=setup STEP_LOG={log}
source {steps}
start_step "cached build" true
step "meanwhile" sleep 2
finish_step
start_step "compile" bash -c 'echo cmake says hello; exit 4'
step "meanwhile" true
finish_step || echo "setup: WARNING: falling back"
start_step "slow compile" bash -c 'sleep 3; touch {marker}'
step "broken tool" false
"""
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    lines = done.stdout.splitlines()
    assert done.returncode == 1
    assert re.fullmatch(r"setup: \[\d+s\] cached build: started in the background", lines[0])
    assert re.fullmatch(r"setup: \[\ds\] cached build \.\.\. 0s \(in the background\)", lines[2])  # its own time
    assert re.fullmatch(r"setup: \[\d+s\] compile: started in the background", lines[3])
    assert re.fullmatch(r"setup: \[\d+s\] compile \.\.\. failed after \d+s \(exit 4\)", lines[5])
    assert lines[6] == "setup: WARNING: falling back"
    assert "cmake says hello" in log.read_text()
    time.sleep(4)
    assert not marker.exists()  # the slow compile was killed with the script
