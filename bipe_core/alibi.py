"""ALiBi slopes (Press et al. 2022) for any head count, including the non-power-of-2 recipe."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from bipe_core.errors import ConfigError

__all__ = ["alibi_slopes", "alibi_slopes_list"]


def alibi_slopes_list(n_heads: int) -> list[float]:
    """Press et al. slopes as Python floats: geometric for 2^k heads, interleaved otherwise."""
    if not isinstance(n_heads, int) or n_heads < 1:
        raise ConfigError(f"n_heads must be a positive int, got {n_heads!r}")

    def power_of_2(n: int) -> list[float]:
        start = 2.0 ** (-(2.0 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(n_heads).is_integer():
        return power_of_2(n_heads)
    closest = 2 ** math.floor(math.log2(n_heads))
    return power_of_2(closest) + alibi_slopes_list(2 * closest)[0::2][: n_heads - closest]


def alibi_slopes(n_heads: int, factor: float = 1.0) -> Tensor:
    """(H,) float32 slopes times `factor` (96 for BiPE-ALiBi)."""
    return torch.tensor(
        [s * factor for s in alibi_slopes_list(n_heads)], dtype=torch.float64
    ).float()
