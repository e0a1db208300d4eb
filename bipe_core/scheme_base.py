"""The scheme registry (`SCHEMES`, `register_scheme`) and `PositionalScheme`, the base class of
every positional scheme. Look schemes up through `bipe_core.schemes`, which also registers the
built-in ones (`bipe_core.builtin_schemes`); this module only defines where they go.

A scheme contributes up to three things, used by the model in this order: `embed` adds the absolute
part to the input embeddings, `rotate` rotates queries and keys, and `bias_index` + `slopes` give the
ALiBi-style bias -slopes[h] * (idx[query] - idx[key]) that `bipe_core.attention.attention` applies
without materialising it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import catalogue
import torch
from torch import Tensor, nn

from bipe_core.errors import ConfigError, ShapeError
from bipe_core.positions import Positions

__all__ = [
    "SCHEMES",
    "PositionalScheme",
    "SchemeConfig",
    "one_of",
    "positive_int",
    "register_scheme",
]

# Third-party packages add schemes through the entry-point group "bipe.schemes" (catalogue reads it).
SCHEMES = catalogue.Registry(("bipe.schemes",), entry_points=True)


def register_scheme(name: str) -> Callable[[type[PositionalScheme]], type[PositionalScheme]]:
    """Class decorator adding a PositionalScheme subclass to the registry under `name`."""

    def deco(cls: type[PositionalScheme]) -> type[PositionalScheme]:
        taken = catalogue.REGISTRY.get((*SCHEMES.namespace, name))
        if taken is not None and taken is not cls:
            raise ConfigError(f"positional scheme {name!r} is already registered")
        cls.name = name
        SCHEMES.register(name, func=cls)
        return cls

    return deco


class SchemeConfig(Protocol):
    """What `PositionalScheme.from_config` reads of a `bipe_core.ModelConfig` (besides the
    scheme's options, read by name): typed structurally, as `bipe_core.config` imports the schemes."""

    d_model: int
    n_heads: int

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""

    @property
    def segment_levels(self) -> int:
        """Segment levels a hierarchical scheme reads."""


def positive_int(name: str, value: Any) -> int:
    """`value` if it is a positive int, else a ConfigError naming option `name`."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{name} must be a positive int, got {value!r}")
    return value


def one_of(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """`value` if it is one of `choices`, else a ConfigError naming option `name`."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {choices}, got {value!r}")
    return value


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
        self.d_model = positive_int("d_model", d_model)
        self.n_heads = positive_int("n_heads", n_heads)
        if head_dim is None:
            if d_model % n_heads:
                raise ConfigError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
            head_dim = d_model // n_heads
        self.head_dim = positive_int("head_dim", head_dim)
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
    def from_config(cls, config: SchemeConfig) -> PositionalScheme:
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
        """The scheme's name and sizes in the module's repr."""
        return f"name={self.name!r}, d_model={self.d_model}, n_heads={self.n_heads}, head_dim={self.head_dim}"
