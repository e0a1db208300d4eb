"""Autoregressive decoding for `DecoderLM`: cached (prefill, then one token per step) or recomputed.

Batches of prompts of different lengths are LEFT-padded: ``attention_mask`` is 0 on a prefix of each
row and 1 afterwards, so every row's next token is appended at the same column. Positions skip the
padding, so a padded row gets exactly the positions, and logits, it would get alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import Tensor

from bipe_core.errors import InputError, ShapeError

if TYPE_CHECKING:
    from bipe_core.cache import KVCache
    from bipe_core.config import ModelConfig


class Decoder(Protocol):
    """What decoding uses of a `bipe_core.DecoderLM`, typed structurally: `bipe_core.model` imports
    this module (for `DecoderLM.generate`), so this module cannot import it back."""

    config: ModelConfig
    training: bool

    def __call__(self, input_ids: Tensor, **kwargs: Any) -> Tensor: ...

    def eval(self) -> Any:
        """Switch dropout off (`nn.Module.eval`)."""

    def train(self, mode: bool = True) -> Any:
        """Set training mode (`nn.Module.train`)."""

    def new_cache(self, batch: int, capacity: int = 64) -> KVCache:
        """An empty KV cache for `batch` rows."""

    def _check_ids(self, ids: Tensor) -> None: ...


@torch.no_grad()
def generate(
    model: Decoder,
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
    _check_args(model, input_ids, max_new_tokens, temperature, top_k, eos_id)
    B, T = input_ids.shape
    mask = _check_left_padding(attention_mask, B, T, input_ids.device)
    sample = partial(_pick, temperature=temperature, top_k=top_k, generator=generator)
    with _eval_mode(model):
        seq, step_logits = _decode(
            model, input_ids, mask, max_new_tokens, use_cache, eos_id, sample
        )
    if return_logits:
        return seq, _stacked_logits(step_logits, input_ids, model.config.vocab_size)
    return seq


def _check_args(
    model: Decoder,
    input_ids: Tensor,
    max_new_tokens: int,
    temperature: float,
    top_k: int | None,
    eos_id: int | None,
) -> None:
    """Raise a typed error for the first argument of `generate` that is out of range."""
    model._check_ids(input_ids)
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


@contextmanager
def _eval_mode(model: Decoder) -> Iterator[None]:
    """Run the body in eval mode (no dropout) and give the caller back the mode it had."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _decode(
    model: Decoder,
    input_ids: Tensor,
    mask: Tensor | None,
    max_new_tokens: int,
    use_cache: bool,
    eos_id: int | None,
    sample: Callable[[Tensor], Tensor],
) -> tuple[Tensor, list[Tensor]]:
    """The decode loop: the extended sequence and the logits of every step that ran."""
    B, T = input_ids.shape
    step_logits: list[Tensor] = []
    finished = torch.zeros(B, dtype=torch.bool, device=input_ids.device)
    seq = input_ids
    cache = model.new_cache(B, capacity=T + max_new_tokens) if use_cache else None
    next_input = input_ids
    for _ in range(max_new_tokens):
        logits = _next_logits(model, seq, next_input, mask, cache)
        step_logits.append(logits)
        token = sample(logits)
        if eos_id is not None:
            token, finished = _hold_eos(token, finished, eos_id)
        seq = torch.cat([seq, token[:, None]], dim=1)
        if mask is not None:
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        next_input = token[:, None]
        if eos_id is not None and bool(finished.all()):
            break
    return seq, step_logits


def _next_logits(
    model: Decoder, seq: Tensor, next_input: Tensor, mask: Tensor | None, cache: KVCache | None
) -> Tensor:
    """Logits (B, V) for the next token: from the cache and the newest tokens, or the whole `seq`."""
    if cache is None:
        return model(seq, attention_mask=mask)[:, -1]
    # only the prefill carries the padding; later steps append real tokens
    step_mask = mask if cache.length == 0 else None
    return model(next_input, attention_mask=step_mask, cache=cache)[:, -1]


def _hold_eos(token: Tensor, finished: Tensor, eos_id: int) -> tuple[Tensor, Tensor]:
    """``eos_id`` for rows that already finished, and which rows have finished after this token."""
    token = torch.where(finished, torch.full_like(token, eos_id), token)
    return token, finished | (token == eos_id)


def _stacked_logits(step_logits: list[Tensor], input_ids: Tensor, vocab_size: int) -> Tensor:
    """The steps' logits as (B, n, V); float32 (B, 0, V) when no step ran."""
    if not step_logits:
        return input_ids.new_zeros((input_ids.shape[0], 0, vocab_size), dtype=torch.float32)
    return torch.stack(step_logits, dim=1)


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
