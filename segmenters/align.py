"""Token alignment: per-token intra-segment positions and segment indices from character spans.

Semantics (the same for every function here):

- A token belongs to the segment in which it *starts* (its first character) with
  ``boundary="start"`` (the default, the original behaviour), or to the segment of its first
  non-whitespace character with ``boundary="word"``. Byte-level BPE tokens carry their leading
  space (" The") while a segment keeps the whitespace after its end, so under ``"start"`` the first
  word of a sentence lands in the previous segment (7.7% of KJV ``punct`` boundaries, docs/results.md
  section 0); ``"word"`` puts it in the segment its letters belong to. A token that is all
  whitespace keeps its start under both.
- A token with an empty span (``start == end``, e.g. HF special tokens at ``(0, 0)``) has no
  character of its own: it joins the segment of the next non-empty token, or, when no non-empty
  token follows (an end-of-sequence token), that of the previous one. A leading BOS therefore
  takes intra position 0 of the first segment and the first word position 1.
- ``segment`` counts token-level segments from 0 in token order: it increases by one whenever
  the source segment changes, so segments that hold no token start (e.g. whitespace that the
  tokenizer drops) leave no gap. ``source`` keeps the index into ``Segmentation.segments``.
- ``intra`` is the distance from the first token of the token's segment.
- ``max_intra`` bounds ``intra`` to ``0 .. max_intra-1``. ``overflow="split"`` (default) starts a
  new segment every ``max_intra`` tokens, so all later segment indices shift up;
  ``overflow="clamp"`` keeps the segment and clamps ``intra`` to ``max_intra - 1``, as the BiPE
  code clamps at 1023.

Everything is vectorised with numpy (``np.searchsorted`` and cumulative sums): millions of tokens
take milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from segmenters.base import Segment, Segmentation
from segmenters.errors import SegmenterInputError, SegmenterOptionError
from segmenters.fixed import token_offsets

# The same choices as bipe_core.positions.OVERFLOW_MODES; restated because segmenters never imports
# torch (tests/test_layers.py checks that the two agree).
OVERFLOW_MODES = ("split", "clamp")
# Which character of a token places it in a segment: its first, or its first non-whitespace one.
BOUNDARIES = ("start", "word")
# Every code point Python calls whitespace below U+3001 (none above): the set \s of BPE pre-tokenizers.
_SPACES = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32)

__all__ = [
    "BOUNDARIES",
    "LevelPositions",
    "TokenPositions",
    "align_encoding",
    "align_levels",
    "align_tokens",
    "align_values",
    "token_anchors",
    "value_offsets",
]


@dataclass(frozen=True)
class TokenPositions:
    """Per-token int64 arrays: ``intra`` position, ``segment`` index, and ``source`` segment."""

    intra: np.ndarray
    segment: np.ndarray
    source: np.ndarray

    def as_tuple(self) -> tuple[np.ndarray, np.ndarray]:
        """``(intra, segment)``, the pair a BiPE model takes."""
        return self.intra, self.segment

    def __len__(self) -> int:
        return len(self.intra)

    @property
    def n_segments(self) -> int:
        """Number of token-level segments (``segment.max() + 1``; 0 without tokens)."""
        return int(self.segment[-1]) + 1 if len(self.segment) else 0


@dataclass(frozen=True)
class LevelPositions:
    """Per-token positions at every level of a segmentation, levels ordered coarse to fine.

    ``segment[:, j]`` and ``intra[:, j]`` are the `align_tokens` arrays for ``levels[j]``.
    """

    levels: tuple[str, ...]
    intra: np.ndarray
    segment: np.ndarray

    def at(self, level: str) -> TokenPositions:
        """The positions of one level."""
        if level not in self.levels:
            raise SegmenterOptionError(
                f"level {level!r} not aligned; available: {list(self.levels)}"
            )
        j = self.levels.index(level)
        return TokenPositions(self.intra[:, j], self.segment[:, j], self.segment[:, j])


def token_anchors(
    offsets: Any, text_len: int, text: str | None = None, boundary: str = "start"
) -> np.ndarray:
    """The character each token is placed by: its start (or first non-whitespace character with
    ``boundary="word"``, which needs ``text``), or a neighbour's for empty spans."""
    arr = token_offsets(offsets, text_len)
    n = len(arr)
    starts = arr[:, 0]
    if boundary == "word" and n:
        if text is None:
            raise SegmenterOptionError('boundary="word" needs the text')
        starts = _first_non_space(text, arr)
    if n == 0:
        return starts
    real = arr[:, 1] > starts
    if real.all():
        return starts
    if not real.any():
        return np.zeros(n, dtype=np.int64)
    idx = np.arange(n)
    # Index of the next real token at or after i (n if none), and of the previous one (-1).
    nxt = np.minimum.accumulate(np.where(real, idx, n)[::-1])[::-1]
    prv = np.maximum.accumulate(np.where(real, idx, -1))
    pick = np.where(nxt < n, nxt, prv)
    return starts[pick]


