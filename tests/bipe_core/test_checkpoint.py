"""save_checkpoint / load_checkpoint: exact round trips, atomic writes, and typed errors for
corrupt, foreign or mismatched files (nothing is ever unpickled)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from bipe_core import (
    CheckpointError,
    DecoderLM,
    list_schemes,
    load_checkpoint,
    save_checkpoint,
)
from bipe_core.checkpoint import read_checkpoint_header, read_state_dict
from tests.bipe_core.tiny import tiny_model

torch.set_num_threads(1)  # tiny matrices: threads only add overhead on a shared 2-core machine

V = 50


def make(scheme: str = "bipe_alibi", **kw: object) -> DecoderLM:
    """A tiny model with random weights."""
    kw.setdefault("max_positions", 32)
    return tiny_model(scheme, vocab_size=V, separator=3, level_separator=4, **kw)


IDS = torch.tensor([[1, 2, 3, 9, 4, 3, 3, 7, 8, 10]])


@pytest.mark.parametrize("scheme", list_schemes())
def test_roundtrip_every_scheme(scheme: str, tmp_path: Path) -> None:
    model = make(scheme)
    ckpt = tmp_path / "ckpt"
    save_checkpoint(model, ckpt, metadata={"step": 7})
    back = load_checkpoint(ckpt)
    assert back.config == model.config
    assert torch.equal(back(IDS), model(IDS))
    assert read_checkpoint_header(ckpt)["metadata"] == {"step": 7}
    assert sorted(p.name for p in ckpt.iterdir()) == ["config.json", "model.safetensors"]


def test_tied_single_file_and_dtype(tmp_path: Path) -> None:
    model = make("rope", tie_embeddings=True, n_kv_heads=2)
    save_checkpoint(model, tmp_path)
    weights = tmp_path / "model.safetensors"
    back = load_checkpoint(weights)  # the weights file alone carries the config in its header
    assert back.lm_head.weight is back.tok_emb.weight
    assert torch.equal(back(IDS), model(IDS))
    half = load_checkpoint(tmp_path, dtype=torch.bfloat16)
    assert half.tok_emb.weight.dtype == torch.bfloat16


def test_overwrite_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    save_checkpoint(make("bipe_rope"), tmp_path)
    second = make("bipe_rope", init_std=0.05)
    save_checkpoint(second, tmp_path)
    assert torch.equal(load_checkpoint(tmp_path)(IDS), second(IDS))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_corrupt_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="No checkpoint"):
        load_checkpoint(tmp_path / "missing")
    (tmp_path / "a").mkdir()
    with pytest.raises(CheckpointError, match=r"config\.json"):
        load_checkpoint(tmp_path / "a")
    save_checkpoint(make(), tmp_path / "b")
    weights = tmp_path / "b" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # truncated
    with pytest.raises(CheckpointError, match="safetensors"):
        load_checkpoint(tmp_path / "b")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="JSON"):
        load_checkpoint(tmp_path / "c")
    (tmp_path / "c" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(CheckpointError, match="load_hf_llama"):
        load_checkpoint(tmp_path / "c")
    plain = tmp_path / "plain.safetensors"
    save_file({"x": torch.zeros(2)}, str(plain))
    with pytest.raises(CheckpointError, match="not a bipe-decoder"):
        load_checkpoint(plain)


def test_config_and_weights_mismatch(tmp_path: Path) -> None:
    save_checkpoint(make(), tmp_path)
    header = json.loads((tmp_path / "config.json").read_text())
    header["config"]["d_model"] = 64
    (tmp_path / "config.json").write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load_checkpoint(tmp_path)
    header["config"]["d_model"] = 32
    header["config"]["n_layers"] = 3
    (tmp_path / "config.json").write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match=r"missing blocks\.2"):
        load_checkpoint(tmp_path)
    header["config"]["n_layers"] = 2
    header["config"]["colour"] = "blue"
    (tmp_path / "config.json").write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match="colour"):
        load_checkpoint(tmp_path)
    header["config"].pop("colour")
    header["version"] = 99
    (tmp_path / "config.json").write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match="version"):
        load_checkpoint(tmp_path)


def test_nan_weights_are_refused(tmp_path: Path) -> None:
    model = make()
    with torch.no_grad():
        model.norm.weight[0] = float("inf")
    save_checkpoint(model, tmp_path)
    with pytest.raises(CheckpointError, match="NaN or inf"):
        load_checkpoint(tmp_path)


class _Evil:
    """An arbitrary object: unpickling it would run code chosen by the file's author."""

    def __reduce__(self) -> tuple:
        return (print, ("unpickled!",))


def test_torch_files_load_with_weights_only(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    good = tmp_path / "w.bin"
    torch.save({"state_dict": {"a": torch.ones(2)}}, good)
    assert torch.equal(read_state_dict(good)["a"], torch.ones(2))
    evil = tmp_path / "evil.bin"
    torch.save({"a": _Evil()}, evil)
    with pytest.raises(CheckpointError, match="readable torch weights"):
        read_state_dict(evil)
    assert "unpickled!" not in capsys.readouterr().out
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError):
        read_state_dict(tmp_path / "junk.pt")
