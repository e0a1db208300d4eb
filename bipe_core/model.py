"""`DecoderLM`: a small LLaMA-style decoder (RMSNorm, SwiGLU, pre-norm, no biases) whose positional
scheme is picked by name from `bipe_core.schemes`. ``model(ids)`` returns logits; ``model(ids, targets)``
returns the next-token loss, the one loss that training, validation and evaluation use.

Shapes: B batch, T new tokens, S all keys (cached + new), D d_model, H heads, Hkv key/value heads,
Dh head dim, V vocabulary. Rotary schemes use the LLaMA rotate-half layout over the full head dim.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bipe_core.blocks import Block, LayerContext, RMSNorm
from bipe_core.cache import KVCache
from bipe_core.config import ModelConfig
from bipe_core.debug import is_debug
from bipe_core.errors import ConfigError, InputError, ShapeError
from bipe_core.generate import generate
from bipe_core.positions import Positions, SegmentState, build_positions
from bipe_core.schemes import PositionalScheme, scheme_class


def build_scheme(config: ModelConfig) -> PositionalScheme:
    """The positional scheme module a config names, with the options that scheme uses."""
    cls = scheme_class(config.scheme)
    if cls.uses_levels and not config.level_separator_ids and config.n_levels is None:
        raise ConfigError(
            f"scheme {config.scheme!r} needs level_separator_ids (one id list per outer level) "
            "or n_levels (when positions come as arrays with levels)"
        )
    return cls.from_config(config)


class DecoderLM(nn.Module):
    """LLaMA-style decoder language model; ``model(input_ids)`` returns logits (B, T, V)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if not isinstance(config, ModelConfig):
            raise ConfigError(f"DecoderLM needs a ModelConfig, got {type(config).__name__}")
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        self.pos = build_scheme(config)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = RMSNorm(config.d_model, config.norm_eps)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.reset_parameters()
        if config.tie_embeddings:
            self.lm_head.weight = self.tok_emb.weight

    def reset_parameters(self) -> None:
        """Normal(0, init_std) weights; residual output projections scaled by 1/sqrt(2 n_layers)."""
        std = self.config.init_std
        for name, p in self.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(p)
            elif name.endswith(("attn.wo.weight", "mlp.w_down.weight")):
                nn.init.normal_(p, std=std / math.sqrt(2 * self.config.n_layers))
            else:
                nn.init.normal_(p, std=std)
        # after the generic draws, so the other weights start exactly as with the default init
        self.pos.reset_intra()

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        input_ids: Tensor,
        targets: Tensor | None = None,
        *,
        positions: Positions | None = None,
        attention_mask: Tensor | None = None,
        document_ids: Tensor | None = None,
        cache: KVCache | None = None,
        reduction: str = "mean",
    ) -> Tensor:
        """Logits (B, T, V) of ``input_ids`` (B, T), or with ``targets`` the next-token loss.

        ``targets`` (B, T) holds the label of each position (-100 = ignore); the loss is the
        cross-entropy computed in float32 with ``reduction`` "mean" or "sum" (nanoGPT's pattern: the
        loss is part of the forward pass, so DDP wrappers see it). Float ``targets`` (B, T, V) are
        multi-hot label sets (e.g. the legal next tokens of a formal language): the loss is then the
        binary cross-entropy with logits over every (position, token), padded positions (attention
        mask 0) left out, "mean" averaging over the kept entries. Positions come from
        ``config.separator_ids`` (and ``document_ids``, ``attention_mask``) unless given.
        ``attention_mask`` (1 = real token) may pad on either side; padded positions get meaningless
        logits. With a ``cache`` the ids are the continuation of the cached tokens.
        """
        self._check_forward_args(input_ids, targets, attention_mask, cache, reduction)
        multi_label = targets is not None and targets.dtype.is_floating_point
        pos, state = self._positions(input_ids, positions, attention_mask, document_ids, cache)
        debug = self.config.debug or is_debug()
        x = self.drop(self.pos.embed(self.tok_emb(input_ids), pos))  # (B, T, D)
        if debug:
            _check_finite(x, "the input embeddings")
        ctx = self._context(pos, cache)
        for i, block in enumerate(self.blocks):
            x = block(x, ctx, i)
            if debug:
                _check_finite(x, f"block {i}")
        if cache is not None:
            cache.commit(state)
        logits = self.lm_head(self.norm(x))  # (B, T, V)
        if targets is None:
            return logits
        if multi_label:
            return _multi_label_loss(logits, targets, pos.attention_mask, reduction)
        return F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(),
            targets.reshape(-1),
            ignore_index=-100,
            reduction=reduction,
        )

    def loss(
        self,
        input_ids: Tensor,
        targets: Tensor | None = None,
        *,
        positions: Positions | None = None,
        attention_mask: Tensor | None = None,
        document_ids: Tensor | None = None,
    ) -> Tensor:
        """Mean next-token cross-entropy; without ``targets``, ``input_ids`` shifted left by one.

        Shifted labels ignore padding (``attention_mask`` 0) and the last position, which has no
        next token.
        """
        if targets is None:
            targets = torch.full_like(input_ids, -100)
            targets[:, :-1] = input_ids[:, 1:]
            if attention_mask is not None:
                targets[:, :-1][~attention_mask[:, 1:].bool()] = -100
        return self(
            input_ids,
            targets,
            positions=positions,
            attention_mask=attention_mask,
            document_ids=document_ids,
        )

    def positions(
        self,
        input_ids: Tensor,
        *,
        attention_mask: Tensor | None = None,
        document_ids: Tensor | None = None,
    ) -> Positions:
        """The positions ``forward`` derives from ``input_ids`` (separators, documents, padding)."""
        self._check_ids(input_ids)
        return self._positions(input_ids, None, attention_mask, document_ids, None)[0]

    def new_cache(self, batch: int, capacity: int = 64) -> KVCache:
        """An empty `KVCache` for ``batch`` rows, in this model's dtype and device."""
        w = self.tok_emb.weight
        return KVCache(
            self.config.n_layers,
            batch,
            self.config.n_kv_heads,
            self.config.head_dim,
            dtype=w.dtype,
            device=w.device,
            capacity=capacity,
        )

    def generate(self, input_ids: Tensor, max_new_tokens: int, **kwargs: object) -> Tensor:
        """Greedy (or sampled) continuation; see `bipe_core.generate.generate` for the options."""
        return generate(self, input_ids, max_new_tokens, **kwargs)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ parameters
    def num_parameters(self, exclude_embeddings: bool = False) -> int:
        """Parameter count (tied head counted once), optionally without token/position tables."""
        groups = self.parameter_breakdown()
        if exclude_embeddings:
            return groups["total"] - groups["token_embedding"] - groups["positional"]
        return groups["total"]

    def parameter_breakdown(self) -> dict[str, int]:
        """Parameter counts per group (token_embedding, positional, attention, mlp, norms, lm_head)
        plus their total."""
        groups = dict.fromkeys(
            ("token_embedding", "positional", "attention", "mlp", "norms", "lm_head"), 0
        )
        seen: set[int] = set()
        for name, p in self.named_parameters():  # named_parameters yields a shared tensor once
            if id(p) in seen:
                continue
            seen.add(id(p))
            if name.startswith("tok_emb."):
                key = "token_embedding"
            elif name.startswith("pos."):
                key = "positional"
            elif ".attn." in name:
                key = "attention"
            elif ".mlp." in name:
                key = "mlp"
            elif name.endswith("norm.weight"):
                key = "norms"
            else:
                key = "lm_head"
            groups[key] += p.numel()
        groups["total"] = sum(groups.values())
        return groups

    def intra_table_key(self) -> str | None:
        """State-dict name of the learned intra-segment table, if the scheme has one."""
        name = self.pos.intra_parameter_name()
        return None if name is None else f"pos.{name}"

    # ------------------------------------------------------------------ helpers
    def _check_forward_args(
        self,
        input_ids: Tensor,
        targets: Tensor | None,
        attention_mask: Tensor | None,
        cache: KVCache | None,
        reduction: str,
    ) -> None:
        """Raise a typed error for the first argument of `forward` that does not fit the others."""
        self._check_ids(input_ids)
        B, T = input_ids.shape
        if attention_mask is not None and tuple(attention_mask.shape) != (B, T):
            raise ShapeError(
                f"attention_mask must have shape {(B, T)}, got {tuple(attention_mask.shape)}"
            )
        multi_label = targets is not None and targets.dtype.is_floating_point
        V = self.config.vocab_size
        if multi_label and tuple(targets.shape) != (B, T, V):
            raise ShapeError(
                f"float (multi-label) targets must have shape {(B, T, V)}, got {tuple(targets.shape)}"
            )
        if targets is not None and not multi_label and tuple(targets.shape) != (B, T):
            raise ShapeError(f"targets must have shape {(B, T)}, got {tuple(targets.shape)}")
        if reduction not in ("mean", "sum"):
            raise ConfigError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        if cache is not None and cache.batch != B:
            raise ShapeError(f"cache holds {cache.batch} rows but input_ids has {B}")

    def _check_ids(self, ids: Tensor) -> None:
        if not isinstance(ids, Tensor):
            raise InputError(f"input_ids must be a torch.Tensor, got {type(ids).__name__}")
        if ids.dim() != 2:
            raise ShapeError(f"input_ids must have shape (batch, length), got {tuple(ids.shape)}")
        if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
            raise ShapeError(f"input_ids must be an integer tensor, got dtype {ids.dtype}")
        if ids.numel() == 0:
            raise InputError(
                f"input_ids is empty (shape {tuple(ids.shape)}): need batch >= 1 and length >= 1"
            )
        V = self.config.vocab_size
        if torch.compiler.is_compiling():
            # .item() would break the graph: the compiled check stays on the tensor side
            ok = ((ids >= 0) & (ids < V)).all()
            torch._assert_async(ok, f"a token id is outside the vocabulary [0, {V - 1}]")
            return
        lo, hi = int(ids.min()), int(ids.max())
        if lo < 0 or hi >= V:
            bad = hi if hi >= V else lo
            raise InputError(
                f"token id {bad} is outside the vocabulary: ids must lie in [0, {V - 1}]"
                f" (vocab_size={V}; got min {lo}, max {hi})"
            )

    def _positions(
        self,
        ids: Tensor,
        positions: Positions | None,
        attention_mask: Tensor | None,
        document_ids: Tensor | None,
        cache: KVCache | None,
    ) -> tuple[Positions, SegmentState | None]:
        B, T = ids.shape
        if positions is not None:
            if not isinstance(positions, Positions):
                raise InputError(
                    f"positions must be a Positions object, got {type(positions).__name__}"
                )
            if positions.shape != (B, T):
                raise ShapeError(f"positions are {positions.shape} but input_ids is {(B, T)}")
            if cache is not None:
                cache.explicit_positions = True
            # padding and documents given beside explicit positions still mask attention
            if attention_mask is not None and positions.attention_mask is None:
                positions = replace(positions, attention_mask=attention_mask.bool())
            if document_ids is not None and positions.document is None:
                positions = replace(positions, document=document_ids.long())
            return positions.to(ids.device), None
        if cache is not None and cache.explicit_positions:
            raise InputError(
                "this cache was filled with explicit positions: keep passing positions="
            )
        cfg = self.config
        if self.pos.uses_segments and not cfg.separator_ids and not cfg.level_separator_ids:
            raise InputError(
                f"scheme {cfg.scheme!r} needs segment positions, but this model has no "
                "separator_ids to derive them from input_ids: pass positions= (e.g. from "
                "bipe_core.positions.positions_from_arrays) or build the model with "
                "ModelConfig(separator_ids=[...])"
            )
        state = cache.state if cache is not None else None
        if (
            document_ids is None
            and cache is not None
            and cache.document is not None
            and state is not None
        ):
            document_ids = state.document[:, None].expand(B, T)  # continue the cached document
        pos, new_state = build_positions(
            ids,
            cfg.separator_ids,
            document_ids=document_ids,
            attention_mask=attention_mask,
            max_intra=cfg.max_intra,
            overflow=cfg.overflow,
            state=state,
            level_separator_ids=cfg.level_separator_ids or None,
        )
        return pos, new_state

    def _context(self, pos: Positions, cache: KVCache | None) -> LayerContext:
        scheme = self.pos
        index = scheme.bias_index(pos) if scheme.has_bias else None
        k_index, k_doc, k_mask = index, pos.document, pos.attention_mask
        if cache is not None:
            k_index, k_doc, k_mask = cache.begin(
                pos.shape[1], index=index, document=pos.document, mask=pos.attention_mask
            )
        cos_sin = scheme.cos_sin(pos) if scheme.rotary else None
        q_doc = pos.document
        if q_doc is None and k_doc is not None:
            # the cached keys carry documents and the new chunk continues the last one
            q_doc = k_doc[:, -pos.shape[1] :]
        return LayerContext(
            pos=pos,
            scheme=scheme,
            cos_sin=cos_sin,
            q_index=index,
            k_index=k_index,
            q_doc=q_doc,
            k_doc=k_doc,
            k_mask=k_mask,
            cache=cache,
            impl=self.config.attn_impl,
        )


def _multi_label_loss(
    logits: Tensor, targets: Tensor, mask: Tensor | None, reduction: str
) -> Tensor:
    """Binary cross-entropy with logits of multi-hot targets (B, T, V), in float32, padding left out."""
    per = F.binary_cross_entropy_with_logits(logits.float(), targets.float(), reduction="none")
    if mask is not None:
        per = per * mask[..., None].to(per.dtype)
        count = mask.sum() * logits.shape[-1]
    else:
        count = per.numel()
    total = per.sum()
    if reduction == "sum":
        return total
    # tensor-only (int() of a tensor would break a compiled graph); the same division
    return total / (count.clamp(min=1) if isinstance(count, Tensor) else max(count, 1))


def _check_finite(x: Tensor, where: str) -> None:
    """Debug mode: NaN/inf in activations means NaN/inf came in through the inputs or weights."""
    if torch.compiler.is_compiling():  # tensor-only: bool() would break the graph
        torch._assert_async(torch.isfinite(x).all(), f"NaN or inf after {where} (debug mode)")
        return
    if not bool(torch.isfinite(x).all()):
        raise InputError(f"NaN or inf after {where} (debug mode): check the inputs and weights")
