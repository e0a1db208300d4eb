"""`ModelConfig`: every architecture choice of a `DecoderLM`, validated, round-tripping via JSON."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bipe_core.errors import ConfigError
from bipe_core.positions import OVERFLOW_MODES
from bipe_core.rope import parse_rope_scaling
from bipe_core.schemes import (
    INNER_INDICES,
    INTRA_INITS,
    INTRA_KINDS,
    PositionalScheme,
    list_schemes,
    scheme_class,
)


@dataclass
class ModelConfig:
    """Architecture of a LLaMA-style decoder and the positional scheme it uses.

    The fields marked "positions" decide how token, intra-segment and segment indices are derived
    from ``input_ids``: a token whose id is in ``separator_ids`` closes its segment (the paper's
    convention: the separator is the last token of the segment it closes).
    """

    vocab_size: int
    d_model: int
    n_layers: int
    n_heads: int
    scheme: str = "bipe_rope"
    n_kv_heads: int | None = None  # None: n_heads (no grouped-query attention)
    ffn_hidden: int | None = None  # None: LLaMA's 2/3 * 4 * d_model rounded up to ffn_multiple_of
    ffn_multiple_of: int = 256
    # positions
    separator_ids: tuple[int, ...] = ()  # token ids that close a segment (paper's LLaMA: 869, 13)
    level_separator_ids: tuple[tuple[int, ...], ...] = ()  # outer levels for hierarchical schemes
    # Segment levels a hierarchical scheme reads (outer levels + the segment level) when positions
    # come as arrays; None: one per level_separator_ids set plus one. See `segment_levels`.
    n_levels: int | None = None
    max_positions: int = 1024  # training length: rows of the learned absolute/intra tables
    max_intra: int | None = None  # None: max_positions (the paper: table size = training length)
    intra: str = "learned"  # BiPE intra-segment encoding: learned table or fixed sinusoids
    intra_init: str = "normal"  # "zeros": the learned intra table starts at 0 (an ablation)
    overflow: str = (
        "split"  # intra index >= max_intra: open a new segment ("split") or clip ("clamp")
    )
    # encodings
    rope_theta: float = 10000.0
    rope_scaling: dict[str, Any] | None = (
        None  # {"type": "linear"|"ntk"|"yarn", "factor": 4.0, ...}
    )
    alibi_factor: float | None = None  # None: scheme default (96 for bipe_alibi, 1 otherwise)
    # hier_alibi: slope multiplier per segment level, coarse -> fine; None: 1 for every level
    level_factors: tuple[float, ...] | None = None
    # inner-order variants (bipe_alibi_io, bipe_rope_io; docs/core.md); other schemes ignore them
    intra_alibi_factor: float = 1.0  # bipe_alibi_io: slope multiplier of the intra-index bias
    inner_index: str = "intra"  # bipe_rope_io: index of the fastest pairs, "intra" or "token"
    inner_frac: float = 0.25  # bipe_rope_io: share of rotary pairs (fastest) on the inner index
    still_frac: float = 0.25  # bipe_rope_io: share of rotary pairs (slowest) not rotated
    # body
    tie_embeddings: bool = False  # LLaMA and the paper keep a separate lm_head
    norm_eps: float = 1e-5
    dropout: float = 0.0
    init_std: float = 0.02
    attn_impl: str = "auto"  # passed to bipe_core.attention.attention
    debug: bool = False  # check inputs and activations for NaN/inf (slower)
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes kept in checkpoints

    def __post_init__(self) -> None:
        self.separator_ids = tuple(int(s) for s in (self.separator_ids or ()))
        self.level_separator_ids = tuple(
            tuple(int(s) for s in level) for level in (self.level_separator_ids or ())
        )
        if isinstance(self.level_factors, list | tuple):
            self.level_factors = tuple(self.level_factors)
        if self.n_kv_heads is None:
            self.n_kv_heads = self.n_heads
        if self.max_intra is None:
            self.max_intra = self.max_positions
        if (
            self.ffn_hidden is None
            and _is_pos_int(self.d_model)
            and _is_pos_int(self.ffn_multiple_of)
        ):
            hidden = int(2 * 4 * self.d_model / 3)
            m = self.ffn_multiple_of
            self.ffn_hidden = m * ((hidden + m - 1) // m)
        if self.alibi_factor is None and self.scheme in list_schemes():
            self.alibi_factor = scheme_class(self.scheme).default_alibi_factor
        self.validate()

    @property
    def segment_levels(self) -> int:
        """Columns of `Positions.levels` a hierarchical scheme reads (the one place this is derived)."""
        if self.n_levels is not None:
            return self.n_levels
        return len(self.level_separator_ids) + 1

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.d_model // self.n_heads

    def validate(self) -> None:
        """Raise ConfigError naming every bad field (UnknownSchemeError for a bad scheme name)."""
        scheme = scheme_class(self.scheme)  # UnknownSchemeError names the valid ones
        bad = [
            f"{name}={getattr(self, name)!r} ({why})"
            for name, check, why in _FIELD_RULES
            if not check(getattr(self, name))
        ]
        bad.extend(_relation_problems(self, scheme))
        if bad:
            raise ConfigError("Invalid ModelConfig: " + "; ".join(bad))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        out = dataclasses.asdict(self)
        out["separator_ids"] = list(self.separator_ids)
        out["level_separator_ids"] = [list(level) for level in self.level_separator_ids]
        if self.level_factors is not None:
            out["level_factors"] = list(self.level_factors)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build a config from ``to_dict`` output; unknown keys raise ConfigError."""
        if not isinstance(data, dict):
            raise ConfigError(f"A model config must be a dict, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(
                f"Unknown ModelConfig key(s): {', '.join(unknown)}. "
                f"Valid keys: {', '.join(sorted(names))}"
            )
        missing = sorted(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
            and f.name not in data
        )
        if missing:
            raise ConfigError(f"ModelConfig is missing required key(s): {', '.join(missing)}")
        return cls(**data)

    def replace(self, **changes: Any) -> ModelConfig:
        """A copy with some fields changed (validated again)."""
        return ModelConfig.from_dict({**self.to_dict(), **changes})


