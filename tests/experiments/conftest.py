"""Fixtures of the experiments tests: one shared token cache and a micro config (seconds per run)."""

from __future__ import annotations

import pytest
import torch

from experiments.lm.config import DataConfig, EvalConfig, ExperimentConfig
from experiments.lm.config import LMTrainConfig as TrainConfig


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory):
    """A token cache shared by every test of the session (the BPE is trained once)."""
    return tmp_path_factory.mktemp("bipe-cache")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def micro_config(**train: object) -> ExperimentConfig:
    """A model and schedule small enough that a run takes about a second on one core."""
    t = {
        "steps": 8,
        "batch_size": 4,
        "seq_len": 32,
        "lr": 3e-3,
        "warmup": 2,
        "log_every": 2,
        "ckpt_every": 4,
        "progress": False,
        **train,
    }
    return ExperimentConfig(
        name="micro",
        data=DataConfig(corpora=["sample"], vocab_size=300),
        model={"d_model": 32, "n_layers": 1, "n_heads": 2},
        train=TrainConfig(**t),
        eval=EvalConfig(multipliers=[1, 2, 4], eval_tokens=512, batch_size=2),
    ).validate()


@pytest.fixture
def micro():
    """The `micro_config` factory (keyword arguments override `TrainConfig` fields)."""
    return micro_config
