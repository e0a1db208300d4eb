"""Training checkpoints: model + AdamW state + step in ONE safetensors file, replaced atomically.

A checkpoint is written to a temporary file in the same directory, flushed to disk and then
renamed over the old one with ``os.replace``, so a crash at any moment leaves either the previous
or the new checkpoint, both complete. Nothing is ever unpickled: tensors come from safetensors and
everything else from a JSON header.

The header records ``tensors_sha256`` (model, optimizer and RNG tensors; `tensors_digest`) and the
file's metadata a digest of the header itself, both checked on load (`CorruptCheckpointError`):
zeroed bytes are finite numbers a model would train on. Checkpoints from before the digests load
with a warning.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bipe_core.checkpoint import atomic_write, check_digest, safetensors_metadata, tensors_digest
from bipe_core.errors import CheckpointError
from experiments.errors import ExperimentError

FORMAT = "bipe-train"
VERSION = 1
CHECKPOINT_NAME = "checkpoint.safetensors"
HEADER_KEY, HEADER_DIGEST_KEY, TENSORS_DIGEST_KEY = (
    "bipe_train",
    "bipe_train_sha256",
    "tensors_sha256",
)


class CorruptCheckpointError(ExperimentError):
    """A training checkpoint whose bytes differ from the checksums recorded when it was saved."""


@dataclass
class TrainState:
    """What a checkpoint restores: the step reached and JSON-able run information."""

    step: int
    info: dict[str, Any]  # experiment config, run spec, model config, metrics so far


def save_train_checkpoint(
    path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: TrainState
) -> Path:
    """Write model, optimizer and state to ``path`` atomically (tmp file + fsync + os.replace)."""
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    for name, value in model.state_dict().items():
        tensors[f"model.{name}"] = value.detach().cpu().contiguous()
    opt = optimizer.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for idx, pstate in opt["state"].items():
        for key, value in pstate.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{idx}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(idx), {})[key] = value
    tensors["rng.torch"] = torch.get_rng_state()
    header = {
        "format": FORMAT,
        "version": VERSION,
        "step": state.step,
        "info": state.info,
        "param_groups": opt["param_groups"],
        "optim_scalars": scalars,
        TENSORS_DIGEST_KEY: tensors_digest(tensors),
    }
    text = json.dumps(header, default=_json_default)
    meta = {HEADER_KEY: text, HEADER_DIGEST_KEY: _sha256(text)}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta), fsync=True)
    return path


def read_header(path: Path) -> dict[str, Any]:
    """The JSON header of a training checkpoint; ExperimentError if corrupt or foreign."""

    if not path.is_file():
        raise ExperimentError(f"no checkpoint at {path}")
    try:
        meta = safetensors_metadata(path)
    except CheckpointError as exc:
        raise ExperimentError(f"{exc} (corrupt training checkpoint?)") from exc
    text = meta.get(HEADER_KEY, "null")
    recorded = meta.get(HEADER_DIGEST_KEY)
    if recorded is not None and recorded != _sha256(text):
        raise CorruptCheckpointError(
            f"{path} is corrupt: its header does not match the checksum recorded when it was saved"
        )
    try:
        header = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExperimentError(f"{path}: checkpoint header is not valid JSON") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ExperimentError(
            f"{path} is not a bipe training checkpoint (foreign safetensors file?); "
            "model-only checkpoints are read by bipe_core.checkpoint.load_checkpoint"
        )
    if header.get("version") != VERSION:
        raise ExperimentError(
            f"{path}: checkpoint version {header.get('version')!r}, expected {VERSION}"
        )
    return header


def load_train_checkpoint(
    path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None
) -> TrainState:
    """Restore model (and optimizer, RNG) from ``path``; names missing or mis-shaped tensors."""
    from safetensors.torch import load_file

    header = read_header(path)
    try:
        tensors = load_file(str(path))
    except Exception as exc:
        raise CorruptCheckpointError(f"{path} is corrupt: {exc}") from exc
    _check_tensors(path, tensors, header)
    own = model.state_dict()
    weights = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    wrong = sorted(k for k in set(own) & set(weights) if own[k].shape != weights[k].shape)
    if missing or unexpected or wrong:
        raise ExperimentError(
            f"{path} does not fit this model: missing {missing[:4]}, unexpected {unexpected[:4]}, "
            f"shape mismatch {wrong[:4]}"
        )
    model.load_state_dict(weights)
    if optimizer is not None:
        state: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = value
        for idx, scalars in header.get("optim_scalars", {}).items():
            state.setdefault(int(idx), {}).update(scalars)
        try:
            optimizer.load_state_dict({"state": state, "param_groups": header["param_groups"]})
        except (ValueError, KeyError) as exc:
            raise ExperimentError(f"{path}: optimizer state does not fit: {exc}") from exc
    if "rng.torch" in tensors:
        torch.set_rng_state(tensors["rng.torch"])
    return TrainState(step=int(header["step"]), info=header.get("info", {}))


def _check_tensors(path: Path, tensors: dict[str, torch.Tensor], header: dict[str, Any]) -> None:
    """Refuse tensors that differ from the digest saved with them (zeroed or flipped bytes)."""
    recorded = header.get(TENSORS_DIGEST_KEY)
    if recorded is None:
        warnings.warn(
            f"{path} has no checksum (written before checkpoints had one): corrupted weights or "
            "optimizer state cannot be detected; the next checkpoint saved will have one",
            stacklevel=3,
        )
        return
    try:
        check_digest(tensors, recorded, str(path), "tensors")
    except CheckpointError as exc:
        raise CorruptCheckpointError(f"{exc} (weights, optimizer state or RNG)") from None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, tuple | set):
        return list(obj)
    return str(obj)
