"""Rotary position embedding maths: inverse frequencies with linear / NTK-aware / YaRN scaling and the
LLaMA rotate-half application (bit-compatible with Hugging Face transformers' LLaMA)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from bipe_core.errors import ConfigError

__all__ = ["RopeScaling", "apply_rotary", "parse_rope_scaling", "rope_inv_freq", "rotate_half"]

SCALING_TYPES = ("linear", "ntk", "yarn")
_ALIASES = {"dynamic": "ntk", "ntk-aware": "ntk", "ntk_aware": "ntk", "default": None}


@dataclass(frozen=True)
class RopeScaling:
    """Validated RoPE scaling options (`factor` stretches the range of the rotation index)."""

    type: str
    factor: float
    original_max_position: int | None = None
    beta_fast: float = 32.0
    beta_slow: float = 1.0
    attention_factor: float | None = None


def parse_rope_scaling(cfg: Mapping[str, Any] | None, default_original: int) -> RopeScaling | None:
    """Validate a rope_scaling dict ({"type": "linear"|"ntk"|"yarn", "factor": ..., ...})."""
    if cfg is None:
        return None
    if not isinstance(cfg, Mapping):
        raise ConfigError(f"rope_scaling must be a dict or None, got {type(cfg).__name__}")
    kind = cfg.get("type", cfg.get("rope_type"))
    kind = _ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if kind is None:
        return None
    if kind not in SCALING_TYPES:
        raise ConfigError(f"rope_scaling type must be one of {SCALING_TYPES}, got {kind!r}")
    factor = cfg.get("factor")
    if not isinstance(factor, (int, float)) or isinstance(factor, bool) or not factor > 0:
        raise ConfigError(f"rope_scaling factor must be a positive number, got {factor!r}")
    original = cfg.get("original_max_position", cfg.get("original_max_position_embeddings"))
    if original is None:
        original = default_original
    if not isinstance(original, int) or original < 1:
        raise ConfigError(
            f"rope_scaling original_max_position must be a positive int, got {original!r}"
        )
    attention_factor = cfg.get("attention_factor")
    return RopeScaling(
        type=kind,
        factor=float(factor),
        original_max_position=original,
        beta_fast=float(cfg.get("beta_fast") or 32.0),
        beta_slow=float(cfg.get("beta_slow") or 1.0),
        attention_factor=None if attention_factor is None else float(attention_factor),
    )


def rope_inv_freq(dim: int, theta: float, scaling: RopeScaling | None) -> tuple[Tensor, float]:
    """(inverse frequencies of shape (dim/2,), attention scale) as HF transformers computes them."""
    if dim % 2:
        raise ConfigError(f"rotary head_dim must be even, got {dim}")
    exponents = torch.arange(0, dim, 2, dtype=torch.int64).to(torch.float) / dim
    if scaling is None:
        return 1.0 / (theta**exponents), 1.0
    if scaling.type == "linear":
        return 1.0 / (theta**exponents) / scaling.factor, 1.0
    if scaling.type == "ntk":
        # static NTK-aware scaling: enlarge the base so the lowest frequency stretches by `factor`
        base = theta * scaling.factor ** (dim / (dim - 2)) if dim > 2 else theta
        return 1.0 / (base**exponents), 1.0
    # YaRN (Peng et al. 2023), following transformers' _compute_yarn_parameters
    factor = scaling.factor
    original = scaling.original_max_position or 1
    attention = scaling.attention_factor
    if attention is None:
        attention = 1.0 if factor <= 1 else 0.1 * math.log(factor) + 1.0

    def correction_dim(rotations: float) -> float:
        return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(theta))

    low = max(math.floor(correction_dim(scaling.beta_fast)), 0)
    high = min(math.ceil(correction_dim(scaling.beta_slow)), dim - 1)
    if low == high:
        high += 0.001
    ramp = ((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low)).clamp(0, 1)
    pos_freqs = theta ** (torch.arange(0, dim, 2).to(torch.float) / dim)
    extrapolation = 1.0 / pos_freqs
    interpolation = 1.0 / (factor * pos_freqs)
    keep = 1 - ramp
    return interpolation * (1 - keep) + extrapolation * keep, float(attention)


def rotate_half(x: Tensor) -> Tensor:
    """LLaMA rotate-half: (x1, x2) -> (-x2, x1) over the two halves of the last dimension."""
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate (B, H, T, Dh) by cos/sin of shape (B, T, Dh) (LLaMA layout: both halves equal).

    Bitwise equal to HF's `x * cos + rotate_half(x) * sin`, computed on halves to keep fewer
    full-size temporaries alive."""
    half = x.shape[-1] // 2
    c = cos[:, None, :, :half].to(x.dtype)
    s = sin[:, None, :, :half].to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1)
