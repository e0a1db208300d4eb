"""Token streams and the tensors cut from them: windows re-based as the model would compute their
positions, the batch of a training step (a pure function of seed and step), fixed validation
windows, and the non-overlapping blocks of the evaluation against length.

Segment ids count up across a whole split (each document opens a new segment), so any window cut
from a stream can be re-based with `window_positions`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from experiments.errors import ExperimentError

if TYPE_CHECKING:
    import torch

    from bipe_core.positions import Positions


@dataclass
class TokenStream:
    """One split as a token stream with optional per-token segment positions."""

    ids: np.ndarray  # int32 (N,)
    doc_starts: np.ndarray  # int64 (D,)
    intra: np.ndarray | None = None  # int32 (N,)
    segment: np.ndarray | None = None  # int64 (N,), non-decreasing over the stream
    levels: np.ndarray | None = None  # int64 (N, K) coarse -> fine, last column == segment

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def segment_lengths(self) -> np.ndarray:
        """Length in tokens of every segment of the stream."""
        if self.segment is None:
            raise ExperimentError("this stream has no segment positions")
        return np.bincount(self.segment - self.segment.min())


def window_positions(intra: np.ndarray, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Re-base positions of a window cut from a stream: first segment 0, first token intra 0.

    The same positions the paper's code computes from the window alone: a window that starts
    inside a segment counts that partial segment from intra index 0.
    """
    seg = segment - segment[..., :1]
    first = seg == 0
    intra = np.where(first, intra - intra[..., :1], intra)
    return intra, seg


def window_levels(levels: np.ndarray) -> np.ndarray:
    """Re-base hierarchical levels (..., T, K) of a window: every level starts at 0."""
    return levels - levels[..., :1, :]


def windows(
    stream: TokenStream, starts: np.ndarray, length: int
) -> tuple[torch.Tensor, torch.Tensor, Positions | None]:
    """Inputs/targets of the windows starting at ``starts`` and their re-based positions."""
    import torch

    idx = starts[:, None] + np.arange(length)[None]
    x = torch.from_numpy(stream.ids[idx].astype(np.int64))
    y = torch.from_numpy(stream.ids[idx + 1].astype(np.int64))
    positions = None
    if stream.segment is not None:
        from bipe_core.positions import positions_from_arrays

        intra, seg = window_positions(stream.intra[idx].astype(np.int64), stream.segment[idx])
        levels = None if stream.levels is None else window_levels(stream.levels[idx])
        positions = positions_from_arrays(intra, seg, levels=levels)
    return x, y, positions


def batch_at(
    stream: TokenStream,
    step: int,
    seed: int,
    batch_size: int,
    seq_len: int,
    rank: int = 0,
    world: int = 1,
) -> tuple[torch.Tensor, torch.Tensor, Positions | None]:
    """Inputs, targets and positions of step ``step``: random windows chosen by (seed, step).

    Batches are a pure function of (seed, step), which makes a resumed run identical to an
    uninterrupted one and lets DDP ranks take disjoint rows of the same global batch.
    """
    n = len(stream)
    if n < seq_len + 2:
        raise ExperimentError(
            f"the training split has {n} tokens, fewer than seq_len+2 = {seq_len + 2}"
        )
    rng = np.random.default_rng([seed, step])
    starts = rng.integers(0, n - seq_len - 1, size=batch_size)[rank::world]
    return windows(stream, starts, seq_len)


def fixed_windows(
    stream: TokenStream, seed: int, n_windows: int, seq_len: int
) -> tuple[torch.Tensor, torch.Tensor, Positions | None]:
    """The same ``n_windows`` validation windows every time (seeded by the run's seed)."""
    rng = np.random.default_rng([seed, 2**31 - 1])
    starts = rng.integers(0, len(stream) - seq_len - 1, size=n_windows)
    return windows(stream, starts, seq_len)


def blocks(
    stream: TokenStream, length: int, budget: int, batch_size: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor, Positions | None]]:
    """Non-overlapping blocks of ``length`` over the first ``budget`` tokens, ``batch_size`` at once."""
    starts = np.arange(0, budget, length, dtype=np.int64)
    for i in range(0, len(starts), batch_size):
        yield windows(stream, starts[i : i + batch_size], length)
