"""Token positions for bilevel and hierarchical encodings: token, intra-segment and segment indices.

Semantics follow the paper's released code: a separator is the LAST token of the segment it closes,
the segment index counts separators strictly before a token, and the intra index restarts after each
separator. Everything is vectorised over the sequence (cumsum / cummax); there is no Python loop over
time steps. `build_positions` adds packed documents, padding, overflow handling of long segments and a
`SegmentState` that lets chunked or cached decoding continue exactly where the previous chunk stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from bipe_core.errors import ConfigError, InputError, ShapeError
from bipe_core.position_types import Positions, SegmentState

__all__ = [
    "Positions",
    "SegmentState",
    "bilevel_ids",
    "build_positions",
    "positions_from_arrays",
]

OVERFLOW_MODES = ("split", "clamp")


def _check_ids(ids: Any, name: str = "ids") -> Tensor:
    """Validate a (B, T) integer tensor of token ids."""
    if not isinstance(ids, Tensor):
        raise InputError(
            f"{name} must be a torch.Tensor of shape (batch, length), got {type(ids).__name__}"
        )
    if ids.dim() != 2:
        raise ShapeError(f"{name} must have shape (batch, length), got {tuple(ids.shape)}")
    if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise ShapeError(f"{name} must be an integer tensor, got dtype {ids.dtype}")
    return ids


def _sep_tensor(separator_ids: Any, device: torch.device) -> Tensor:
    """Turn an iterable of separator ids into a 1-D long tensor."""
    if isinstance(separator_ids, Tensor):
        seps = separator_ids.reshape(-1).to(device=device, dtype=torch.long)
    else:
        if isinstance(separator_ids, (int, np.integer)):
            separator_ids = [int(separator_ids)]
        try:
            seps = torch.tensor([int(s) for s in separator_ids], dtype=torch.long, device=device)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"separator_ids must be an iterable of ints, got {separator_ids!r}"
            ) from exc
    return seps


def _check_max_intra(max_intra: int | None) -> None:
    if max_intra is not None and (not isinstance(max_intra, (int, np.integer)) or max_intra < 1):
        raise ConfigError(f"max_intra must be a positive int or None, got {max_intra!r}")


def bilevel_ids(
    ids: Tensor, separator_ids: Sequence[int] | Tensor, max_intra: int | None = None
) -> tuple[Tensor, Tensor]:
    """Paper-code (intra, segment) indices of a (B, T) id batch; intra clamped to max_intra - 1."""
    ids = _check_ids(ids)
    _check_max_intra(max_intra)
    seps = _sep_tensor(separator_ids, ids.device)
    is_sep = torch.isin(ids, seps)
    sep_l = is_sep.long()
    segment = torch.cumsum(sep_l, dim=1) - sep_l
    t = torch.arange(ids.shape[1], device=ids.device).expand_as(ids)
    # a segment starts at column 0 and right after every separator
    starts = torch.zeros_like(is_sep)
    starts[:, 0] = True
    starts[:, 1:] = is_sep[:, :-1]
    last_start = torch.cummax(torch.where(starts, t, torch.zeros_like(t)), dim=1).values
    intra = t - last_start
    if max_intra is not None:
        intra = intra.clamp(max=max_intra - 1)
    return intra, segment


def _latest(flag: Tensor, values: Tensor) -> tuple[Tensor, Tensor]:
    """Per column: `values` at the latest flagged column at or before it (values non-decreasing),
    and whether any column so far was flagged."""
    latest = torch.cummax(torch.where(flag, values, torch.zeros_like(values)), dim=1).values
    any_so_far = torch.cummax(flag.long(), dim=1).values.bool()
    return latest, any_so_far


def _count_level(
    is_sep: Tensor,
    valid: Tensor,
    count: Tensor,
    doc_start: Tensor,
    doc_seen: Tensor,
    prev_col: Tensor,
    has_prev_col: Tensor,
    st_seg: Tensor,
    st_sep: Tensor,
    st_intra: Tensor | None,
    max_intra: int | None,
    split: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """Segment index (and raw intra) of one level, restarting at documents, continuing the state."""
    prev_sep = torch.where(
        has_prev_col, is_sep.gather(1, prev_col.clamp(min=0)), st_sep[:, None].expand_as(is_sep)
    )
    starts = valid & (doc_start | prev_sep)
    raw_intra = torch.zeros_like(count)
    if st_intra is not None:
        start_count, any_start = _latest(starts, count)
        raw_intra = torch.where(any_start, count - start_count, st_intra[:, None] + count)
        if split and max_intra is not None:
            # a token whose intra index would reach max_intra opens a new segment
            extra = valid & (raw_intra > 0) & (raw_intra % max_intra == 0)
            starts = starts | extra
            start_count, any_start = _latest(starts, count)
            raw_intra = torch.where(any_start, count - start_count, st_intra[:, None] + count)
    n_starts = torch.cumsum(starts.long(), dim=1)
    doc_starts_n, _ = _latest(doc_start, n_starts)
    segment = torch.where(doc_seen, n_starts - doc_starts_n, st_seg[:, None] + n_starts)
    return segment, raw_intra, starts


def _per_token(
    name: str,
    t: Tensor | None,
    shape: tuple[int, int],
    dev: torch.device,
    dtype: torch.dtype,
    fill: int,
) -> Tensor:
    """An optional (B, T) tensor checked for shape and cast, or ``fill`` everywhere when absent."""
    if t is None:
        return torch.full(shape, fill, dtype=dtype, device=dev)
    if tuple(t.shape) != shape:
        raise ShapeError(f"{name} must have shape {shape}, got {tuple(t.shape)}")
    return t.to(dev).to(dtype)


def build_positions(
    ids: Tensor,
    separator_ids: Sequence[int] | Tensor = (),
    *,
    document_ids: Tensor | None = None,
    attention_mask: Tensor | None = None,
    max_intra: int | None = None,
    overflow: str = "split",
    state: SegmentState | None = None,
    level_separator_ids: Sequence[Sequence[int]] | None = None,
) -> tuple[Positions, SegmentState]:
    """Positions of a (B, T) id chunk plus the state that continues them in the next chunk.

    Token, intra and segment indices restart at every document (a change of `document_ids`).
    Padding (`attention_mask` False) is skipped: real tokens get the indices they would have without
    it; padding repeats the previous real token's indices (zeros before the first one). `overflow="split"` opens a new segment when the intra index would reach
    `max_intra`; `"clamp"` clamps it to `max_intra - 1`. `level_separator_ids` (coarse -> fine) adds
    hierarchical levels: `levels` gets one column per set (level k counts separators of sets 0..k)
    and then the segment index as its last (finest) column; segments also split at every level's
    separators, so a coarse boundary is always a fine boundary.
    """
    ids = _check_ids(ids)
    _check_max_intra(max_intra)
    if overflow not in OVERFLOW_MODES:
        raise ConfigError(f"overflow must be one of {OVERFLOW_MODES}, got {overflow!r}")
    B, T = ids.shape
    dev = ids.device
    level_sets = [list(s) for s in (level_separator_ids or [])]
    K = len(level_sets)
    valid = _per_token("attention_mask", attention_mask, (B, T), dev, torch.bool, True)
    doc = _per_token("document_ids", document_ids, (B, T), dev, torch.long, 0)
    if state is None:
        state = SegmentState.initial(B, K, dev)
    else:
        if state.token.shape[0] != B:
            raise ShapeError(f"state has {state.token.shape[0]} rows, ids have {B}")
        if (state.levels.shape[1] if state.levels is not None else 0) != K:
            raise ShapeError(
                "state carries a different number of hierarchical levels than requested"
            )

    seps = _sep_tensor(separator_ids, dev)
    if T == 0:
        empty = torch.zeros(B, 0, dtype=torch.long, device=dev)
        levels0 = torch.zeros(B, 0, K + 1, dtype=torch.long, device=dev) if K else None
        positions = Positions(
            token=empty,
            intra=empty.clone(),
            segment=empty.clone(),
            levels=levels0,
            document=doc if document_ids is not None else None,
            attention_mask=valid if attention_mask is not None else None,
        )
        return positions, state
    all_seps = torch.cat([seps] + [_sep_tensor(s, dev) for s in level_sets])
    is_sep = torch.isin(ids, all_seps) & valid

    t = torch.arange(T, device=dev).expand(B, T)
    last_valid = torch.cummax(torch.where(valid, t, torch.full_like(t, -1)), dim=1).values
    prev_col = torch.cat(
        [torch.full((B, 1), -1, dtype=torch.long, device=dev), last_valid[:, :-1]], 1
    )
    has_prev_col = prev_col >= 0
    prev_doc = torch.where(
        has_prev_col, doc.gather(1, prev_col.clamp(min=0)), state.document[:, None].expand(B, T)
    )
    had_prev = has_prev_col | state.seen[:, None]
    doc_start = valid & (~had_prev | (doc != prev_doc))
    count = torch.cumsum(valid.long(), dim=1)
    doc_count, doc_seen = _latest(doc_start, count)
    token = torch.where(doc_seen, count - doc_count, state.token[:, None] + count)

    segment, raw_intra, _ = _count_level(
        is_sep, valid, count, doc_start, doc_seen, prev_col, has_prev_col,
        state.segment, state.last_sep, state.intra, max_intra, overflow == "split",
    )  # fmt: skip
    intra = raw_intra if max_intra is None else raw_intra.clamp(max=max_intra - 1)

    levels = None
    level_sep_flags: list[Tensor] = []
    if K:
        cols = []
        for k in range(K):
            lk_sep = torch.isin(ids, torch.cat([_sep_tensor(s, dev) for s in level_sets[: k + 1]]))
            lk_sep = lk_sep & valid
            level_sep_flags.append(lk_sep)
            assert state.levels is not None and state.level_sep is not None
            lk, _, _ = _count_level(
                lk_sep, valid, count, doc_start, doc_seen, prev_col, has_prev_col,
                state.levels[:, k], state.level_sep[:, k], None, None, False,
            )  # fmt: skip
            cols.append(lk)
        levels = torch.stack([*cols, segment], dim=-1)

    # padding repeats the previous real token's indices (the state's before the first one), so
    # indices stay monotone and padded query rows stay well conditioned in biased attention
    has_last = last_valid >= 0
    src = last_valid.clamp(min=0)

    def fill(x: Tensor, before: Tensor) -> Tensor:
        prev = torch.where(has_last, x.gather(1, src), before[:, None].expand_as(x))
        return torch.where(valid, x, prev)

    token = fill(token, state.token)
    segment = fill(segment, state.segment)
    st_intra = state.intra if max_intra is None else state.intra.clamp(max=max_intra - 1)
    intra = fill(intra, st_intra)
    if levels is not None:
        assert state.levels is not None
        before = torch.cat([state.levels, state.segment[:, None]], dim=1)
        levels = torch.stack([fill(levels[..., j], before[:, j]) for j in range(K + 1)], -1)
        coarse = levels[..., :K]
    positions = Positions(
        token=token,
        intra=intra,
        segment=segment,
        levels=levels,
        document=doc if document_ids is not None else None,
        attention_mask=valid if attention_mask is not None else None,
    )

    # new state: values at each row's last real token, or the old state for rows without one
    last = last_valid[:, -1]
    row_has = last >= 0
    col = last.clamp(min=0)[:, None]

    def pick(x: Tensor, old: Tensor) -> Tensor:
        return torch.where(row_has, x.gather(1, col)[:, 0], old)

    new_state = SegmentState(
        token=pick(token, state.token),
        intra=pick(raw_intra, state.intra),
        segment=pick(segment, state.segment),
        last_sep=pick(is_sep, state.last_sep),
        document=pick(doc, state.document),
        seen=state.seen | row_has,
    )
    if K:
        assert state.levels is not None and state.level_sep is not None and levels is not None
        new_state = replace(
            new_state,
            levels=torch.stack([pick(coarse[..., k], state.levels[:, k]) for k in range(K)], -1),
            level_sep=torch.stack(
                [pick(level_sep_flags[k], state.level_sep[:, k]) for k in range(K)], -1
            ),
        )
    return positions, new_state


def _as_2d_long(x: Any, name: str) -> Tensor:
    """Convert a numpy array / tensor / sequence, 1-D or 2-D, to a (B, T) long tensor."""
    if isinstance(x, Tensor):
        t = x
    else:
        try:
            t = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{name} must be an array of integers, got {type(x).__name__}"
            ) from exc
    if t.dtype.is_floating_point or t.dtype.is_complex:
        raise ShapeError(f"{name} must hold integers, got dtype {t.dtype}")
    if t.dim() == 1:
        t = t[None]
    if t.dim() != 2:
        raise ShapeError(
            f"{name} must be 1-D (length) or 2-D (batch, length), got {tuple(t.shape)}"
        )
    return t.long()


def positions_from_arrays(
    intra: Any,
    segment: Any,
    *,
    token: Any = None,
    levels: Any = None,
    document: Any = None,
    attention_mask: Any = None,
) -> Positions:
    """Positions from per-token arrays (numpy or torch, 1-D or 2-D), e.g. from `segmenters`."""
    intra_t = _as_2d_long(intra, "intra")
    segment_t = _as_2d_long(segment, "segment")
    if token is None:
        B, T = intra_t.shape
        token_t = torch.arange(T).expand(B, T).clone()
    else:
        token_t = _as_2d_long(token, "token")
    levels_t = None
    if levels is not None:
        lv = levels if isinstance(levels, Tensor) else torch.as_tensor(np.asarray(levels))
        if lv.dim() == 2:
            lv = lv[None]
        if lv.dim() != 3:
            raise ShapeError(
                f"levels must be (length, K) or (batch, length, K), got {tuple(lv.shape)}"
            )
        levels_t = lv.long()
    doc_t = None if document is None else _as_2d_long(document, "document")
    mask_t = None
    if attention_mask is not None:
        m = (
            attention_mask
            if isinstance(attention_mask, Tensor)
            else torch.as_tensor(np.asarray(attention_mask))
        )
        mask_t = (m[None] if m.dim() == 1 else m).bool()
    for name, t in (("intra", intra_t), ("segment", segment_t), ("token", token_t)):
        if (t < 0).any():
            raise InputError(f"{name} indices must be non-negative")
    return Positions(
        token=token_t, intra=intra_t, segment=segment_t, levels=levels_t, document=doc_t,
        attention_mask=mask_t,
    )  # fmt: skip
