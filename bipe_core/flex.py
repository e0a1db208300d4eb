"""FlexAttention path (CUDA only): the exact relative bias as a `score_mod`, causality, documents
and padding as a block-sparse `mask_mod`. On CPU the SDPA paths are faster and support backward."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import torch
from torch import Tensor

from bipe_core.attention_spec import AttentionSpec
from bipe_core.errors import ConfigError

__all__ = ["flex_attention_path"]


@lru_cache(maxsize=1)
def _compiled() -> Any:
    """torch.compile'd flex_attention (compiled once per process)."""
    from torch.nn.attention.flex_attention import flex_attention

    return torch.compile(flex_attention, dynamic=False)


def flex_attention_path(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    spec: AttentionSpec,
    *,
    compiled: bool = True,
    cuda_only: bool = True,
) -> Tensor:
    """Attention through compiled FlexAttention; raises ConfigError off CUDA.

    `compiled=False, cuda_only=False` runs eager Flex on any device (it materialises scores: for
    tests of the score/mask functions only)."""
    if cuda_only and q.device.type != "cuda":
        raise ConfigError(
            "impl='flex' needs a CUDA device (on CPU FlexAttention has no backward); "
            "use impl='auto', 'sdpa' or 'blocked'"
        )
    from torch.nn.attention.flex_attention import create_block_mask

    offset = spec.Tk - spec.Tq
    causal = spec.causal
    q_doc, k_doc, kpm = spec.q_doc, spec.k_doc, spec.key_padding_mask

    def mask_mod(b: Tensor, h: Tensor, qi: Tensor, kj: Tensor) -> Tensor:
        ok = kj <= qi + offset if causal else kj >= 0
        if q_doc is not None and k_doc is not None:
            ok = ok & (q_doc[b, qi] == k_doc[b, kj])
        if kpm is not None:
            ok = ok & kpm[b, kj]
        return ok

    block_mask = create_block_mask(mask_mod, spec.B, None, spec.Tq, spec.Tk, device=q.device)
    score_mod = None
    if spec.slopes is not None:
        assert spec.q_index is not None and spec.k_index is not None
        slopes = spec.slopes.to(torch.float32)
        q_index = spec.q_index.to(torch.float32)
        k_index = spec.k_index.to(torch.float32)
        levels = slopes.shape[0]

        def score_mod(score: Tensor, b: Tensor, h: Tensor, qi: Tensor, kj: Tensor) -> Tensor:
            for lvl in range(levels):
                score = score - slopes[lvl, h] * (q_index[b, qi, lvl] - k_index[b, kj, lvl])
            return score

    if compiled:
        fn = _compiled()
    else:
        from torch.nn.attention.flex_attention import flex_attention as fn
    out = fn(q, k, v, score_mod=score_mod, block_mask=block_mask, scale=spec.scale)
    return out
