"""Autoregressive decoding for `DecoderLM`: cached (prefill, then one token per step) or recomputed.

Batches of prompts of different lengths are LEFT-padded: ``attention_mask`` is 0 on a prefix of each
row and 1 afterwards, so every row's next token is appended at the same column. Positions skip the
padding, so a padded row gets exactly the positions, and logits, it would get alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from bipe_core.errors import InputError, ShapeError

if TYPE_CHECKING:
    from bipe_core.model import DecoderLM


@torch.no_grad()
def generate(
    model: DecoderLM,
    input_ids: Tensor,
    max_new_tokens: int,
    *,
    use_cache: bool = True,
    attention_mask: Tensor | None = None,
    eos_id: int | None = None,
    temperature: float = 0.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
    return_logits: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Append ``max_new_tokens`` tokens to each row of ``input_ids`` (B, T) and return (B, T + n).

    ``temperature`` 0 is greedy; above 0 samples from softmax(logits / temperature), restricted to
    the ``top_k`` most likely tokens if given, drawing from ``generator`` (seed it for repeatable
    output). After a row emits ``eos_id`` it is filled with ``eos_id``; decoding stops early once
    every row has. ``use_cache=False`` recomputes the whole prefix at each step (reference path).
    With ``return_logits`` the logits that chose each new token, (B, n, V), come back too.
    """
    model._check_ids(input_ids)
    B, T = input_ids.shape
    if (
        isinstance(max_new_tokens, bool)
        or not isinstance(max_new_tokens, int)
        or max_new_tokens < 0
    ):
        raise InputError(f"max_new_tokens must be a non-negative int, got {max_new_tokens!r}")
    if not isinstance(temperature, int | float) or temperature < 0:
        raise InputError(f"temperature must be a number >= 0, got {temperature!r}")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise InputError(f"top_k must be a positive int or None, got {top_k!r}")
    if eos_id is not None and not 0 <= eos_id < model.config.vocab_size:
        raise InputError(
            f"eos_id {eos_id} is outside the vocabulary [0, {model.config.vocab_size - 1}]"
        )
    mask = _check_left_padding(attention_mask, B, T, input_ids.device)

    was_training = model.training
    model.eval()
    try:
        step_logits: list[Tensor] = []
        finished = torch.zeros(B, dtype=torch.bool, device=input_ids.device)
        seq = input_ids
        cache = model.new_cache(B, capacity=T + max_new_tokens) if use_cache else None
        next_input = input_ids
        for _ in range(max_new_tokens):
            if cache is not None:
                step_mask = mask if cache.length == 0 else None
                logits = model(next_input, attention_mask=step_mask, cache=cache)[:, -1]
            else:
                logits = model(seq, attention_mask=mask)[:, -1]
            step_logits.append(logits)
            token = _pick(logits, temperature, top_k, generator)
            if eos_id is not None:
                token = torch.where(finished, torch.full_like(token, eos_id), token)
                finished |= token == eos_id
            seq = torch.cat([seq, token[:, None]], dim=1)
            if mask is not None:
                mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            next_input = token[:, None]
            if eos_id is not None and bool(finished.all()):
                break
    finally:
        model.train(was_training)
    if return_logits:
        empty = input_ids.new_zeros((B, 0, model.config.vocab_size), dtype=torch.float32)
        return seq, torch.stack(step_logits, dim=1) if step_logits else empty
    return seq


def _pick(
    logits: Tensor, temperature: float, top_k: int | None, generator: torch.Generator | None
) -> Tensor:
    """Next token per row: argmax, or a sample at the given temperature and top-k."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    scaled = logits.float() / temperature
    if top_k is not None and top_k < scaled.shape[-1]:
        kth = torch.topk(scaled, top_k, dim=-1).values[:, -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    probs = torch.softmax(scaled, dim=-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


def _check_left_padding(mask: Tensor | None, B: int, T: int, device: torch.device) -> Tensor | None:
    """The mask as bool, after checking it pads on the left only and leaves a real token per row."""
    if mask is None:
        return None
    if tuple(mask.shape) != (B, T):
        raise ShapeError(f"attention_mask must have shape {(B, T)}, got {tuple(mask.shape)}")
    m = mask.to(device).bool()
    if not bool(m[:, -1].all()):
        raise InputError(
            "generate needs LEFT padding: the last column of attention_mask must be 1 in every row"
        )
    if bool((m[:, :-1] & ~m[:, 1:]).any()):
        raise InputError(
            "generate needs LEFT padding: attention_mask must be 0...0 1...1 in every row"
        )
    return None if bool(m.all()) else m
