"""The built-in positional schemes, registered under their names: absolute (`nope`, `sinusoidal`,
`learned`), relative (`rope`, `alibi`), the paper's bilevel schemes (`bipe_rope`, `bipe_alibi`),
hierarchical multi-level variants (`hier_rope`, `hier_alibi`) and the inner-order variants
(`bipe_rope_io`, `bipe_alibi_io`). Each is a few lines on top of the parts in
`bipe_core.scheme_parts`; `bipe_core.schemes` imports this module, so every lookup sees them all.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from bipe_core.alibi import alibi_slopes
from bipe_core.errors import ConfigError
from bipe_core.positions import Positions
from bipe_core.scheme_base import PositionalScheme, one_of, positive_int, register_scheme
from bipe_core.scheme_parts import AbsolutePart, BiasPart, IntraPart, LevelsPart, RotaryPart

__all__ = [
    "INNER_INDICES",
    "ALiBi",
    "BiPEALiBi",
    "BiPEALiBiInnerOrder",
    "BiPERoPE",
    "BiPERoPEInnerOrder",
    "HierALiBi",
    "HierRoPE",
    "Learned",
    "NoPE",
    "RoPE",
    "Sinusoidal",
]


@register_scheme("nope")
class NoPE(PositionalScheme):
    """No positional encoding: order comes from the causal mask only."""


@register_scheme("sinusoidal")
class Sinusoidal(AbsolutePart):
    """Vaswani et al. sinusoidal encoding of the token index, added to the input."""

    def _build(self, o: dict[str, Any]) -> None:
        self._init_absolute("sinusoidal", 1, "token_embedding")

    def _absolute_index(self, pos: Positions) -> Tensor:
        return pos.token


@register_scheme("learned")
class Learned(AbsolutePart):
    """Learned absolute table of `max_positions` rows by token index (clamped beyond it)."""

    options: ClassVar[dict[str, Any]] = {"max_positions": 1024}

    def _build(self, o: dict[str, Any]) -> None:
        self.max_positions = positive_int("max_positions", o["max_positions"])
        self._init_absolute("learned", self.max_positions, "token_embedding")

    def _absolute_index(self, pos: Positions) -> Tensor:
        return pos.token


@register_scheme("rope")
class RoPE(RotaryPart):
    """Rotary embedding by token index (Su et al.), LLaMA layout."""

    def _build(self, o: dict[str, Any]) -> None:
        self._init_rotary(o["max_positions"], o["rope_theta"], o["rope_scaling"])

    def rotary_index(self, pos: Positions) -> Tensor:
        """Rotation by token index."""
        return pos.token


@register_scheme("alibi")
class ALiBi(BiasPart):
    """ALiBi (Press et al.): bias -m_h * (token distance)."""

    def _build(self, o: dict[str, Any]) -> None:
        self._init_bias(o["alibi_factor"])

    def bias_index(self, pos: Positions) -> Tensor:
        """Bias on token distance."""
        return pos.token.float()


@register_scheme("bipe_rope")
class BiPERoPE(IntraPart, RotaryPart):
    """BiPE-RoPE: intra-segment absolute encoding plus RoPE by SEGMENT index."""

    def _build(self, o: dict[str, Any]) -> None:
        self._init_intra(o["max_intra"], o["intra"], o["intra_init"])
        self._init_rotary(o["max_positions"], o["rope_theta"], o["rope_scaling"])

    def rotary_index(self, pos: Positions) -> Tensor:
        """Rotation by segment index."""
        return pos.segment


@register_scheme("bipe_alibi")
class BiPEALiBi(IntraPart, BiasPart):
    """BiPE-ALiBi: intra-segment absolute encoding plus ALiBi on segment distance (slopes x 96)."""

    default_alibi_factor = 96.0  # the paper's multiplier

    def _build(self, o: dict[str, Any]) -> None:
        self._init_intra(o["max_intra"], o["intra"], o["intra_init"])
        self._init_bias(o["alibi_factor"])

    def bias_index(self, pos: Positions) -> Tensor:
        """Bias on segment distance."""
        return pos.segment.float()


@register_scheme("hier_rope")
class HierRoPE(IntraPart, LevelsPart, RotaryPart):
    """Multi-level BiPE-RoPE: intra absolute + rotary frequencies shared out among K segment levels.

    Frequency j (of Dh/2) rotates with level j mod K of `Positions.levels` (coarse -> fine), so the
    score between two tokens depends only on their distance at every level.
    """

    def _build(self, o: dict[str, Any]) -> None:
        self._init_levels(o["n_levels"])
        if self.n_levels > self.head_dim // 2:
            raise ConfigError(f"hier_rope needs n_levels <= head_dim/2, got {self.n_levels}")
        self._init_intra(o["max_intra"], o["intra"], o["intra_init"])
        self._init_rotary(o["max_positions"], o["rope_theta"], o["rope_scaling"], self.n_levels)

    def rotary_index(self, pos: Positions) -> Tensor:
        """Rotation by every segment level (B, T, K), coarse -> fine."""
        return self._levels(pos)


@register_scheme("hier_alibi")
class HierALiBi(IntraPart, LevelsPart, BiasPart):
    """Multi-level BiPE-ALiBi: intra absolute + the sum of ALiBi biases on K segment levels.

    bias = -sum_k slopes[k, h] * (levels_k[query] - levels_k[key]); slopes[k] = Press slopes x
    alibi_factor (96) x level_factors[k] (default 1 for every level).
    """

    default_alibi_factor = 96.0
    options: ClassVar[dict[str, Any]] = {"level_factors": None}

    def _build(self, o: dict[str, Any]) -> None:
        self._init_levels(o["n_levels"])
        self._init_intra(o["max_intra"], o["intra"], o["intra_init"])
        self._init_bias(o["alibi_factor"], self.n_levels, o["level_factors"])

    def bias_index(self, pos: Positions) -> Tensor:
        """Bias on the distance at every segment level (B, T, K)."""
        return self._levels(pos).float()


# ------------------------------------------------------------------------------ inner order (issue 12)
# BiPE gives tokens inside a segment no relative order, only the absolute intra table. These named
# variants add a relative order on the *bounded* intra index (or, for RoPE, optionally the token
# index on the highest frequencies only) beside the segment-level encoding. `bipe_rope` and
# `bipe_alibi` above stay the paper's schemes.

INNER_INDICES = ("intra", "token")


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


@register_scheme("bipe_alibi_io")
class BiPEALiBiInnerOrder(IntraPart, BiasPart):
    """BiPE-ALiBi plus inner order: a second ALiBi bias on the intra index (slopes x
    `intra_alibi_factor`, default 1) beside the segment bias (x `alibi_factor`, default 96).

    bias = -(m_h * 96 * (seg_q - seg_k) + m_h * f * (intra_q - intra_k)). The intra index is
    bounded by ``max_intra``, so the second bias never leaves the range seen in training. Across
    segments the intra difference can be negative; the x96 segment bias dominates it there.
    """

    default_alibi_factor = 96.0
    options: ClassVar[dict[str, Any]] = {"intra_alibi_factor": 1.0}

    def _build(self, o: dict[str, Any]) -> None:
        self._init_intra(o["max_intra"], o["intra"], o["intra_init"])
        self._init_bias(o["alibi_factor"])
        f = o["intra_alibi_factor"]
        if isinstance(f, bool) or not isinstance(f, int | float) or not f > 0:
            raise ConfigError(f"intra_alibi_factor must be a positive number, got {f!r}")
        self.intra_alibi_factor = float(f)
        slopes = torch.stack([self.slopes, alibi_slopes(self.n_heads, self.intra_alibi_factor)])
        self.slopes = slopes
        self._fp32_masters["slopes"] = slopes.clone()

    def bias_index(self, pos: Positions) -> Tensor:
        """Bias on segment and on intra distance (B, T, 2)."""
        return torch.stack((pos.segment, pos.intra), dim=-1).float()


@register_scheme("bipe_rope_io")
class BiPERoPEInnerOrder(IntraPart, RotaryPart):
    """BiPE-RoPE plus inner order, by frequency band: the highest-frequency `inner_frac` of the
    rotary pairs rotate by the inner index (`inner_index`: "intra", bounded, or "token"), the
    lowest `still_frac` do not rotate at all, and the pairs between rotate by segment index.

    With ``inner_index="intra"`` every rotated angle stays in the range seen in training (intra is
    bounded, segment counts grow slowly), so extrapolation is kept; ``"token"`` gives exact token
    distances on the fast pairs (whose angles wrap many times within the training length).
    ``inner_frac=still_frac=0`` is `bipe_rope` exactly.
    """

    options: ClassVar[dict[str, Any]] = {
        "inner_index": "intra",
        "inner_frac": 0.25,
        "still_frac": 0.25,
    }

    def _build(self, o: dict[str, Any]) -> None:
        self._init_intra(o["max_intra"], o["intra"], o["intra_init"])
        self._init_rotary(o["max_positions"], o["rope_theta"], o["rope_scaling"])
        self.inner_index = one_of("inner_index", o["inner_index"], INNER_INDICES)
        inner = _fraction("inner_frac", o["inner_frac"])
        still = _fraction("still_frac", o["still_frac"])
        if inner + still > 1:
            raise ConfigError(f"inner_frac + still_frac must be <= 1, got {inner} + {still}")
        pairs = self.head_dim // 2
        self.n_inner, self.n_still = round(inner * pairs), round(still * pairs)
        # rope_inv_freq is highest frequency first: level 0 = inner, 1 = segment, 2 = no rotation
        level = torch.ones(pairs, dtype=torch.long)
        level[: self.n_inner] = 0
        level[pairs - self.n_still :] = 2
        self.freq_level = level

    def rotary_index(self, pos: Positions) -> Tensor:
        """Rotation per band (B, T, 3): inner index, segment index, none."""
        inner = pos.intra if self.inner_index == "intra" else pos.token
        return torch.stack((inner, pos.segment, torch.zeros_like(pos.segment)), dim=-1)
