"""Causal attention for every positional scheme with memory linear in sequence length.

`attention(q, k, v, ...)` serves the full forward and cached decoding alike: q is (B, H, Tq, Dh),
k/v are (B, H, Tk, Dh) with Tq <= Tk, and query i sits at key position Tk - Tq + i.

An ALiBi-style bias -slopes[h] * (q_index[i] - k_index[j]) is never materialised: it rides in a
few extra q/k dimensions placed before the head dimensions (see `_bias_dims`), so SDPA's CPU flash
kernel runs unchanged with memory linear in length. The dims carry indices relative to a reference
(the query block's largest index) and the query's own offset, split so that every product is exact
in float32: the result matches the relative formula to float32 rounding, unlike the paper's
absolute form (+slope * k_index, which loses precision as indices grow).

Paths (`impl`): "sdpa" one SDPA call (a (Tq x Tk) bool mask is materialised only when documents,
padding or Tq < Tk need one); "blocked" loops over query blocks of `block_size`, building only
(block x Tk) masks, each block checkpointed under autograd; "reference" the naive materialising
version; "flex" compiled FlexAttention (CUDA only). "auto" takes one SDPA call when no mask is
needed and the bias stays exact, else "blocked". Half-precision inputs with a bias are computed in
float32 inside (linear extra memory) and returned in their dtype.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from bipe_core.attention_spec import AttentionSpec, validate_attention
from bipe_core.debug import check_finite, is_debug
from bipe_core.errors import ConfigError
from bipe_core.flex import flex_attention_path

__all__ = ["IMPLS", "attention", "reference_attention"]

IMPLS = ("auto", "sdpa", "blocked", "reference", "flex")
DEFAULT_BLOCK = 512


def _allowed(
    spec: AttentionSpec, start: int, end: int, kend: int, device: torch.device
) -> Tensor | None:
    """(B or 1, 1, end-start, kend) bool mask of keys [0, kend) visible to queries [start, end)."""
    mask: Tensor | None = None
    if spec.causal:
        qpos = torch.arange(start, end, device=device) + (spec.Tk - spec.Tq)
        mask = (torch.arange(kend, device=device)[None, :] <= qpos[:, None])[None, None]
    if spec.q_doc is not None:
        assert spec.k_doc is not None
        same = spec.q_doc[:, start:end, None] == spec.k_doc[:, None, :kend]
        mask = same[:, None] if mask is None else mask & same[:, None]
    if spec.key_padding_mask is not None:
        kp = spec.key_padding_mask[:, None, None, :kend]
        mask = kp if mask is None else mask & kp
    return mask


def _split_hi_lo(c: Tensor) -> tuple[Tensor, Tensor]:
    """Split float32 values c into c_hi (12 significant bits) + c_lo, both exact in float32."""
    c64 = c.to(torch.float64)
    mant, exp = torch.frexp(c64)
    hi = torch.ldexp(torch.round(torch.ldexp(mant, torch.full_like(exp, 12))), exp - 12)
    return hi, c64 - hi


def _single_call_exact(spec: AttentionSpec) -> bool:
    """Whether one fold with a single reference keeps the bias products exact in float32:
    significant bits of c_hi plus bits of the query-index range must fit in 23."""
    assert spec.slopes is not None and spec.q_index is not None
    c = (spec.slopes.to(torch.float64) / spec.scale).to(torch.float32)
    hi, _ = _split_hi_lo(c)
    mant, _ = torch.frexp(hi)
    ints = torch.round(torch.ldexp(mant.abs(), torch.full_like(mant, 12, dtype=torch.int32))).long()
    ints = ints.clamp(min=1)
    trailing = (ints & -ints).to(torch.float64).log2().round().long()  # trailing zero bits
    sig_bits = int((12 - trailing).amax())
    span = spec.q_index.amax(dim=1) - spec.q_index.amin(dim=1)  # (B, K)
    return float(span.max()) + 1 < 2.0 ** (23 - sig_bits)


def _bias_dims(
    spec: AttentionSpec, start: int, end: int, kstart: int, kend: int, dtype: torch.dtype
) -> tuple[Tensor, Tensor]:
    """Extra q/k dims carrying the bias of queries [start, end) against keys [kstart, kend).

    Per level, c = slopes / scale is split as c_hi + c_lo (12 bits each) and with n = index - ref
    (ref = the block's largest query index) the dims are q: [c_hi, -c_hi*n_q, c_lo, -c_lo*n_q],
    k: [n_k, 1, n_k, 1]. They come BEFORE the head dims, so a sequentially accumulating GEMM
    computes c_hi*n_k - c_hi*n_q exactly (both products are exact) and the row constant cancels
    before the small q.k terms are added: the result is as precise as the relative formula.
    """
    assert spec.slopes is not None and spec.q_index is not None and spec.k_index is not None
    K = spec.slopes.shape[0]
    pad = (4 * K + 7) // 8 * 8
    B, H = spec.B, spec.H
    qi = spec.q_index[:, start:end].to(torch.float64)  # (B, blk, K)
    ki = spec.k_index[:, kstart:kend].to(torch.float64)  # (B, nk, K)
    ref = qi.amax(dim=1, keepdim=True)
    nq = (qi - ref).to(torch.float32).to(torch.float64)
    nk = (ki - ref).to(torch.float32)
    c = (spec.slopes.to(torch.float64) / spec.scale).to(torch.float32)  # (K, H)
    hi, lo = _split_hi_lo(c)
    qx = torch.zeros(B, H, end - start, pad, dtype=torch.float64, device=qi.device)
    kx = torch.zeros(B, 1, kend - kstart, pad, dtype=torch.float32, device=qi.device)
    for lvl in range(K):
        o = 4 * lvl
        nql = nq[:, None, :, lvl]  # (B, 1, blk)
        qx[..., o] = hi[lvl][None, :, None]
        qx[..., o + 1] = -hi[lvl][None, :, None] * nql
        qx[..., o + 2] = lo[lvl][None, :, None]
        qx[..., o + 3] = -lo[lvl][None, :, None] * nql
        kx[:, 0, :, o] = nk[..., lvl]
        kx[:, 0, :, o + 1] = 1.0
        kx[:, 0, :, o + 2] = nk[..., lvl]
        kx[:, 0, :, o + 3] = 1.0
    return qx.to(dtype), kx.to(dtype).expand(B, H, kend - kstart, pad)


def _visible(
    spec: AttentionSpec, start: int, end: int, kend: int, device: torch.device
) -> tuple[Tensor, int, Tensor | None]:
    """The block's (B, 1, blk, kend - kstart) mask from key kstart on, kstart, and the rows
    without any visible key (None when there are none)."""
    mask = _allowed(spec, start, end, kend, device)
    assert mask is not None
    mask = mask.expand(spec.B, 1, end - start, kend)
    if torch.compiler.is_compiling():
        # Tensor-only (a graph break is an error under fullgraph): no leading keys skipped, and
        # the empty-row fix applied whether or not a row is empty; the numbers are the same.
        empty = ~mask.any(dim=-1, keepdim=True)
        return torch.cat([mask[..., :1] | empty, mask[..., 1:]], dim=-1), 0, empty
    kstart = 0
    if spec.q_doc is not None or spec.key_padding_mask is not None:
        # skip the leading keys nobody in the block can see (earlier documents, left padding)
        seen = mask.any(dim=2).any(dim=1).any(dim=0)
        if bool(seen.any()):
            kstart = int(torch.argmax(seen.to(torch.uint8)))
            mask = mask[..., kstart:]
    empty = ~mask.any(dim=-1, keepdim=True)  # (B, 1, blk, 1)
    if not bool(empty.any()):
        return mask, kstart, None
    # a row without a visible key attends to one key (its output is zeroed by the caller)
    mask = mask.clone()
    mask[..., 0] |= empty[..., 0]
    return mask, kstart, empty


def _block(q: Tensor, k: Tensor, v: Tensor, spec: AttentionSpec, start: int, end: int) -> Tensor:
    """Attention of queries [start, end) in one SDPA call over the keys they can see."""
    kend = spec.Tk - spec.Tq + end if spec.causal else spec.Tk
    blk = end - start
    square = spec.causal and start == 0 and end == spec.Tq and spec.Tq == spec.Tk
    mask: Tensor | None = None
    kstart = 0
    empty = None
    if spec.needs_mask or (spec.causal and not square and blk > 1):
        mask, kstart, empty = _visible(spec, start, end, kend, q.device)
        if spec.causal and not spec.needs_mask and kstart == 0 and blk == 1:
            mask = None
    qb = q[:, :, start:end]
    kb, vb = k[:, :, kstart:kend], v[:, :, kstart:kend]
    Dv = v.shape[-1]
    if spec.slopes is not None:
        qx, kx = _bias_dims(spec, start, end, kstart, kend, q.dtype)
        qb = torch.cat([qx, qb], dim=-1)
        kb = torch.cat([kx, kb], dim=-1)
        vpad = qb.shape[-1] - Dv  # the CPU flash kernel wants equal q/k/v head dims
        vb = torch.cat([vb, vb.new_zeros(*vb.shape[:3], vpad)], dim=-1)
    # an explicit branch: under torch.compile with dynamic shapes `square` is a symbolic bool,
    # which SDPA does not take; the branch makes dynamo guard on it instead
    is_causal = True if square and mask is None else False  # noqa: SIM210
    out = F.scaled_dot_product_attention(
        qb, kb, vb, attn_mask=mask, is_causal=is_causal, scale=spec.scale
    )
    out = out[..., :Dv]
    if empty is not None:
        out = out.masked_fill(empty, 0.0)
    return out


# BLAS kernels for very small row counts may sum the extra dims in another order, which breaks
# the exact cancellation of the row constant; bias blocks therefore have at least this many rows,
# and shorter blocks whose query indices differ run one row at a time (ref = the row's own index).
MIN_BIAS_ROWS = 16


def _chunks(spec: AttentionSpec, block_size: int) -> list[tuple[int, int]]:
    """Query ranges [start, end) that the blocked path runs as separate SDPA calls."""
    if spec.slopes is None:
        return [(s, min(s + block_size, spec.Tq)) for s in range(0, spec.Tq, block_size)]
    assert spec.q_index is not None
    size = max(block_size, MIN_BIAS_ROWS)
    out: list[tuple[int, int]] = []
    for s in range(0, spec.Tq, size):
        e = min(s + size, spec.Tq)
        rows = spec.q_index[:, s:e]
        # compiled: rows split without looking at the indices (one row at a time is exact too)
        if 2 < e - s < MIN_BIAS_ROWS and (
            torch.compiler.is_compiling() or bool((rows.amax(1) != rows.amin(1)).any())
        ):
            out.extend((i, i + 1) for i in range(s, e))
        else:
            out.append((s, e))
    return out


def _run_blocks(
    q: Tensor, k: Tensor, v: Tensor, spec: AttentionSpec, chunks: list[tuple[int, int]]
) -> Tensor:
    """Loop over query blocks; under autograd each block is recomputed in backward (checkpointed)
    so per-block masks and q/k/v copies are not kept alive: memory stays linear in length."""
    checkpointing = (
        len(chunks) > 1
        and torch.is_grad_enabled()
        and (q.requires_grad or k.requires_grad or v.requires_grad)
    )
    outs = []
    for s, e in chunks:
        if checkpointing:
            outs.append(checkpoint(_block, q, k, v, spec, s, e, use_reentrant=False))
        else:
            outs.append(_block(q, k, v, spec, s, e))
    return outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)


def _auto_impl(spec: AttentionSpec, block_size: int) -> str:
    """What impl="auto" runs: one SDPA call when no mask is needed and the bias stays exact."""
    # Compiled, the data-dependent exactness check would break the graph: long biased blocks
    # take the blocked path, exact for any index range.
    one_call = not spec.needs_mask and (
        spec.slopes is None
        or spec.Tq <= block_size
        or (not torch.compiler.is_compiling() and _single_call_exact(spec))
    )
    return "sdpa" if one_call else "blocked"


def attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    slopes: Tensor | None = None,
    q_index: Tensor | None = None,
    k_index: Tensor | None = None,
    q_doc: Tensor | None = None,
    k_doc: Tensor | None = None,
    key_padding_mask: Tensor | None = None,
    causal: bool = True,
    scale: float | None = None,
    impl: str = "auto",
    block_size: int = DEFAULT_BLOCK,
) -> Tensor:
    """Scaled dot-product attention with optional ALiBi-style bias, documents and padding.

    bias[b, h, i, j] = -sum_k slopes[k, h] * (q_index[b, i, k] - k_index[b, j, k]); keys are visible
    when causal (j <= Tk - Tq + i), in the same document and not padding. Rows with no visible key
    output zeros. Returns (B, H, Tq, Dv).
    """
    if impl not in IMPLS:
        raise ConfigError(f"attention impl must be one of {IMPLS}, got {impl!r}")
    if not isinstance(block_size, int) or block_size < 1:
        raise ConfigError(f"block_size must be a positive int, got {block_size!r}")
    spec = validate_attention(
        q, k, v, slopes, q_index, k_index, q_doc, k_doc, key_padding_mask, causal, scale
    )
    q_dtype = q.dtype
    if is_debug():
        for name, t in (("q", q), ("k", k), ("v", v), ("slopes", slopes)):
            check_finite(name, t)
    if impl == "reference":
        return reference_attention(
            q, k, v, slopes=slopes, q_index=q_index, k_index=k_index, q_doc=q_doc, k_doc=k_doc,
            key_padding_mask=key_padding_mask, causal=causal, scale=scale,
        )  # fmt: skip
    if impl == "flex":
        return flex_attention_path(q, k, v, spec)
    if impl == "auto":
        impl = _auto_impl(spec, block_size)
    if spec.B == 0 or spec.Tq == 0:
        return q.new_zeros(spec.B, spec.H, spec.Tq, v.shape[-1])
    low = q.dtype in (torch.float16, torch.bfloat16) and spec.slopes is not None
    if low:
        # the exact bias split needs float32 products; q/k/v copies stay linear in length
        q, k, v = q.float(), k.float(), v.float()
    if impl == "sdpa":
        chunks = [(0, spec.Tq)]
        if spec.slopes is not None and spec.Tq < MIN_BIAS_ROWS:
            chunks = _chunks(spec, spec.Tq)
        out = _run_blocks(q, k, v, spec, chunks)
    else:
        out = _run_blocks(q, k, v, spec, _chunks(spec, block_size))
    return out.to(q_dtype) if low else out


def reference_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    slopes: Tensor | None = None,
    q_index: Tensor | None = None,
    k_index: Tensor | None = None,
    q_doc: Tensor | None = None,
    k_doc: Tensor | None = None,
    key_padding_mask: Tensor | None = None,
    causal: bool = True,
    scale: float | None = None,
    impl: str = "reference",
) -> Tensor:
    """Naive materialising attention (O(Tq*Tk) memory) in the inputs' dtype; pass fp64 for an oracle.

    Written like the paper's eager code path (scores, + bias, mask, softmax, @ v) with in-place
    updates, so it is also a fair memory/speed baseline for the benchmarks."""
    spec = validate_attention(
        q, k, v, slopes, q_index, k_index, q_doc, k_doc, key_padding_mask, causal, scale
    )
    scores = torch.matmul(q, k.transpose(-1, -2)).mul_(spec.scale)
    if spec.slopes is not None:
        assert spec.q_index is not None and spec.k_index is not None
        for lvl in range(spec.slopes.shape[0]):
            qi = spec.q_index[..., lvl].to(scores.dtype)
            ki = spec.k_index[..., lvl].to(scores.dtype)
            dist = (qi[:, :, None] - ki[:, None, :])[:, None]  # (B, 1, Tq, Tk)
            slope = spec.slopes[lvl].to(scores.dtype)[None, :, None, None]
            scores.addcmul_(dist, slope, value=-1.0)
            del dist
    mask = _allowed(spec, 0, spec.Tq, spec.Tk, q.device)
    if mask is not None:
        scores.masked_fill_(~mask, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    del scores
    if mask is not None:
        empty = ~mask.any(-1, keepdim=True)
        if torch.compiler.is_compiling() or bool(empty.any()):
            probs = probs.masked_fill(empty, 0.0)
    return torch.matmul(probs, v)