def _is_pos_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_positive_finite(value: Any) -> bool:
    return _is_number(value) and value > 0 and math.isfinite(value)


def _factors_ok(value: Any) -> bool:
    return value is None or (
        isinstance(value, tuple) and len(value) > 0 and all(map(_is_positive_finite, value))
    )


_POSITIVE_INTS = (
    "vocab_size", "d_model", "n_layers", "n_heads", "n_kv_heads", "max_positions", "max_intra",
)  # fmt: skip
_CHOICES = (
    ("intra", INTRA_KINDS),
    ("intra_init", INTRA_INITS),
    ("overflow", OVERFLOW_MODES),
    ("inner_index", INNER_INDICES),
)

# (field, check, why): a value failing its check is reported as "field=value (why)"
_FIELD_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    *((name, _is_pos_int, "must be a positive integer") for name in _POSITIVE_INTS),
    # None: derived from d_model, which is reported instead
    ("ffn_hidden", lambda v: v is None or _is_pos_int(v), "must be a positive integer"),
    ("ffn_multiple_of", _is_pos_int, "must be a positive integer"),
    ("n_levels", lambda v: v is None or _is_pos_int(v), "must be a positive integer or None"),
    *(
        (name, choices.__contains__, f"choose one of {', '.join(choices)}")
        for name, choices in _CHOICES
    ),
    *(
        (name, lambda v: _is_number(v) and 0 <= v <= 1, "must be a number in [0, 1]")
        for name in ("inner_frac", "still_frac")
    ),
    *(
        (name, _is_positive_finite, "must be a positive finite number")
        for name in ("rope_theta", "norm_eps", "init_std", "alibi_factor", "intra_alibi_factor")
    ),
    ("dropout", lambda v: _is_number(v) and 0.0 <= v < 1.0, "must be in [0, 1)"),
    ("rope_theta", lambda v: not isinstance(v, int | float) or v > 1, "must be > 1"),
    ("level_factors", _factors_ok, "must be None or a list of positive numbers, one per level"),
    ("extra", lambda v: isinstance(v, dict), "must be a dict"),
)


def _relation_problems(c: ModelConfig, scheme: type[PositionalScheme]) -> list[str]:
    """What is wrong between fields that are each fine alone."""
    bad: list[str] = []
    if all(_is_pos_int(v) for v in (c.d_model, c.n_heads, c.n_kv_heads)):
        if c.d_model % c.n_heads:
            bad.append(f"d_model={c.d_model} is not divisible by n_heads={c.n_heads}")
        elif c.head_dim % 2 and scheme.rotary:
            bad.append(f"head_dim={c.head_dim} must be even for rotary schemes")
        if c.n_heads % c.n_kv_heads:
            bad.append(f"n_heads={c.n_heads} is not a multiple of n_kv_heads={c.n_kv_heads}")
    sets = len(c.level_separator_ids)
    if _is_pos_int(c.n_levels) and sets and c.n_levels != sets + 1:
        bad.append(
            f"n_levels={c.n_levels} disagrees with {sets} level_separator_ids sets "
            "(n_levels counts them plus the segment level)"
        )
    for sid in (*c.separator_ids, *(s for level in c.level_separator_ids for s in level)):
        if _is_pos_int(c.vocab_size) and not 0 <= sid < c.vocab_size:
            bad.append(f"separator id {sid} is outside the vocabulary [0, {c.vocab_size})")
    fracs = (c.inner_frac, c.still_frac)
    if all(isinstance(f, int | float) for f in fracs) and fracs[0] + fracs[1] > 1:
        bad.append(f"inner_frac + still_frac = {fracs[0] + fracs[1]} (must be <= 1)")
    try:
        parse_rope_scaling(c.rope_scaling, c.max_positions if _is_pos_int(c.max_positions) else 1)
    except ConfigError as exc:
        bad.append(str(exc))
    factors, levels = c.level_factors, c.segment_levels
    if (
        "level_factors" in scheme.option_names()
        and isinstance(factors, tuple)
        and _is_pos_int(levels)
        and len(factors) != levels
    ):
        bad.append(
            f"level_factors={list(factors)} has {len(factors)} factors for {levels} segment "
            "levels (one per level: the level_separator_ids sets plus the segment level)"
        )
    return bad
