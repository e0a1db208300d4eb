"""Flattening a Bi-NFA: each needed (target top state, type) pair gets one copy of its bottom NFA.

Everything is vectorised with numpy over a "bank" that holds all bottom arcs and finals in one block
each, so flattening a 10,000-state result takes about a millisecond with no Python loop over copies
or types. The construction and its exact sizes are in docs/theory.md section 3.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from automata.intnfa import EPS, IntNFA


def _offsets(counts: np.ndarray) -> np.ndarray:
    """Start index of each block when blocks of `counts` are laid end to end."""
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def gather(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For blocks [starts[c], starts[c] + counts[c]): each element's block c and its bank index."""
    total = int(counts.sum())
    block = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return block, starts[block] + within


@dataclass(frozen=True)
class BottomBank:
    """All bottom NFAs (indexed by type id) as one block of arcs and one block of finals."""

    n_states: np.ndarray
    start: np.ndarray
    arc_start: np.ndarray
    arc_count: np.ndarray
    src: np.ndarray
    sym: np.ndarray
    dst: np.ndarray
    fin_start: np.ndarray
    fin_count: np.ndarray
    fin: np.ndarray

    @classmethod
    def of(cls, bottoms: Sequence[IntNFA]) -> BottomBank:
        """Concatenate the bottoms' arrays (finals sorted) and record where each type's block starts."""
        arc_count = np.array([b.n_arcs for b in bottoms], dtype=np.int64)
        fins = [np.array(sorted(b.finals), dtype=np.int64) for b in bottoms]
        fin_count = np.array([f.size for f in fins], dtype=np.int64)
        return cls(
            n_states=np.array([b.n_states for b in bottoms], dtype=np.int64),
            start=np.array([b.start for b in bottoms], dtype=np.int64),
            arc_start=_offsets(arc_count),
            arc_count=arc_count,
            src=np.concatenate([b.src for b in bottoms]).astype(np.int64),
            sym=np.concatenate([b.sym for b in bottoms]).astype(np.int64),
            dst=np.concatenate([b.dst for b in bottoms]).astype(np.int64),
            fin_start=_offsets(fin_count),
            fin_count=fin_count,
            fin=np.concatenate(fins).astype(np.int64),
        )


def pairs_and_inverse(top: IntNFA) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct (target, type id) pairs of the top's non-epsilon arcs; per arc its pair.

    Returns ``(pairs, inverse)``: ``inverse[k]`` is the pair index of the k-th non-epsilon arc.
    """
    mask = top.sym != EPS
    stacked = np.stack([top.dst[mask], top.sym[mask]], axis=1)
    pairs, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return pairs.reshape(-1, 2), inverse.reshape(-1)


def flatten_arrays(
    top: IntNFA, bank: BottomBank, symbols: Sequence[Hashable]
) -> tuple[IntNFA, np.ndarray]:
    """The flattened NFA over `symbols` (the separator last) and each flat state's copy index.

    The copy index is -1 for a top state. Top states keep indices 0..m-1; copy c occupies a
    contiguous block.
    The arcs come out distinct (top arcs are distinct, and each copy's arcs live in its own block),
    which `NFA._from_arrays` relies on.
    """
    m = top.n_states
    sep_id = len(symbols) - 1
    pairs, inverse = pairs_and_inverse(top)
    types = pairs[:, 1]
    sizes = bank.n_states[types]
    offsets = m + _offsets(sizes)
    n_flat = int(m + sizes.sum())
    copy_of = np.full(n_flat, -1, dtype=np.int64)
    copy_of[m:] = np.repeat(np.arange(len(pairs)), sizes)
    eps_mask = top.sym == EPS
    # Arc k of copy c is bank arc arc_start[t_c] + k, shifted by the copy's state offset.
    copy_a, idx_a = gather(bank.arc_start[types], bank.arc_count[types])
    copy_f, idx_f = gather(bank.fin_start[types], bank.fin_count[types])
    # Top epsilon moves stay; p --g--> p' becomes p --eps--> start of copy (p', g); each final
    # state of a copy reads the separator back to p'.
    src = np.concatenate(
        [
            top.src[eps_mask],
            top.src[~eps_mask],
            offsets[copy_a] + bank.src[idx_a],
            offsets[copy_f] + bank.fin[idx_f],
        ]
    )
    sym = np.concatenate(
        [
            top.sym[eps_mask],
            np.full(inverse.size, EPS, dtype=np.int64),
            bank.sym[idx_a],
            np.full(idx_f.size, sep_id, dtype=np.int64),
        ]
    )
    dst = np.concatenate(
        [
            top.dst[eps_mask],
            offsets[inverse] + bank.start[types[inverse]],
            offsets[copy_a] + bank.dst[idx_a],
            pairs[copy_f, 0],
        ]
    )
    flat = IntNFA(
        n_flat,
        tuple(symbols),
        top.start,
        top.finals,
        src.astype(np.int64),
        sym.astype(np.int64),
        dst.astype(np.int64),
    )
    return flat, copy_of
