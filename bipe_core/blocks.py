"""The layers of `bipe_core.DecoderLM`: RMSNorm, SwiGLU, causal self-attention with the scheme's
rotation and bias, the pre-norm `Block`, and `LayerContext`, what every layer needs about positions.

Shapes: B batch, T new tokens, S all keys (cached + new), D d_model, H heads, Hkv key/value heads,
Dh head dim.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bipe_core.attention import attention
from bipe_core.cache import KVCache
from bipe_core.config import ModelConfig
from bipe_core.positions import Positions
from bipe_core.schemes import PositionalScheme

__all__ = ["Block", "LayerContext", "RMSNorm", "SelfAttention", "SwiGLU"]


class RMSNorm(nn.Module):
    """Root-mean-square norm computed in fp32, as LLaMA does."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        """Scale x by the inverse root mean square of its last dimension, then by the learned weight."""
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


class SwiGLU(nn.Module):
    """LLaMA feed-forward: down(silu(gate(x)) * up(x))."""

    def __init__(self, d_model: int, hidden: int) -> None:
        super().__init__()
        self.w_gate = nn.Linear(d_model, hidden, bias=False)
        self.w_up = nn.Linear(d_model, hidden, bias=False)
        self.w_down = nn.Linear(hidden, d_model, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """SwiGLU feed-forward: down(silu(gate(x)) * up(x))."""
        return self.w_down(F.silu(self.w_gate(x)) * self.w_up(x))


@dataclass
class LayerContext:
    """What every layer's attention needs about positions, computed once per forward pass."""

    pos: Positions
    scheme: PositionalScheme
    cos_sin: tuple[Tensor, Tensor] | None
    q_index: Tensor | None
    k_index: Tensor | None
    q_doc: Tensor | None
    k_doc: Tensor | None
    k_mask: Tensor | None
    cache: KVCache | None
    impl: str


class SelfAttention(nn.Module):
    """Causal multi-head (optionally grouped-query) attention with the scheme's rotation/bias."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.n_heads, self.n_kv_heads = config.n_heads, config.n_kv_heads
        self.head_dim = config.head_dim
        d = config.d_model
        self.wq = nn.Linear(d, self.n_heads * self.head_dim, bias=False)
        self.wk = nn.Linear(d, self.n_kv_heads * self.head_dim, bias=False)
        self.wv = nn.Linear(d, self.n_kv_heads * self.head_dim, bias=False)
        self.wo = nn.Linear(self.n_heads * self.head_dim, d, bias=False)

    def forward(self, x: Tensor, ctx: LayerContext, layer: int) -> Tensor:
        """Causal self-attention of one layer, reading and extending the cache in ctx when present."""
        B, T, _ = x.shape  # (B, T, D)
        q = self.wq(x).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)  # (B, H, T, Dh)
        k = self.wk(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)  # (B, Hkv, T, Dh)
        v = self.wv(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        if ctx.scheme.rotary:
            q = ctx.scheme.rotate(q, ctx.pos, ctx.cos_sin)
            k = ctx.scheme.rotate(k, ctx.pos, ctx.cos_sin)
        if ctx.cache is not None:
            k, v = ctx.cache.append(layer, k, v)  # (B, Hkv, S, Dh): keys are cached already rotated
        if self.n_kv_heads != self.n_heads:
            rep = self.n_heads // self.n_kv_heads
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        y = attention(
            q,
            k,
            v,
            slopes=ctx.scheme.slopes,
            q_index=ctx.q_index,
            k_index=ctx.k_index,
            q_doc=ctx.q_doc,
            k_doc=ctx.k_doc,
            key_padding_mask=ctx.k_mask,
            causal=True,
            impl=ctx.impl,
        )  # (B, H, T, Dh)
        return self.wo(y.transpose(1, 2).reshape(B, T, self.n_heads * self.head_dim))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.attn_norm = RMSNorm(config.d_model, config.norm_eps)
        self.attn = SelfAttention(config)
        self.mlp_norm = RMSNorm(config.d_model, config.norm_eps)
        self.mlp = SwiGLU(config.d_model, config.ffn_hidden)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, ctx: LayerContext, layer: int) -> Tensor:
        """One pre-norm block: x + attn(norm(x)), then + mlp(norm(x))."""
        x = x + self.drop(self.attn(self.attn_norm(x), ctx, layer))
        return x + self.drop(self.mlp(self.mlp_norm(x)))
