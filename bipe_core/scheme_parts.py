"""The parts positional schemes are assembled from: an absolute encoding added to the input
(`AbsolutePart`, and `IntraPart` for BiPE's intra-segment table), RoPE (`RotaryPart`), an
ALiBi-style bias (`BiasPart`) and the reading of hierarchical levels (`LevelsPart`).

Each part declares its options with their defaults (`options`); a scheme takes exactly the options
of the parts it is made of (`PositionalScheme.option_names`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from bipe_core.alibi import alibi_slopes
from bipe_core.errors import ConfigError, ShapeError
from bipe_core.positions import Positions
from bipe_core.rope import apply_rotary, parse_rope_scaling, rope_inv_freq
from bipe_core.scheme_base import PositionalScheme, one_of, positive_int

__all__ = [
    "INTRA_INITS",
    "INTRA_KINDS",
    "AbsolutePart",
    "BiasPart",
    "IntraPart",
    "LevelsPart",
    "RotaryPart",
    "sinusoidal_table",
]

INTRA_KINDS = ("learned", "sinusoidal")
# "zeros": a learned intra table that starts as "no intra position" instead of noise (an ablation)
INTRA_INITS = ("normal", "zeros")


def sinusoidal_table(index: Tensor, dim: int) -> Tensor:
    """Vaswani et al. sinusoidal encoding of integer `index` (...,) -> (..., dim), float32."""
    half = dim // 2
    freq = torch.exp(
        -math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=index.device) * 2 / dim
    )
    angle = index.to(torch.float32)[..., None] * freq
    out = torch.zeros(*index.shape, dim, dtype=torch.float32, device=index.device)
    out[..., 0 : 2 * half : 2] = torch.sin(angle)
    out[..., 1 : 2 * half : 2] = torch.cos(angle)
    return out


class AbsolutePart(PositionalScheme):
    """Adds a learned table or a sinusoidal encoding of some index to the input embeddings."""

    def _init_absolute(self, kind: str, rows: int, attr: str) -> None:
        self._abs_kind = one_of("intra", kind, INTRA_KINDS)
        self._abs_rows = rows
        self._abs_attr = attr
        if kind == "learned":
            table = nn.Embedding(rows, self.d_model)
            nn.init.normal_(table.weight, std=0.02)
            setattr(self, attr, table)
        else:
            # Unit-amplitude sinusoids would swamp token embeddings initialised at std 0.02
            # (BiPE-sinusoidal reached perplexity 131 against 47 learned in docs/results.md), so,
            # like x-transformers' ScaledSinusoidalEmbedding, a learned scalar starts at d**-0.5.
            self.sinusoidal_scale = nn.Parameter(torch.tensor(self.d_model**-0.5))

    def _absolute_index(self, pos: Positions) -> Tensor:
        raise NotImplementedError

    def embed(self, x: Tensor, pos: Positions) -> Tensor:
        """x plus the absolute encoding; indices past a learned table are clamped to its last row."""
        self._check_x(x, pos)
        index = self._absolute_index(pos)
        if self._abs_kind == "learned":
            table: nn.Embedding = getattr(self, self._abs_attr)
            return x + table(index.clamp(0, self._abs_rows - 1)).to(x.dtype)
        table = sinusoidal_table(index, self.d_model) * self.sinusoidal_scale
        return x + table.to(x.dtype)


class RotaryPart(PositionalScheme):
    """RoPE frequencies (with scaling) applied to whichever index `rotary_index` returns."""

    rotary = True
    options: ClassVar[dict[str, Any]] = {
        "max_positions": 1024,
        "rope_theta": 10000.0,
        "rope_scaling": None,
    }

    def _init_rotary(
        self,
        max_positions: int,
        rope_theta: float,
        rope_scaling: Mapping[str, Any] | None,
        levels: int = 1,
    ) -> None:
        self.max_positions = positive_int("max_positions", max_positions)
        if isinstance(rope_theta, bool) or not isinstance(rope_theta, int | float):
            raise ConfigError(f"rope_theta must be a number > 1, got {rope_theta!r}")
        if not rope_theta > 1:
            raise ConfigError(f"rope_theta must be a number > 1, got {rope_theta!r}")
        if self.head_dim % 2:
            raise ConfigError(f"head_dim={self.head_dim} must be even for rotary schemes")
        self.rope_theta = float(rope_theta)
        self.rope_scaling = parse_rope_scaling(rope_scaling, self.max_positions)
        inv_freq, scale = rope_inv_freq(self.head_dim, self.rope_theta, self.rope_scaling)
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self._fp32_masters["inv_freq"] = inv_freq.clone()
        self.attention_scale = scale
        # frequency j rotates with level (j mod K): every level spans high and low frequencies
        self.register_buffer(
            "freq_level", torch.arange(self.head_dim // 2) % levels, persistent=False
        )

    def cos_sin(self, pos: Positions, dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
        """(cos, sin) (B, T, Dh), times the YaRN attention scale, as HF LLaMA builds them (float32
        by default; float64 for float64 inputs)."""
        index = self.rotary_index(pos)
        assert index is not None
        inv_freq = self.inv_freq.to(device=index.device, dtype=dtype)
        if index.dim() == 2:
            freqs = index.to(dtype)[..., None] * inv_freq
        else:
            per_freq = index.to(dtype)[..., self.freq_level.to(index.device)]
            freqs = per_freq * inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos() * self.attention_scale, emb.sin() * self.attention_scale

    def rotate(
        self, x: Tensor, pos: Positions, cos_sin: tuple[Tensor, Tensor] | None = None
    ) -> Tensor:
        """Rotate x (B, H, T, Dh) in the LLaMA rotate-half layout."""
        self._check_heads(x, pos)
        if cos_sin is None:
            cos_sin = self.cos_sin(
                pos, torch.float64 if x.dtype == torch.float64 else torch.float32
            )
        return apply_rotary(x, *cos_sin)


class BiasPart(PositionalScheme):
    """ALiBi-style bias: slopes (H,) or (K, H) times the scheme's index distance."""

    has_bias = True
    options: ClassVar[dict[str, Any]] = {"alibi_factor": None}

    def _init_bias(
        self,
        alibi_factor: float | None,
        levels: int | None = None,
        level_factors: Sequence[float] | None = None,
    ) -> None:
        if alibi_factor is not None and (
            isinstance(alibi_factor, bool)
            or not isinstance(alibi_factor, int | float)
            or not alibi_factor > 0
        ):
            raise ConfigError(f"alibi_factor must be a positive number, got {alibi_factor!r}")
        factor = self.default_alibi_factor if alibi_factor is None else float(alibi_factor)
        self.alibi_factor = factor
        base = alibi_slopes(self.n_heads, factor)
        if levels is None:
            slopes = base
        else:
            if level_factors is not None and len(level_factors) != levels:
                raise ConfigError(
                    f"level_factors needs one factor per level ({levels}), got {list(level_factors)}"
                )
            self.level_factors = (
                None if level_factors is None else [float(f) for f in level_factors]
            )
            scales = self.level_factors or [1.0] * levels
            slopes = torch.stack([base * s for s in scales])
        self.slopes = slopes
        self._fp32_masters["slopes"] = slopes.clone()