def _first_non_space(text: str, arr: np.ndarray) -> np.ndarray:
    """Per token span, its first non-whitespace offset, or its start when it is all whitespace."""
    from segmenters.textmaps import code_points

    codes = code_points(text)
    solid = np.flatnonzero(~np.isin(codes, _SPACES))
    starts, ends = arr[:, 0], arr[:, 1]
    idx = np.searchsorted(solid, starts)
    first = np.append(solid, len(text))[idx]
    return np.where(first < ends, first, starts).astype(np.int64)


def _ends(segments: Segmentation | tuple[Segment, ...] | list[Segment]) -> np.ndarray:
    if isinstance(segments, Segmentation):
        segments = segments.segments
    if hasattr(segments, "ends"):  # array-backed (segmenters.spans.SpanSequence)
        return np.asarray(segments.ends, dtype=np.int64)
    return np.fromiter((s.end for s in segments), dtype=np.int64, count=len(segments))


def _check_limits(max_intra: int | None, overflow: str, boundary: str = "start") -> None:
    if boundary not in BOUNDARIES:
        raise SegmenterOptionError(
            f"boundary must be one of {', '.join(map(repr, BOUNDARIES))}, got {boundary!r}"
        )
    if overflow not in OVERFLOW_MODES:
        raise SegmenterOptionError(
            f"overflow must be one of {', '.join(map(repr, OVERFLOW_MODES))}, got {overflow!r}"
        )
    if max_intra is not None and (
        isinstance(max_intra, bool) or not isinstance(max_intra, (int, np.integer)) or max_intra < 1
    ):
        raise SegmenterOptionError(f"max_intra must be a positive int or None, got {max_intra!r}")


def _positions(
    source: np.ndarray, max_intra: int | None, overflow: str
) -> tuple[np.ndarray, np.ndarray]:
    """(intra, segment) from each token's source-segment index, in token order."""
    n = len(source)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(source[1:], source[:-1], out=change[1:])
    run = np.cumsum(change) - 1
    idx = np.arange(n, dtype=np.int64)
    intra = idx - np.flatnonzero(change)[run]
    if max_intra is None:
        return intra, run
    if overflow == "clamp":
        return np.minimum(intra, max_intra - 1), run
    split = change | (intra % max_intra == 0)
    return intra % max_intra, np.cumsum(split) - 1


def align_tokens(
    segmentation: Segmentation,
    offsets: Any,
    max_intra: int | None = None,
    overflow: str = "split",
    boundary: str = "start",
) -> TokenPositions:
    """Per-token ``(intra, segment)`` for a segmentation and a tokenizer's ``(start, end)`` offsets.

    ``offsets`` is anything numpy reads as ``(n_tokens, 2)`` integers (a list of pairs, HF
    ``Encoding.offsets``). See the module docstring for the exact semantics.
    """
    if not isinstance(segmentation, Segmentation):
        raise SegmenterInputError(
            f"align_tokens takes a Segmentation, got {type(segmentation).__name__}"
        )
    _check_limits(max_intra, overflow, boundary)
    anchors = token_anchors(offsets, len(segmentation.text), segmentation.text, boundary)
    source = _source_index(_ends(segmentation), anchors)
    intra, segment = _positions(source, max_intra, overflow)
    return TokenPositions(intra, segment, source)


