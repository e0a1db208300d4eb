"""Base class and building blocks of positional schemes: `PositionalScheme` (identity embed and
rotate, no bias), and the absolute-table, rotary and ALiBi-bias parts that concrete schemes in
`bipe_core.encodings` combine."""

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

__all__ = ["INTRA_KINDS", "OVERFLOW_MODES", "PositionalScheme", "sinusoidal_table"]


INTRA_KINDS = ("learned", "sinusoidal")
OVERFLOW_MODES = ("split", "clamp")


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


def _positive_int(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{name} must be a positive int, got {value!r}")
    return value


class PositionalScheme(nn.Module):
    """Base class: identity embed/rotate and no bias; subclasses switch parts on."""

    name: ClassVar[str] = "base"
    rotary: ClassVar[bool] = False
    has_bias: ClassVar[bool] = False
    uses_segments: ClassVar[bool] = False
    uses_levels: ClassVar[bool] = False

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        head_dim: int | None = None,
        *,
        max_positions: int = 1024,
        max_intra: int | None = None,
        intra: str = "learned",
        rope_theta: float = 10000.0,
        rope_scaling: Mapping[str, Any] | None = None,
        alibi_factor: float | None = None,
        overflow: str = "split",
        n_levels: int = 2,
        level_factors: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.d_model = _positive_int("d_model", d_model)
        self.n_heads = _positive_int("n_heads", n_heads)
        if head_dim is None:
            if d_model % n_heads:
                raise ConfigError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
            head_dim = d_model // n_heads
        self.head_dim = _positive_int("head_dim", head_dim)
        self.max_positions = _positive_int("max_positions", max_positions)
        self.max_intra = _positive_int(
            "max_intra", max_positions if max_intra is None else max_intra
        )
        if intra not in INTRA_KINDS:
            raise ConfigError(f"intra must be one of {INTRA_KINDS}, got {intra!r}")
        self.intra_kind = intra
        if not isinstance(rope_theta, (int, float)) or not rope_theta > 1:
            raise ConfigError(f"rope_theta must be a number > 1, got {rope_theta!r}")
        self.rope_theta = float(rope_theta)
        self.rope_scaling = parse_rope_scaling(rope_scaling, self.max_positions)
        if alibi_factor is not None and (
            not isinstance(alibi_factor, (int, float)) or not alibi_factor > 0
        ):
            raise ConfigError(f"alibi_factor must be a positive number, got {alibi_factor!r}")
        self.alibi_factor = float(alibi_factor) if alibi_factor is not None else None
        if overflow not in OVERFLOW_MODES:
            raise ConfigError(f"overflow must be one of {OVERFLOW_MODES}, got {overflow!r}")
        self.overflow = overflow
        self.n_levels = _positive_int("n_levels", n_levels)
        if level_factors is not None and len(level_factors) != self.n_levels:
            raise ConfigError(
                f"level_factors needs one factor per level ({self.n_levels}), got {list(level_factors)}"
            )
        self.level_factors = None if level_factors is None else [float(f) for f in level_factors]
        self.attention_scale = 1.0
        self.register_buffer("slopes", None, persistent=False)
        # float32 masters of inv_freq / slopes: dtype casts of the module (model.half()) must not
        # round them, so `_apply` restores them from here after every cast
        self._fp32_masters: dict[str, Tensor] = {}
        self.config: dict[str, Any] = {
            "d_model": d_model, "n_heads": n_heads, "head_dim": self.head_dim,
            "max_positions": max_positions, "max_intra": self.max_intra, "intra": intra,
            "rope_theta": self.rope_theta,
            "rope_scaling": None if rope_scaling is None else dict(rope_scaling),
            "alibi_factor": alibi_factor, "overflow": overflow, "n_levels": n_levels,
            "level_factors": self.level_factors,
        }  # fmt: skip

    def _apply(self, fn: Any, recurse: bool = True) -> PositionalScheme:
        """Module casts move inv_freq and slopes between devices but keep them in float32."""
        super()._apply(fn, recurse)
        for name, master in self._fp32_masters.items():
            current = getattr(self, name)
            if current is not None and current.dtype != torch.float32:
                setattr(self, name, master.to(device=current.device))
        return self

    # ---------------------------------------------------------------- checks
    def _check_x(self, x: Tensor, pos: Positions) -> None:
        if x.dim() != 3 or x.shape[-1] != self.d_model:
            raise ShapeError(
                f"embed expects x of shape (batch, length, {self.d_model}), got {tuple(x.shape)}"
            )
        if tuple(x.shape[:2]) != pos.shape:
            raise ShapeError(f"x is {tuple(x.shape[:2])} but positions are {pos.shape}")

    def _check_heads(self, x: Tensor, pos: Positions) -> None:
        if x.dim() != 4 or x.shape[-1] != self.head_dim:
            raise ShapeError(
                f"rotate expects (batch, heads, length, {self.head_dim}), got {tuple(x.shape)}"
            )
        if (x.shape[0], x.shape[2]) != pos.shape:
            raise ShapeError(
                f"x has (batch, length) {(x.shape[0], x.shape[2])}, positions {pos.shape}"
            )

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

    # ---------------------------------------------------------------- interface
    def embed(self, x: Tensor, pos: Positions) -> Tensor:
        """x (B, T, D) plus the absolute positional part (identity for purely relative schemes)."""
        self._check_x(x, pos)
        return x

    def rotary_index(self, pos: Positions) -> Tensor | None:
        """Index driving the rotation: (B, T), or (B, T, K) for multi-level; None if not rotary."""
        return None

    def cos_sin(
        self, pos: Positions, dtype: torch.dtype = torch.float32
    ) -> tuple[Tensor, Tensor] | None:
        """(cos, sin) of shape (B, T, Dh), to be reused across layers; None if not rotary."""
        return None

    def rotate(
        self, x: Tensor, pos: Positions, cos_sin: tuple[Tensor, Tensor] | None = None
    ) -> Tensor:
        """Rotate queries or keys x (B, H, T, Dh) (identity for non-rotary schemes)."""
        self._check_heads(x, pos)
        return x

    def bias_index(self, pos: Positions) -> Tensor | None:
        """Float index of the ALiBi-style bias: (B, T), or (B, T, K) for multi-level; None if none."""
        return None

    def extra_repr(self) -> str:
        return f"name={self.name!r}, d_model={self.d_model}, n_heads={self.n_heads}, head_dim={self.head_dim}"


class _AbsoluteMixin(PositionalScheme):
    """Adds a learned table or a sinusoidal encoding of some index to the input embeddings."""

    _table: nn.Embedding | None

    def _init_absolute(self, kind: str, rows: int, attr: str) -> None:
        self._abs_kind = kind
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


class _RotaryMixin(PositionalScheme):
    """RoPE frequencies (with scaling) applied to whichever index `rotary_index` returns."""

    rotary = True

    def _init_rotary(self) -> None:
        inv_freq, scale = rope_inv_freq(self.head_dim, self.rope_theta, self.rope_scaling)
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self._fp32_masters["inv_freq"] = inv_freq.clone()
        self.attention_scale = scale
        # frequency j rotates with level (j mod K): every level spans high and low frequencies
        self.register_buffer(
            "freq_level", torch.arange(self.head_dim // 2) % self._rotary_levels(), persistent=False
        )

    def _rotary_levels(self) -> int:
        return 1

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


class _BiasMixin(PositionalScheme):
    """ALiBi-style bias: slopes (H,) or (K, H) times the scheme's index distance."""

    has_bias = True
    default_factor: ClassVar[float] = 1.0

    def _init_bias(self, levels: int | None = None) -> None:
        factor = self.default_factor if self.alibi_factor is None else self.alibi_factor
        self.alibi_factor = factor
        base = alibi_slopes(self.n_heads, factor)
        if levels is None:
            slopes = base
        else:
            scales = self.level_factors or [1.0] * levels
            slopes = torch.stack([base * s for s in scales])
        self.slopes = slopes
        self._fp32_masters["slopes"] = slopes.clone()