class IntraPart(AbsolutePart):
    """BiPE intra-segment absolute encoding (learned table of max_intra rows, or sinusoidal)."""

    uses_segments = True
    intra_table = True
    options: ClassVar[dict[str, Any]] = {
        "max_intra": 1024,
        "intra": "learned",
        "intra_init": "normal",
    }

    def _init_intra(self, max_intra: int, intra: str, intra_init: str) -> None:
        self.max_intra = positive_int("max_intra", max_intra)
        self.intra_kind = one_of("intra", intra, INTRA_KINDS)
        self.intra_init = one_of("intra_init", intra_init, INTRA_INITS)
        self._init_absolute(intra, self.max_intra, "intra_embedding")

    def _absolute_index(self, pos: Positions) -> Tensor:
        return pos.intra

    def intra_parameter_name(self) -> str | None:
        """``intra_embedding.weight`` for a learned table; None for sinusoids."""
        return "intra_embedding.weight" if self.intra_kind == "learned" else None

    def reset_intra(self) -> None:
        """Zero the learned intra table when ``intra_init="zeros"``."""
        if self.intra_init == "zeros" and self.intra_kind == "learned":
            with torch.no_grad():
                self.intra_embedding.weight.zero_()


class LevelsPart(PositionalScheme):
    """Reads the hierarchical `Positions.levels` (coarse -> fine, the segment index last)."""

    uses_levels = True
    options: ClassVar[dict[str, Any]] = {"n_levels": 2}

    def _init_levels(self, n_levels: int) -> None:
        self.n_levels = positive_int("n_levels", n_levels)

    def _levels(self, pos: Positions) -> Tensor:
        if pos.levels is None:
            raise ShapeError(
                f"scheme {self.name!r} needs Positions.levels with {self.n_levels} columns "
                "(build_positions(..., level_separator_ids=[...]) or positions_from_arrays(levels=...))"
            )
        if pos.levels.shape[-1] != self.n_levels:
            raise ShapeError(
                f"scheme {self.name!r} has n_levels={self.n_levels} but Positions.levels has "
                f"{pos.levels.shape[-1]} columns"
            )
        return pos.levels
