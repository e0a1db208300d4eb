"""Validated attention inputs: `AttentionSpec`, shared by the SDPA paths (`bipe_core.attention`)
and the FlexAttention path (`bipe_core.flex`), so neither imports the other for it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor

from bipe_core.errors import ShapeError

__all__ = ["AttentionSpec", "validate_attention"]


@dataclass
class AttentionSpec:
    """Validated attention inputs in canonical shapes."""

    B: int
    H: int
    Tq: int
    Tk: int
    Dh: int
    scale: float
    slopes: Tensor | None  # (K, H)
    q_index: Tensor | None  # (B, Tq, K)
    k_index: Tensor | None  # (B, Tk, K)
    q_doc: Tensor | None
    k_doc: Tensor | None
    key_padding_mask: Tensor | None
    causal: bool

    @property
    def needs_mask(self) -> bool:
        """Whether a boolean mask beyond plain square causality is needed."""
        return (
            self.q_doc is not None
            or self.key_padding_mask is not None
            or (self.causal and self.Tq != self.Tk and self.Tq > 1)
        )


def validate_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    slopes: Tensor | None,
    q_index: Tensor | None,
    k_index: Tensor | None,
    q_doc: Tensor | None,
    k_doc: Tensor | None,
    key_padding_mask: Tensor | None,
    causal: bool,
    scale: float | None,
) -> AttentionSpec:
    """Check q, k, v and the bias/document/padding inputs; the canonical `AttentionSpec` of them."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, Tensor) or t.dim() != 4:
            raise ShapeError(f"{name} must be a (batch, heads, length, head_dim) tensor")
        if not t.dtype.is_floating_point:
            raise ShapeError(f"{name} must be floating point, got {t.dtype}")
    B, H, Tq, Dh = q.shape
    if k.shape[:2] != (B, H) or k.shape[3] != Dh:
        raise ShapeError(f"k {tuple(k.shape)} does not fit q {tuple(q.shape)}")
    Tk = k.shape[2]
    if v.shape[:3] != (B, H, Tk):
        raise ShapeError(f"v {tuple(v.shape)} does not fit k {tuple(k.shape)}")
    if q.dtype != k.dtype or q.dtype != v.dtype:
        raise ShapeError(f"q, k, v dtypes differ: {q.dtype}, {k.dtype}, {v.dtype}")
    if causal and Tq > Tk:
        raise ShapeError(f"causal attention needs Tq <= Tk, got Tq={Tq}, Tk={Tk}")
    if scale is None:
        scale = 1.0 / math.sqrt(Dh)
    sl, qi, ki = _bias_inputs(slopes, q_index, k_index, B, H, Tq, Tk)
    if (q_doc is None) != (k_doc is None):
        raise ShapeError("q_doc and k_doc must be given together")
    if q_doc is not None and (tuple(q_doc.shape) != (B, Tq) or tuple(k_doc.shape) != (B, Tk)):  # type: ignore[union-attr]
        raise ShapeError(f"q_doc/k_doc must be {(B, Tq)}/{(B, Tk)}")
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (B, Tk):
            raise ShapeError(
                f"key_padding_mask must be {(B, Tk)}, got {tuple(key_padding_mask.shape)}"
            )
        key_padding_mask = key_padding_mask.bool()
    return AttentionSpec(
        B, H, Tq, Tk, Dh, float(scale), sl, qi, ki, q_doc, k_doc, key_padding_mask, causal
    )


def _bias_inputs(
    slopes: Tensor | None,
    q_index: Tensor | None,
    k_index: Tensor | None,
    B: int,
    H: int,
    Tq: int,
    Tk: int,
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """Slopes (K, H) and indices (B, Tq, K) / (B, Tk, K) of the bias, checked; Nones without one."""
    if slopes is None:
        if q_index is not None or k_index is not None:
            raise ShapeError("q_index/k_index given without slopes")
        return None, None, None
    if q_index is None or k_index is None:
        raise ShapeError("slopes need both q_index and k_index")
    sl = slopes[None] if slopes.dim() == 1 else slopes
    if sl.dim() != 2 or sl.shape[1] != H:
        raise ShapeError(
            f"slopes must be (heads,) or (levels, heads) with heads={H}, got {tuple(slopes.shape)}"
        )
    K = sl.shape[0]
    qi = q_index[..., None] if q_index.dim() == 2 else q_index
    ki = k_index[..., None] if k_index.dim() == 2 else k_index
    if tuple(qi.shape) != (B, Tq, K) or tuple(ki.shape) != (B, Tk, K):
        raise ShapeError(
            f"q_index/k_index must be (batch, Tq[, {K}]) / (batch, Tk[, {K}]) = "
            f"{(B, Tq)} / {(B, Tk)}, got {tuple(q_index.shape)} / {tuple(k_index.shape)}"
        )
    return sl, qi, ki
