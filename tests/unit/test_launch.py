"""`tuneforge train --devices`: the launch checks, the torchrun command, the strategy settings and
the stop-at-step-boundary signal handling, without starting any training (the real multi-process
runs: tests/integration/test_distributed_run.py)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys

import pytest
from transformers import TrainerControl, TrainerState

from helpers import tiny_recipe
from tuneforge.errors import StopRequested, UserError
from tuneforge.recipe.checks import recipe_problems
from tuneforge.recipe.loading import load_recipe
from tuneforge.recipe.schema import DistributedSection
from tuneforge.train import launch as launching
from tuneforge.train import strategy as strategies
from tuneforge.train.callbacks import StopAtStepBoundary
from tuneforge.train.distributed import World
from tuneforge.train.engine import accumulation
from tuneforge.train.launch import LaunchOptions, check_launch, torchrun_command


@pytest.fixture
def recipe(tmp_path, tiny_llama_dir):
    loaded, _ = load_recipe(
        tiny_recipe(tmp_path, tiny_llama_dir), ["train.grad_accum=null", "train.global_batch_size=8"]
    )
    return loaded


def problems_of(options: LaunchOptions, recipe) -> str:
    with pytest.raises(UserError) as raised:
        check_launch(options, recipe)
    return str(raised.value)


def test_more_devices_than_gpus_is_refused(recipe, monkeypatch):
    monkeypatch.setattr(launching, "gpu_count", lambda: 2)  # mocked: this machine has no GPU to count
    message = problems_of(LaunchOptions(devices=4), recipe)
    assert "--devices 4: this machine has 2 GPU(s); use --devices 2 or fewer" in message


def test_two_nodes_need_the_address_of_node_zero(recipe):
    message = problems_of(LaunchOptions(devices=2, nnodes=2, node_rank=1), recipe)
    assert "--nnodes 2 needs the address of node 0: --master-addr HOST --master-port PORT" in message
    assert "--node-rank 3" in problems_of(LaunchOptions(nnodes=2, node_rank=3, master_addr="10.0.0.1"), recipe)


def test_a_port_in_use_is_refused_before_anything_starts(recipe):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        message = problems_of(LaunchOptions(devices=2, master_addr="127.0.0.1", master_port=port), recipe)
        assert f"cannot listen on 127.0.0.1:{port}: Address already in use; choose another port" in message
        elastic = LaunchOptions(devices=1, nnodes=2, rdzv_endpoint=f"localhost:{port}")
        assert f"cannot listen on 127.0.0.1:{port}" in problems_of(elastic, recipe)
        # Node 1 does not listen: the port in use on this machine is node 0's business.
        check_launch(LaunchOptions(devices=1, nnodes=2, node_rank=1, master_addr="127.0.0.1", master_port=port), recipe)


def test_a_global_batch_that_does_not_divide_is_refused(recipe):
    message = problems_of(LaunchOptions(devices=3), recipe)  # 8 over 3 processes x 4
    assert "train.global_batch_size: 8 does not divide into 3 process(es) x batch_size 4 = 12" in message
    assert accumulation(recipe.train, 2) == 1 and accumulation(recipe.train, 1) == 2


def test_deepspeed_names_the_make_target_that_installs_it(recipe):
    if importlib.util.find_spec("deepspeed") is not None:
        pytest.skip("deepspeed is installed here")
    recipe.train.distributed.strategy = "deepspeed"
    with pytest.raises(UserError, match="make setup-deepspeed"):
        check_launch(LaunchOptions(devices=2), recipe)


def test_deepspeed_needs_gpus(monkeypatch):
    # mocked: deepspeed cannot be installed usefully on this GPU-less machine
    monkeypatch.setattr(strategies.importlib.util, "find_spec", lambda name: object())
    with pytest.raises(UserError, match="needs GPUs and this machine has none"):
        strategies.check_available("deepspeed", gpus=0)
    strategies.check_available("deepspeed", gpus=8)


def test_the_recipe_refuses_conflicting_batch_settings(tmp_path, tiny_llama_dir):
    path = tiny_recipe(tmp_path, tiny_llama_dir)
    with pytest.raises(UserError, match="grad_accum is derived from it"):
        load_recipe(path, ["train.global_batch_size=8"])  # the tiny recipe sets grad_accum: 1
    with pytest.raises(UserError, match="8 is not a multiple of train.batch_size"):
        load_recipe(path, ["train.grad_accum=null", "train.global_batch_size=8", "train.batch_size=3"])
    assert recipe_problems(load_recipe(path, ["train.grad_accum=null", "train.global_batch_size=8"])[0]) == []


def test_strategy_auto_is_ddp_on_many_processes_and_nothing_on_one():
    section = DistributedSection()
    assert strategies.resolve_strategy(section, World()) == "single"
    assert strategies.resolve_strategy(section, World(size=2, local_size=2)) == "ddp"
    section = DistributedSection(strategy="fsdp2", cpu_offload=True)
    assert strategies.resolve_strategy(section, World(size=4, local_size=2)) == "fsdp2"
    assert strategies.engine_environment("fsdp2", section)["UNSLOTH_FSDP2_CPU_OFFLOAD"] == "1"
    assert "UNSLOTH_FSDP2" not in strategies.engine_environment("ddp", section)


def test_deepspeed_config_follows_the_recipe(tmp_path):
    stage2 = strategies.deepspeed_config(DistributedSection(strategy="deepspeed"))
    assert stage2["zero_optimization"]["stage"] == 2 and "offload_optimizer" not in stage2["zero_optimization"]
    stage3 = strategies.deepspeed_config(DistributedSection(strategy="deepspeed", zero_stage=3, cpu_offload=True))
    zero = stage3["zero_optimization"]
    assert zero["offload_optimizer"]["device"] == zero["offload_param"]["device"] == "cpu"
    assert zero["stage3_gather_16bit_weights_on_model_save"] is True
    arguments = strategies.write_engine_config(
        "deepspeed", DistributedSection(strategy="deepspeed"), World(size=2, local_size=2), tmp_path
    )
    assert arguments == {"deepspeed": str(tmp_path / "deepspeed.json")}
    assert (tmp_path / "deepspeed.json").is_file() and (tmp_path / "distributed.json").is_file()


def test_torchrun_command_for_each_kind_of_launch():
    worker = ["train", "r.yaml"]
    single = torchrun_command(LaunchOptions(devices=2), worker)
    assert single[1:3] == ["-m", "torch.distributed.run"] and "--standalone" in single
    assert single[-4:] == ["-m", "tuneforge", "train", "r.yaml"]
    static = torchrun_command(
        LaunchOptions(devices=8, nnodes=2, node_rank=1, master_addr="node0", master_port=29600), worker
    )
    assert {"--nnodes=2", "--node-rank=1", "--master-addr=node0", "--master-port=29600"} <= set(static)
    elastic = torchrun_command(LaunchOptions(devices=8, nnodes=2, rdzv_endpoint="node0:29400"), worker)
    assert {"--rdzv-backend=c10d", "--rdzv-endpoint=node0:29400"} <= set(elastic) and "--standalone" not in elastic
    assert not LaunchOptions(devices=1).wanted() and LaunchOptions(devices=1, nnodes=2).wanted()


def test_devices_inside_torchrun_is_refused(recipe, monkeypatch):
    for name, value in (("RANK", "0"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "0")):
        monkeypatch.setenv(name, value)
    assert "already chose the processes" in problems_of(LaunchOptions(devices=2), recipe)


def test_cli_bad_launch_exits_2_without_a_traceback(tmp_path, tiny_llama_dir):
    path = tiny_recipe(tmp_path, tiny_llama_dir)
    done = subprocess.run(
        [sys.executable, "-m", "tuneforge", "train", str(path), "--devices", "2", "--nnodes", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "needs the address of node 0" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_stop_signal_ends_training_at_the_step_boundary(monkeypatch):
    stop, control, state = StopAtStepBoundary(World()), TrainerControl(), TrainerState(global_step=7)
    previous = signal.getsignal(signal.SIGTERM)
    with stop.armed():
        os.kill(os.getpid(), signal.SIGTERM)  # handled: no exception, training goes on to the step's end
        stop.on_step_end(None, state, control)
        os.kill(os.getpid(), signal.SIGTERM)  # the same request passed on again (torchrun, SLURM): ignored
    assert (stop.signum, stop.stopped_at, control.should_save, control.should_training_stop) == (
        signal.SIGTERM,
        7,
        True,
        True,
    )
    monkeypatch.setattr("tuneforge.train.callbacks.REPEAT_IS_SAME_REQUEST_S", 0.0)
    with pytest.raises(StopRequested), stop.armed():
        os.kill(os.getpid(), signal.SIGINT)  # a later, second request: stop at once
    assert signal.getsignal(signal.SIGTERM) == previous, "the handlers are restored after training"
