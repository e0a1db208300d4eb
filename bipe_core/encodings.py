"""Positional schemes, one registry: absolute (`sinusoidal`, `learned`), relative (`rope`, `alibi`),
the paper's bilevel schemes (`bipe_rope`, `bipe_alibi`) and hierarchical multi-level variants
(`hier_rope`, `hier_alibi`).

A scheme contributes up to three things, used by the model in this order:
`embed` adds the absolute part to the input embeddings, `rotate` rotates queries and keys, and
`bias_index` + `slopes` give the ALiBi-style bias -slopes[h] * (idx[query] - idx[key]) that
`bipe_core.attention.attention` applies without materialising it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

from bipe_core.errors import ConfigError, UnknownSchemeError
from bipe_core.positions import Positions
from bipe_core.scheme_base import (
    PositionalScheme,
    _AbsoluteMixin,
    _BiasMixin,
    _RotaryMixin,
    sinusoidal_table,
)

__all__ = [
    "PositionalScheme",
    "get_scheme",
    "list_schemes",
    "register_scheme",
    "sinusoidal_table",
]

_REGISTRY: dict[str, type[PositionalScheme]] = {}


def register_scheme(name: str) -> Callable[[type[PositionalScheme]], type[PositionalScheme]]:
    """Class decorator adding a PositionalScheme subclass to the registry under `name`."""

    def deco(cls: type[PositionalScheme]) -> type[PositionalScheme]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ConfigError(f"positional scheme {name!r} is already registered")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def list_schemes() -> list[str]:
    """Names of all registered positional schemes, sorted."""
    return sorted(_REGISTRY)


def get_scheme(name: str, **cfg: Any) -> PositionalScheme:
    """Instantiate the scheme registered as `name` with configuration `cfg`."""
    if name not in _REGISTRY:
        raise UnknownSchemeError(
            f"unknown positional scheme {name!r}; valid choices: {', '.join(list_schemes())}"
        )
    return _REGISTRY[name](**cfg)


# ------------------------------------------------------------------------- schemes


@register_scheme("nope")
class NoPE(PositionalScheme):
    """No positional encoding: order comes from the causal mask only."""


@register_scheme("sinusoidal")
class Sinusoidal(_AbsoluteMixin):
    """Vaswani et al. sinusoidal encoding of the token index, added to the input."""

    def __init__(self, d_model: int, n_heads: int, head_dim: int | None = None, **cfg: Any) -> None:
        super().__init__(d_model, n_heads, head_dim, **cfg)
        self._init_absolute("sinusoidal", self.max_positions, "token_embedding")

    def _absolute_index(self, pos: Positions) -> Tensor:
        return pos.token


@register_scheme("learned")
class Learned(_AbsoluteMixin):
    """Learned absolute table of `max_positions` rows by token index (clamped beyond it)."""

    def __init__(self, d_model: int, n_heads: int, head_dim: int | None = None, **cfg: Any) -> None:
        super().__init__(d_model, n_heads, head_dim, **cfg)
        self._init_absolute("learned", self.max_positions, "token_embedding")

    def _absolute_index(self, pos: Positions) -> Tensor:
        return pos.token


@register_scheme("rope")
class RoPE(_RotaryMixin):
    """Rotary embedding by token index (Su et al.), LLaMA layout."""

    def __init__(self, d_model: int, n_heads: int, head_dim: int | None = None, **cfg: Any) -> None:
        super().__init__(d_model, n_heads, head_dim, **cfg)
        self._init_rotary()

    def rotary_index(self, pos: Positions) -> Tensor:
        return pos.token


@register_scheme("alibi")
class ALiBi(_BiasMixin):
    """ALiBi (Press et al.): bias -m_h * (token distance)."""

    def __init__(self, d_model: int, n_heads: int, head_dim: int | None = None, **cfg: Any) -> None:
        super().__init__(d_model, n_heads, head_dim, **cfg)
        self._init_bias()

    def bias_index(self, pos: Positions) -> Tensor:
        return pos.token.float()


class _BiPEBase(_AbsoluteMixin):
    """BiPE intra-segment absolute encoding (learned table of max_intra rows, or sinusoidal)."""

    uses_segments = True

    def _init_intra(self) -> None:
        self._init_absolute(self.intra_kind, self.max_intra, "intra_embedding")

    def _absolute_index(self, pos: Positions) -> Tensor:
        return pos.intra


@register_scheme("bipe_rope")
class BiPERoPE(_BiPEBase, _RotaryMixin):
    """BiPE-RoPE: intra-segment absolute encoding plus RoPE by SEGMENT index."""

    def __init__(self, d_model: int, n_heads: int, head_dim: int | None = None, **cfg: Any) -> None:
        super().__init__(d_model, n_heads, head_dim, **cfg)
        self._init_intra()
        self._init_rotary()

    def rotary_index(self, pos: Positions) -> Tensor:
        return pos.segment


@register_scheme("bipe_alibi")
class BiPEALiBi(_BiPEBase, _BiasMixin):
    """BiPE-ALiBi: intra-segment absolute encoding plus ALiBi on segment distance (slopes x 96)."""

    default_factor = 96.0

    def __init__(self, d_model: int, n_heads: int, head_dim: int | None = None, **cfg: Any) -> None:
        super().__init__(d_model, n_heads, head_dim, **cfg)
        self._init_intra()
        self._init_bias()

    def bias_index(self, pos: Positions) -> Tensor:
        return pos.segment.float()


@register_scheme("hier_rope")
class HierRoPE(_BiPEBase, _RotaryMixin):
    """Multi-level BiPE-RoPE: intra absolute + rotary frequencies shared out among K segment levels.

    Frequency j (of Dh/2) rotates with level j mod K of `Positions.levels` (coarse -> fine), so the
    score between two tokens depends only on their distance at every level.
    """

    uses_levels = True

    def __init__(self, d_model: int, n_heads: int, head_dim: int | None = None, **cfg: Any) -> None:
        super().__init__(d_model, n_heads, head_dim, **cfg)
        if self.n_levels > self.head_dim // 2:
            raise ConfigError(f"hier_rope needs n_levels <= head_dim/2, got {self.n_levels}")
        self._init_intra()
        self._init_rotary()

    def _rotary_levels(self) -> int:
        return self.n_levels

    def rotary_index(self, pos: Positions) -> Tensor:
        return self._levels(pos)


@register_scheme("hier_alibi")
class HierALiBi(_BiPEBase, _BiasMixin):
    """Multi-level BiPE-ALiBi: intra absolute + the sum of ALiBi biases on K segment levels.

    bias = -sum_k slopes[k, h] * (levels_k[query] - levels_k[key]); slopes[k] = Press slopes x
    alibi_factor (96) x level_factors[k] (default 1 for every level).
    """

    uses_levels = True
    default_factor = 96.0

    def __init__(self, d_model: int, n_heads: int, head_dim: int | None = None, **cfg: Any) -> None:
        super().__init__(d_model, n_heads, head_dim, **cfg)
        self._init_intra()
        self._init_bias(self.n_levels)

    def bias_index(self, pos: Positions) -> Tensor:
        return self._levels(pos).float()
