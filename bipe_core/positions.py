"""Token positions for bilevel and hierarchical encodings: token, intra-segment and segment indices.

Semantics follow the paper's released code: a separator is the LAST token of the segment it closes,
the segment index counts separators strictly before a token, and the intra index restarts after each
separator. Everything is vectorised over the sequence (cumsum / cummax); there is no Python loop over
time steps. `build_positions` adds packed documents, padding, overflow handling of long segments and a
`SegmentState` that lets chunked or cached decoding continue exactly where the previous chunk stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from bipe_core.errors import ConfigError, InputError, ShapeError
from bipe_core.position_types import Positions, SegmentState

__all__ = [
    "OVERFLOW_MODES",
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


def _check_overflow(overflow: str) -> None:
    if overflow not in OVERFLOW_MODES:
        raise ConfigError(f"overflow must be one of {OVERFLOW_MODES}, got {overflow!r}")


def bilevel_ids(
    ids: Tensor, separator_ids: Sequence[int] | Tensor, max_intra: int | None = None
) -> tuple[Tensor, Tensor]:
    """Paper-code (intra, segment) indices of a (B, T) id batch; intra clamped to max_intra - 1."""
    ids = _check_ids(ids)
    _check_max_intra(max_intra)
    seps = _sep_tensor(separator_ids, ids.device)
    if ids.shape[1] == 0:  # no tokens: no positions (there is no column 0 to open a segment)
        empty = torch.zeros_like(ids, dtype=torch.long)
        return empty, empty.clone()
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


def _since_start(starts: Tensor, count: Tensor, carried: Tensor) -> Tensor:
    """`count` since the latest start, or `carried` plus `count` in columns before the first one."""
    at_start, any_start = _latest(starts, count)
    return torch.where(any_start, count - at_start, carried[:, None] + count)


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


def _check_state(
    state: SegmentState | None, batch: int, n_levels: int, dev: torch.device
) -> SegmentState:
    """The caller's state checked against the chunk, or the initial state when there is none."""
    if state is None:
        return SegmentState.initial(batch, n_levels, dev)
    if state.token.shape[0] != batch:
        raise ShapeError(f"state has {state.token.shape[0]} rows, ids have {batch}")
    if (state.levels.shape[1] if state.levels is not None else 0) != n_levels:
        raise ShapeError("state carries a different number of hierarchical levels than requested")
    return state


def _empty_positions(
    batch: int,
    n_levels: int,
    dev: torch.device,
    document: Tensor | None,
    attention_mask: Tensor | None,
) -> Positions:
    """Positions of a zero-length chunk."""
    empty = torch.zeros(batch, 0, dtype=torch.long, device=dev)
    levels = torch.zeros(batch, 0, n_levels + 1, dtype=torch.long, device=dev) if n_levels else None
    return Positions(
        token=empty,
        intra=empty.clone(),
        segment=empty.clone(),
        levels=levels,
        document=document,
        attention_mask=attention_mask,
    )


@dataclass(frozen=True)
class _Walk:
    """Where the real tokens and documents of a chunk are; every counting step reads it."""

    valid: Tensor  # (B, T) bool, True = real token
    doc: Tensor  # (B, T) long document ids
    count: Tensor  # real tokens up to and including each column
    doc_start: Tensor  # real tokens that open a document
    last_col: Tensor  # latest real column at or before each column, clamped to >= 0
    has_last: Tensor  # whether there is one
    prev_col: Tensor  # latest real column strictly before each column, clamped to >= 0
    has_prev: Tensor  # whether there is one


def _walk(valid: Tensor, doc: Tensor, state: SegmentState) -> _Walk:
    """Previous real column of every column, and the real tokens that open a document."""
    B, T = valid.shape
    t = torch.arange(T, device=valid.device).expand(B, T)
    last_valid = torch.cummax(torch.where(valid, t, torch.full_like(t, -1)), dim=1).values
    prev_col = torch.cat(
        [torch.full((B, 1), -1, dtype=torch.long, device=valid.device), last_valid[:, :-1]], 1
    )
    has_prev = prev_col >= 0
    prev_col = prev_col.clamp(min=0)
    # before the chunk's first real token the state's last token is the previous one
    prev_doc = torch.where(has_prev, doc.gather(1, prev_col), state.document[:, None].expand(B, T))
    had_prev = has_prev | state.seen[:, None]
    return _Walk(
        valid=valid,
        doc=doc,
        count=torch.cumsum(valid.long(), dim=1),
        doc_start=valid & (~had_prev | (doc != prev_doc)),
        last_col=last_valid.clamp(min=0),
        has_last=last_valid >= 0,
        prev_col=prev_col,
        has_prev=has_prev,
    )


def _segment_starts(is_sep: Tensor, walk: _Walk, st_sep: Tensor) -> Tensor:
    """Real tokens that open a segment: document starts and the first real token after a separator."""
    prev_sep = torch.where(
        walk.has_prev, is_sep.gather(1, walk.prev_col), st_sep[:, None].expand_as(is_sep)
    )
    return walk.valid & (walk.doc_start | prev_sep)


def _segment_index(starts: Tensor, walk: _Walk, st_seg: Tensor) -> Tensor:
    """Segment index within the document, continuing the state's count before the first start."""
    return _since_start(walk.doc_start, torch.cumsum(starts.long(), dim=1), st_seg)


def _segment_and_intra(
    is_sep: Tensor, walk: _Walk, state: SegmentState, max_intra: int | None, split: bool
) -> tuple[Tensor, Tensor]:
    """Segment index and raw (unclamped) intra index of the finest level."""
    starts = _segment_starts(is_sep, walk, state.last_sep)
    raw_intra = _since_start(starts, walk.count, state.intra)
    if split and max_intra is not None:
        # a token whose intra index would reach max_intra opens a new segment
        starts = starts | (walk.valid & (raw_intra > 0) & (raw_intra % max_intra == 0))
        raw_intra = _since_start(starts, walk.count, state.intra)
    return _segment_index(starts, walk, state.segment), raw_intra