def _source_index(ends: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    if len(ends) == 0:  # empty text: any (special) tokens share one segment
        return np.zeros(len(anchors), dtype=np.int64)
    # The segment containing character a is the number of segment ends <= a.
    return np.minimum(np.searchsorted(ends, anchors, side="right"), len(ends) - 1).astype(np.int64)


def align_levels(
    segmentation: Segmentation,
    offsets: Any,
    max_intra: int | None = None,
    overflow: str = "split",
    boundary: str = "start",
) -> LevelPositions:
    """`align_tokens` at every level of ``segmentation`` at once, as ``(n_tokens, n_levels)``."""
    if not isinstance(segmentation, Segmentation):
        raise SegmenterInputError(
            f"align_levels takes a Segmentation, got {type(segmentation).__name__}"
        )
    _check_limits(max_intra, overflow, boundary)
    anchors = token_anchors(offsets, len(segmentation.text), segmentation.text, boundary)
    names = tuple(segmentation.levels)
    intra = np.zeros((len(anchors), len(names)), dtype=np.int64)
    segment = np.zeros_like(intra)
    for j, name in enumerate(names):
        source = _source_index(_ends(segmentation.levels[name]), anchors)
        intra[:, j], segment[:, j] = _positions(source, max_intra, overflow)
    return LevelPositions(names, intra, segment)


def value_offsets(n: int, patch: int = 1) -> np.ndarray:
    """Token offsets for a sequence of ``n`` values: one token per value, or per ``patch`` values.

    The last token holds the remainder when ``patch`` does not divide ``n``. The result goes to
    `align_tokens` like a tokenizer's offsets (a token belongs to the segment its first value
    is in).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise SegmenterOptionError(f"n must be a non-negative int, got {n!r}")
    if isinstance(patch, bool) or not isinstance(patch, (int, np.integer)) or patch < 1:
        raise SegmenterOptionError(f"patch must be a positive int, got {patch!r}")
    starts = np.arange(0, n, patch, dtype=np.int64)
    return np.stack((starts, np.minimum(starts + patch, n)), axis=1)


def align_values(
    segmentation: Segmentation,
    patch: int = 1,
    max_intra: int | None = None,
    overflow: str = "split",
) -> TokenPositions:
    """`align_tokens` for one token per value (or per ``patch`` values) of the segmented sequence.

    Works on any segmentation, text included (one token per character or per ``patch``).
    """
    if not isinstance(segmentation, Segmentation):
        raise SegmenterInputError(
            f"align_values takes a Segmentation, got {type(segmentation).__name__}"
        )
    offsets = value_offsets(len(segmentation.text), patch)
    return align_tokens(segmentation, offsets, max_intra, overflow)


def align_encoding(
    segmentation: Segmentation,
    encoding: Any,
    max_intra: int | None = None,
    overflow: str = "split",
    boundary: str = "start",
) -> TokenPositions:
    """`align_tokens` for a HF ``tokenizers.Encoding``: its special tokens count as empty spans."""
    try:
        offsets = np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)
        special = np.asarray(getattr(encoding, "special_tokens_mask", []), dtype=bool)
    except AttributeError:
        raise SegmenterInputError(
            f"align_encoding takes a tokenizers.Encoding (with .offsets), got {type(encoding).__name__}"
        ) from None
    if special.shape == (len(offsets),) and special.any():
        offsets = offsets.copy()
        offsets[special, 1] = offsets[special, 0]
    return align_tokens(segmentation, offsets, max_intra, overflow, boundary)
