"""Training: schedule, exact resume, atomic/validated checkpoints, signals, DDP with two processes."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from experiments.engine.checkpoints import CHECKPOINT_NAME
from experiments.engine.trainer import lr_at
from experiments.errors import ExperimentError
from experiments.lm.config import RunSpec
from experiments.lm.data import prepare_data
from experiments.lm.train import load_trained, train_run
from experiments.pipeline import batch_at

REPO = Path(__file__).resolve().parents[2]


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    t = load_file(str(run_dir / CHECKPOINT_NAME))
    return {k: v for k, v in t.items() if k.startswith(("model.", "optim."))}


def test_lr_schedule_warms_up_then_decays_to_the_floor(micro):
    cfg = micro(steps=100, warmup=10, lr=1e-3, min_lr_frac=0.1)
    lrs = [lr_at(s, cfg.train) for s in range(100)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in itertools.pairwise(lrs[10:]))
    assert lr_at(100, cfg.train) == pytest.approx(1e-4)


def test_batches_are_a_function_of_seed_and_step(micro, cache_dir):
    cfg = micro()
    data = prepare_data(cfg, RunSpec("sample", "rope"), cache_dir)
    a = batch_at(data.train, 5, 0, 4, 32)
    b = batch_at(data.train, 5, 0, 4, 32)
    c = batch_at(data.train, 6, 0, 4, 32)
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    assert torch.equal(a[0][:, 1:], a[1][:, :-1])  # targets are the inputs shifted by one
    halves = [batch_at(data.train, 5, 0, 4, 32, rank=r, world=2)[0] for r in (0, 1)]
    assert sorted(map(tuple, torch.cat(halves).tolist())) == sorted(map(tuple, a[0].tolist()))


@pytest.mark.parametrize("scheme, segmenter", [("rope", None), ("bipe_alibi", "sep")])
def test_resume_gives_the_same_parameters_as_an_uninterrupted_run(
    micro, cache_dir, tmp_path, scheme, segmenter
):
    cfg = micro(steps=8, ckpt_every=3)
    spec = RunSpec("sample", scheme, segmenter)
    full = train_run(cfg, spec, tmp_path / "full", cache_dir=cache_dir)
    half = train_run(cfg, spec, tmp_path / "split", cache_dir=cache_dir, stop_at=5)
    assert (full.step, half.step, half.completed) == (8, 5, False)
    rest = train_run(cfg, spec, tmp_path / "split", cache_dir=cache_dir)
    assert rest.completed and rest.final_loss == full.final_loss
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "split")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    steps = [
        json.loads(x)["step"]
        for x in (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()
        if "loss" in json.loads(x)
    ]
    assert steps == sorted(set(steps))  # resumed steps are not logged twice


def test_checkpoint_errors_are_typed_and_nothing_is_overwritten(micro, cache_dir, tmp_path):
    cfg = micro(steps=2)
    run = tmp_path / "run"
    train_run(cfg, RunSpec("sample", "rope"), run, cache_dir=cache_dir)
    ckpt = run / CHECKPOINT_NAME
    good = ckpt.read_bytes()
    with pytest.raises(ExperimentError, match="different run"):
        train_run(cfg, RunSpec("sample", "alibi"), run, cache_dir=cache_dir)
    with pytest.raises(ExperimentError, match="exists"):
        train_run(cfg, RunSpec("sample", "rope"), run, cache_dir=cache_dir, resume=False)
    assert ckpt.read_bytes() == good
    _model, info = load_trained(run)
    assert info["step"] == 2 and info["spec"]["scheme"] == "rope"
    ckpt.write_bytes(good[: len(good) // 2])  # a torn file
    with pytest.raises(ExperimentError, match="checkpoint"):
        load_trained(run)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(ExperimentError, match="not a bipe training checkpoint"):
        load_trained(foreign)


def _train_cmd(out: Path, cache: Path, steps: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "experiments.cli",
        "train",
        "--preset",
        "tiny",
        "--scheme",
        "rope",
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        "--set",
        f"train.steps={steps}",
        "--set",
        "train.ckpt_every=1000",
        "--set",
        "train.log_every=1",
        "--set",
        "train.progress=false",
        "--set",
        "model.n_layers=1",
    ]


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(cache_dir, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        _train_cmd(out, cache_dir, 100000),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = out / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (
        metrics.exists() and metrics.read_text().count("\n") >= 2
    ):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "checkpoint saved" in err and "Traceback" not in err
    _, info = load_trained(out)
    assert 2 <= info["step"] < 100000


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ddp_two_cpu_processes_with_torchrun(cache_dir, tmp_path):
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(_free_port()),
        "-m",
        "experiments.cli",
        *_train_cmd(out, cache_dir, 6)[3:],
    ]
    res = subprocess.run(
        cmd,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert res.returncode == 0, res.stderr[-3000:]
    _, info = load_trained(out)
    assert info["step"] == 6
    single = tmp_path / "single"
    res = subprocess.run(
        _train_cmd(single, cache_dir, 6), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    a, b = _weights(out), _weights(single)
    # same global batch split over two ranks: equal up to the order of float reductions
    assert max(float((a[k] - b[k]).abs().max()) for k in a if k.startswith("model.")) < 1e-4