def _coarse_levels(
    ids: Tensor, level_sets: list[list[int]], walk: _Walk, state: SegmentState
) -> tuple[list[Tensor], list[Tensor]]:
    """Per hierarchical level k: its separator flags (sets 0..k) and its segment index."""
    flags: list[Tensor] = []
    index: list[Tensor] = []
    for k in range(len(level_sets)):
        sets = torch.cat([_sep_tensor(s, ids.device) for s in level_sets[: k + 1]])
        is_sep = torch.isin(ids, sets) & walk.valid
        assert state.levels is not None and state.level_sep is not None
        starts = _segment_starts(is_sep, walk, state.level_sep[:, k])
        flags.append(is_sep)
        index.append(_segment_index(starts, walk, state.levels[:, k]))
    return flags, index


@dataclass(frozen=True)
class _Counts:
    """Indices of every real token of a chunk; padding columns are not filled yet."""

    token: Tensor
    raw_intra: Tensor  # not clamped to max_intra, as the state carries it
    segment: Tensor
    is_sep: Tensor  # separator of any level
    level_sep: list[Tensor]  # per coarse level, coarse -> fine
    levels: list[Tensor]


def _count(
    ids: Tensor,
    seps: Tensor,
    level_sets: list[list[int]],
    walk: _Walk,
    state: SegmentState,
    max_intra: int | None,
    split: bool,
) -> _Counts:
    """Token, segment, intra and hierarchical indices, restarting at documents."""
    all_seps = torch.cat([seps] + [_sep_tensor(s, ids.device) for s in level_sets])
    is_sep = torch.isin(ids, all_seps) & walk.valid
    segment, raw_intra = _segment_and_intra(is_sep, walk, state, max_intra, split)
    level_sep, levels = _coarse_levels(ids, level_sets, walk, state)
    return _Counts(
        token=_since_start(walk.doc_start, walk.count, state.token),
        raw_intra=raw_intra,
        segment=segment,
        is_sep=is_sep,
        level_sep=level_sep,
        levels=levels,
    )


def _repeat_last_real(x: Tensor, before: Tensor, walk: _Walk) -> Tensor:
    """`x` with every padding column holding the previous real token's value (`before` if none)."""
    prev = torch.where(walk.has_last, x.gather(1, walk.last_col), before[:, None].expand_as(x))
    return torch.where(walk.valid, x, prev)


def _filled_positions(
    counts: _Counts,
    walk: _Walk,
    state: SegmentState,
    max_intra: int | None,
    document: Tensor | None,
    attention_mask: Tensor | None,
) -> Positions:
    """Positions of the chunk, padding repeating the previous real token's indices."""
    # the state's indices before the first real token, so indices stay monotone and padded query
    # rows stay well conditioned in biased attention
    segment = _repeat_last_real(counts.segment, state.segment, walk)
    intra = _repeat_last_real(counts.raw_intra, state.intra, walk)
    levels = None
    if counts.levels:
        assert state.levels is not None
        cols = [_repeat_last_real(c, state.levels[:, k], walk) for k, c in enumerate(counts.levels)]
        levels = torch.stack([*cols, segment], dim=-1)
    return Positions(
        token=_repeat_last_real(counts.token, state.token, walk),
        intra=intra if max_intra is None else intra.clamp(max=max_intra - 1),
        segment=segment,
        levels=levels,
        document=document,
        attention_mask=attention_mask,
    )


def _next_state(counts: _Counts, walk: _Walk, state: SegmentState) -> SegmentState:
    """Values at each row's last real token, or the old state for rows without one."""
    row_has = walk.has_last[:, -1]
    col = walk.last_col[:, -1:]

    def pick(x: Tensor, old: Tensor) -> Tensor:
        return torch.where(row_has, x.gather(1, col)[:, 0], old)

    levels = level_sep = None
    if counts.levels:
        assert state.levels is not None and state.level_sep is not None
        levels = torch.stack([pick(c, state.levels[:, k]) for k, c in enumerate(counts.levels)], -1)
        level_sep = torch.stack(
            [pick(f, state.level_sep[:, k]) for k, f in enumerate(counts.level_sep)], -1
        )
    return SegmentState(
        token=pick(counts.token, state.token),
        intra=pick(counts.raw_intra, state.intra),
        segment=pick(counts.segment, state.segment),
        last_sep=pick(counts.is_sep, state.last_sep),
        document=pick(walk.doc, state.document),
        seen=state.seen | row_has,
        levels=levels,
        level_sep=level_sep,
    )


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
    _check_overflow(overflow)
    B, T = ids.shape
    dev = ids.device
    level_sets = [list(s) for s in (level_separator_ids or [])]
    valid = _per_token("attention_mask", attention_mask, (B, T), dev, torch.bool, True)
    doc = _per_token("document_ids", document_ids, (B, T), dev, torch.long, 0)
    state = _check_state(state, B, len(level_sets), dev)
    seps = _sep_tensor(separator_ids, dev)
    given_doc = doc if document_ids is not None else None
    given_mask = valid if attention_mask is not None else None
    if T == 0:
        return _empty_positions(B, len(level_sets), dev, given_doc, given_mask), state
    walk = _walk(valid, doc, state)
    counts = _count(ids, seps, level_sets, walk, state, max_intra, overflow == "split")
    positions = _filled_positions(counts, walk, state, max_intra, given_doc, given_mask)
    return positions, _next_state(counts, walk, state)


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
