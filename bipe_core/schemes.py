"""Positional schemes, one registry: absolute (`sinusoidal`, `learned`), relative (`rope`, `alibi`),
the paper's bilevel schemes (`bipe_rope`, `bipe_alibi`) and hierarchical multi-level variants
(`hier_rope`, `hier_alibi`).

A scheme contributes up to three things, used by the model in this order: `embed` adds the absolute
part to the input embeddings, `rotate` rotates queries and keys, and `bias_index` + `slopes` give the
ALiBi-style bias -slopes[h] * (idx[query] - idx[key]) that `bipe_core.attention.attention` applies
without materialising it.

Each scheme class declares what it is (`rotary`, `has_bias`, `uses_segments`, `uses_levels`,
`intra_table`, `default_alibi_factor`) and what it uses: each part declares its options with their
defaults (`options`), the constructor takes exactly the options of the scheme's parts and refuses
any other, and `scheme_class(name).option_names()` lists them. Every fact about a scheme is read
from here (`scheme_class`), never from lists kept elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor, nn

from bipe_core.alibi import alibi_slopes
from bipe_core.errors import ConfigError, ShapeError, UnknownSchemeError
from bipe_core.positions import Positions
from bipe_core.rope import apply_rotary, parse_rope_scaling, rope_inv_freq

if TYPE_CHECKING:
    from bipe_core.config import ModelConfig

__all__ = [
    "INNER_INDICES",
    "INTRA_INITS",
    "INTRA_KINDS",
    "PositionalScheme",
    "get_scheme",
    "list_schemes",
    "register_scheme",
    "scheme_class",
    "sinusoidal_table",
]

INTRA_KINDS = ("learned", "sinusoidal")
# "zeros": a learned intra table that starts as "no intra position" instead of noise (an ablation)
INTRA_INITS = ("normal", "zeros")

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


def scheme_class(name: str) -> type[PositionalScheme]:
    """The class registered as `name`: read its facts (`uses_segments`, `rotary`, ...) from here."""
    if name not in _REGISTRY:
        raise UnknownSchemeError(
            f"unknown positional scheme {name!r}; valid choices: {', '.join(list_schemes())}"
        )
    return _REGISTRY[name]


def get_scheme(name: str, **options: Any) -> PositionalScheme:
    """Instantiate the scheme registered as `name`; options it does not use raise ConfigError."""
    return scheme_class(name)(**options)


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


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {choices}, got {value!r}")
    return value


# ------------------------------------------------------------------------------ base and parts


class PositionalScheme(nn.Module):
    """Base class: identity embed/rotate and no bias; subclasses switch parts on."""

    name: ClassVar[str] = "base"
    rotary: ClassVar[bool] = False
    has_bias: ClassVar[bool] = False
    uses_segments: ClassVar[bool] = False  # needs intra/segment positions (BiPE, hierarchical)
    uses_levels: ClassVar[bool] = False  # needs Positions.levels (hierarchical)
    intra_table: ClassVar[bool] = False  # adds an absolute encoding of the intra-segment index
    default_alibi_factor: ClassVar[float] = 1.0  # slope multiplier when alibi_factor is None
    options: ClassVar[dict[str, Any]] = {}  # this part's options and their defaults

    def __init__(
        self, d_model: int, n_heads: int, head_dim: int | None = None, **options: Any
    ) -> None:
        super().__init__()
        unused = sorted(set(options) - set(self.option_names()))
        if unused:
            raise ConfigError(
                f"scheme {self.name!r} does not use option(s) {', '.join(unused)}; it takes: "
                f"{', '.join(('d_model', 'n_heads', 'head_dim', *self.option_names()))}"
            )
        self.d_model = _positive_int("d_model", d_model)
        self.n_heads = _positive_int("n_heads", n_heads)
        if head_dim is None:
            if d_model % n_heads:
                raise ConfigError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
            head_dim = d_model // n_heads
        self.head_dim = _positive_int("head_dim", head_dim)
        self.attention_scale = 1.0
        self.register_buffer("slopes", None, persistent=False)
        # float32 masters of inv_freq / slopes: dtype casts of the module (model.half()) must not
        # round them, so `_apply` restores them from here after every cast
        self._fp32_masters: dict[str, Tensor] = {}
        self._build({**self.option_defaults(), **options})

    def _build(self, o: dict[str, Any]) -> None:
        """Build the scheme's parts from its options (defaults filled in)."""

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        """Every option of the scheme's parts with its default."""
        out: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            out.update(vars(klass).get("options", {}))
        return out

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """The options this scheme reads (beyond d_model, n_heads and head_dim)."""
        return tuple(cls.option_defaults())

    @classmethod
    def from_config(cls, config: ModelConfig) -> PositionalScheme:
        """The scheme with the options it uses taken from a ModelConfig."""
        options: dict[str, Any] = {}
        for name in cls.option_names():
            if name == "n_levels":
                options[name] = config.segment_levels  # outer levels, then segment
            elif hasattr(config, name):
                options[name] = getattr(config, name)
        return cls(config.d_model, config.n_heads, config.head_dim, **options)

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

    def intra_parameter_name(self) -> str | None:
        """Name (inside this module) of the learned intra-segment table, if the scheme has one."""
        return None

    def reset_intra(self) -> None:
        """Apply the intra table's initialisation choice after the model's generic init."""

    def extra_repr(self) -> str:
        return f"name={self.name!r}, d_model={self.d_model}, n_heads={self.n_heads}, head_dim={self.head_dim}"


