"""Save and load a `DecoderLM`: safetensors weights plus a JSON config, written atomically.

Layout of a checkpoint directory::

    path/config.json         {"format": "bipe-decoder", "version": 1, "config": {...},
                              "metadata": {...}}
    path/model.safetensors   the weights (tied lm_head stored once); the config is repeated in the
                             safetensors header so that the single file is self-describing

Nothing is ever unpickled: weights come only from safetensors, or from ``torch.load(...,
weights_only=True)`` for foreign ``.bin``/``.pt`` state dicts (see `read_state_dict`).

The header records ``weights_sha256``, a digest of every tensor's name, dtype, shape and bytes
(`tensors_digest`), and loading checks it: zeroed or flipped bytes in the weights are finite
numbers that `load_weights` alone would accept (`ChecksumError`). Checkpoints written before the
digest load with a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from bipe_core.config import ModelConfig
from bipe_core.errors import BipeCoreError, CheckpointError

if TYPE_CHECKING:
    from bipe_core.model import DecoderLM

FORMAT = "bipe-decoder"
VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
DIGEST_KEY = "weights_sha256"


class ChecksumError(CheckpointError):
    """A checkpoint's tensors differ from the checksum recorded when it was saved (corrupt bytes)."""


def tensors_digest(tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 of every tensor's name, dtype, shape and bytes, in name order (device-independent)."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        h.update(json.dumps([name, str(t.dtype), list(t.shape)]).encode("utf-8"))
        if t.numel():  # the raw bytes, whatever the dtype (bfloat16 has no numpy twin)
            h.update(t.reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


def check_digest(
    tensors: Mapping[str, torch.Tensor], recorded: str | None, source: str, what: str = "weights"
) -> None:
    """Raise `ChecksumError` naming ``source`` if ``tensors`` differ from the ``recorded`` digest;
    warn (and accept them) when there is none, as in checkpoints written before digests."""
    if recorded is None:
        warnings.warn(
            f"{source} has no checksum (written before checkpoints had one): corrupted {what} "
            "cannot be detected; save it again to add one",
            stacklevel=3,
        )
        return
    actual = tensors_digest(tensors)
    if actual != recorded:
        raise ChecksumError(
            f"{source} is corrupt: its {what} do not match the checksum recorded when it was "
            f"saved (sha256 {recorded[:16]}... recorded, {actual[:16]}... read); restore the file "
            "from a copy or train again"
        )


def save_checkpoint(
    model: DecoderLM, path: str | os.PathLike[str], *, metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write ``model`` to the directory ``path`` (created if needed); returns the directory."""
    from safetensors.torch import save_file

    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise CheckpointError(f"Checkpoint path {directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    tensors = weights_for_saving(model)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "config": model.config.to_dict(),
        "metadata": dict(metadata or {}),
        DIGEST_KEY: tensors_digest(tensors),
    }
    try:
        config_text = json.dumps(header, indent=2, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"Checkpoint metadata is not JSON-serialisable: {exc}") from exc
    # weights first, config last: a directory whose config.json exists holds complete weights
    atomic_write(
        directory / WEIGHTS_NAME,
        lambda tmp: save_file(tensors, tmp, metadata={"bipe": config_text}),
    )
    atomic_write(
        directory / CONFIG_NAME,
        lambda tmp: Path(tmp).write_text(config_text + "\n", encoding="utf-8"),
    )
    return directory


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    map_location: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
) -> DecoderLM:
    """The `DecoderLM` saved at ``path`` (a checkpoint directory or its .safetensors file)."""
    header = read_checkpoint_header(path)
    weights = _weights_path(Path(path))
    model = _build_model(header)
    state = read_state_dict(weights, map_location=map_location)
    check_digest(state, header.get(DIGEST_KEY), str(weights))
    load_weights(model, state, source=str(weights))
    if dtype is not None:
        model = model.to(dtype)
    return model.eval()


def read_json_file(path: Path, missing: str) -> Any:
    """The parsed JSON in ``path``; `CheckpointError` saying ``missing`` if absent, or if invalid."""
    if not path.is_file():
        raise CheckpointError(missing)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON: {exc}") from exc


def read_checkpoint_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``{"format", "version", "config", "metadata"}`` header of a checkpoint, checked."""
    p = Path(path)
    if p.is_dir():
        header = read_json_file(
            p / CONFIG_NAME, f"{p} is not a checkpoint directory: {CONFIG_NAME} is missing"
        )
    elif p.is_file():
        header = json.loads(safetensors_metadata(p).get("bipe", "null") or "null")
    else:
        raise CheckpointError(f"No checkpoint at {p}")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(
            f"{p} is not a {FORMAT} checkpoint "
            "(for Hugging Face LLaMA directories use load_hf_llama)"
        )
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"{p} has checkpoint version {header.get('version')!r}; this code reads {VERSION}"
        )
    if not isinstance(header.get("config"), dict):
        raise CheckpointError(f"{p} has no model config")
    return header


def weights_for_saving(model: DecoderLM) -> dict[str, torch.Tensor]:
    """State dict as contiguous CPU tensors; a tied lm_head is left out (safetensors forbids
    shared tensors)."""
    state = model.state_dict()
    if model.config.tie_embeddings:
        state.pop("lm_head.weight", None)
    return {k: v.detach().to("cpu").contiguous() for k, v in state.items()}


def load_weights(
    model: DecoderLM, state: Mapping[str, torch.Tensor], *, source: str = "weights"
) -> None:
    """Copy ``state`` into ``model``, naming any missing, unexpected or mis-shaped tensor."""
    expected = weights_for_saving_names(model)
    own = model.state_dict()
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(
        f"{k}: {tuple(state[k].shape)} != {tuple(own[k].shape)}"
        for k in set(state) & set(own)
        if tuple(state[k].shape) != tuple(own[k].shape)
    )
    if missing or unexpected or wrong:
        parts = [
            f"missing {_short(missing)}" if missing else "",
            f"unexpected {_short(unexpected)}" if unexpected else "",
            f"shape mismatch {_short(wrong)}" if wrong else "",
        ]
        raise CheckpointError(
            f"{source} does not fit the model config: " + "; ".join(p for p in parts if p)
        )
    with torch.no_grad():
        for name, value in state.items():
            if not value.is_floating_point() and own[name].is_floating_point():
                raise CheckpointError(f"{source}: tensor {name} has non-float dtype {value.dtype}")
            own[name].copy_(value.to(own[name].dtype))
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise CheckpointError(f"{source} contains NaN or inf weights")


def weights_for_saving_names(model: DecoderLM) -> set[str]:
    """Names a complete checkpoint of ``model`` must hold."""
    names = set(model.state_dict())
    if model.config.tie_embeddings:
        names.discard("lm_head.weight")
    return names


def read_state_dict(
    path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu"
) -> dict[str, torch.Tensor]:
    """Tensors of a .safetensors file, or of a torch file via ``torch.load(weights_only=True)``."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"Weights file {p} does not exist")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(p), device=str(map_location))
        except Exception as exc:  # safetensors raises its own error types for every corruption
            raise CheckpointError(f"{p} is not a readable safetensors file: {exc}") from exc
    try:
        state = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # unpickling is refused for anything but tensors and containers
        raise CheckpointError(f"{p} is not a readable torch weights file: {exc}") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{p} does not hold a flat dict of tensors")
    return dict(state)


def _build_model(header: dict[str, Any]) -> DecoderLM:
    from bipe_core.model import DecoderLM

    try:
        config = ModelConfig.from_dict(header["config"])
    except BipeCoreError as exc:
        raise CheckpointError(f"Checkpoint config is invalid: {exc}") from exc
    return DecoderLM(config)


def _weights_path(p: Path) -> Path:
    return p / WEIGHTS_NAME if p.is_dir() else p


def safetensors_metadata(p: Path) -> dict[str, str]:
    """The string metadata of a safetensors file; `CheckpointError` when it cannot be read."""
    from safetensors import safe_open

    try:
        with safe_open(str(p), framework="pt") as f:
            return f.metadata() or {}
    except Exception as exc:
        raise CheckpointError(f"{p} is not a readable safetensors file: {exc}") from exc


def atomic_write(
    target: Path, write: Callable[[str], Any], *, suffix: str = ".tmp", fsync: bool = False
) -> None:
    """Write ``target`` through ``write(tmp_path)`` and a rename, so a crash leaves the old file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        if fsync:  # the rename must not reach the disk before the data does
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _short(items: list[str], limit: int = 6) -> str:
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more
