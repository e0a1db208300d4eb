"""Debug mode: extra input checks (NaN/inf) that cost a pass over the data, off by default.

Switch on with `set_debug(True)` or the environment variable `BIPE_DEBUG=1`.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from bipe_core.errors import InputError

__all__ = ["check_finite", "is_debug", "set_debug"]

_DEBUG: bool | None = None


def set_debug(enabled: bool | None) -> None:
    """Turn debug checks on or off for this process (overrides BIPE_DEBUG); None follows it again."""
    global _DEBUG
    _DEBUG = None if enabled is None else bool(enabled)


def is_debug() -> bool:
    """Whether debug checks are on (set_debug, else the BIPE_DEBUG environment variable)."""
    if _DEBUG is not None:
        return _DEBUG
    return os.environ.get("BIPE_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def check_finite(name: str, tensor: Tensor | None) -> None:
    """Raise InputError if a floating tensor holds NaN or inf (only in debug mode)."""
    if tensor is None or not is_debug() or not tensor.dtype.is_floating_point:
        return
    finite = torch.isfinite(tensor)
    if torch.compiler.is_compiling():  # tensor-only: counting the bad values would break the graph
        torch._assert_async(finite.all(), f"{name} holds non-finite values (debug mode)")
        return
    if not bool(finite.all()):
        bad = (~finite).nonzero()[0].tolist()
        n_nan = int(torch.isnan(tensor).sum())
        n_inf = int(torch.isinf(tensor).sum())
        raise InputError(
            f"{name} holds non-finite values ({n_nan} NaN, {n_inf} inf; first at index {bad})"
        )