class _AbsoluteMixin(PositionalScheme):
    """Adds a learned table or a sinusoidal encoding of some index to the input embeddings."""

    def _init_absolute(self, kind: str, rows: int, attr: str) -> None:
        self._abs_kind = _choice("intra", kind, INTRA_KINDS)
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
        self.max_positions = _positive_int("max_positions", max_positions)
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


class _BiasMixin(PositionalScheme):
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


class _IntraMixin(_AbsoluteMixin):
    """BiPE intra-segment absolute encoding (learned table of max_intra rows, or sinusoidal)."""

    uses_segments = True
    intra_table = True
    options: ClassVar[dict[str, Any]] = {
        "max_intra": 1024,
        "intra": "learned",
        "intra_init": "normal",
    }

    def _init_intra(self, max_intra: int, intra: str, intra_init: str) -> None:
        self.max_intra = _positive_int("max_intra", max_intra)
        self.intra_kind = _choice("intra", intra, INTRA_KINDS)
        self.intra_init = _choice("intra_init", intra_init, INTRA_INITS)
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


class _LevelsMixin(PositionalScheme):
    """Reads the hierarchical `Positions.levels` (coarse -> fine, the segment index last)."""

    uses_levels = True
    options: ClassVar[dict[str, Any]] = {"n_levels": 2}

    def _init_levels(self, n_levels: int) -> None:
        self.n_levels = _positive_int("n_levels", n_levels)

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


# ------------------------------------------------------------------------------ the schemes


@register_scheme("nope")
class NoPE(PositionalScheme):
    """No positional encoding: order comes from the causal mask only."""


@register_scheme("sinusoidal")
class Sinusoidal(_AbsoluteMixin):
    """Vaswani et al. sinusoidal encoding of the token index, added to the input."""

    def _build(self, o: dict[str, Any]) -> None:
        self._init_absolute("sinusoidal", 1, "token_embedding")

    def _absolute_index(self, pos: Positions) -> Tensor:
        return pos.token


@register_scheme("learned")
class Learned(_AbsoluteMixin):
    """Learned absolute table of `max_positions` rows by token index (clamped beyond it)."""

    options: ClassVar[dict[str, Any]] = {"max_positions": 1024}

    def _build(self, o: dict[str, Any]) -> None:
        self.max_positions = _positive_int("max_positions", o["max_positions"])
        self._init_absolute("learned", self.max_positions, "token_embedding")

    def _absolute_index(self, pos: Positions) -> Tensor:
        return pos.token


@register_scheme("rope")
class RoPE(_RotaryMixin):
    """Rotary embedding by token index (Su et al.), LLaMA layout."""

    def _build(self, o: dict[str, Any]) -> None:
        self._init_rotary(o["max_positions"], o["rope_theta"], o["rope_scaling"])

    def rotary_index(self, pos: Positions) -> Tensor:
        return pos.token


@register_scheme("alibi")
class ALiBi(_BiasMixin):
    """ALiBi (Press et al.): bias -m_h * (token distance)."""

    def _build(self, o: dict[str, Any]) -> None:
        self._init_bias(o["alibi_factor"])

    def bias_index(self, pos: Positions) -> Tensor:
        return pos.token.float()


@register_scheme("bipe_rope")
class BiPERoPE(_IntraMixin, _RotaryMixin):
    """BiPE-RoPE: intra-segment absolute encoding plus RoPE by SEGMENT index."""

    def _build(self, o: dict[str, Any]) -> None:
        self._init_intra(o["max_intra"], o["intra"], o["intra_init"])
        self._init_rotary(o["max_positions"], o["rope_theta"], o["rope_scaling"])

    def rotary_index(self, pos: Positions) -> Tensor:
        return pos.segment


@register_scheme("bipe_alibi")
class BiPEALiBi(_IntraMixin, _BiasMixin):
    """BiPE-ALiBi: intra-segment absolute encoding plus ALiBi on segment distance (slopes x 96)."""

    default_alibi_factor = 96.0  # the paper's multiplier

    def _build(self, o: dict[str, Any]) -> None:
        self._init_intra(o["max_intra"], o["intra"], o["intra_init"])
        self._init_bias(o["alibi_factor"])

    def bias_index(self, pos: Positions) -> Tensor:
        return pos.segment.float()


@register_scheme("hier_rope")
class HierRoPE(_IntraMixin, _LevelsMixin, _RotaryMixin):
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
        return self._levels(pos)


@register_scheme("hier_alibi")
class HierALiBi(_IntraMixin, _LevelsMixin, _BiasMixin):
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
class BiPEALiBiInnerOrder(_IntraMixin, _BiasMixin):
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
        return torch.stack((pos.segment, pos.intra), dim=-1).float()


@register_scheme("bipe_rope_io")
class BiPERoPEInnerOrder(_IntraMixin, _RotaryMixin):
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
        self.inner_index = _choice("inner_index", o["inner_index"], INNER_INDICES)
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
        inner = pos.intra if self.inner_index == "intra" else pos.token
        return torch.stack((inner, pos.segment, torch.zeros_like(pos.segment)), dim=-1)
