"""`fixed`: fixed-length segments, by characters or by tokens (from a tokenizer's offsets)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from segmenters.base import BaseSegmenter, Segmentation, check_text, spans_from_ends
from segmenters.errors import SegmenterInputError
from segmenters.options import Option


class FixedSegmenter(BaseSegmenter):
    """Fixed-length segments: ``size`` characters each, or ``size`` tokens each given offsets.

    By characters (``segment(text)``) every segment has exactly ``size`` characters (the last one
    fewer), except that with ``keep_crlf=True`` (the default) a boundary that would fall between
    ``"\\r"`` and ``"\\n"`` moves one character later, so that segment has ``size + 1``.
    Indices are Python code points, so no character is ever split.

    By tokens (``segment(text, offsets=...)`` or `segment_tokens`), segment *k* starts at the
    first character of token ``k * size``; tokens with empty offsets (special tokens such as
    ``(0, 0)``) are skipped when placing boundaries. Aligning the same offsets with
    `segmenters.align.align_tokens` then gives intra positions ``0 .. size-1``.
    """

    name = "fixed"
    description = "fixed-length segments by characters or by tokens"

    OPTIONS = (
        Option("size", (int,), 64, "characters (or tokens) per segment", ge=1),
        Option(
            "keep_crlf", (bool,), True, "never cut between \\r and \\n (that segment gets size + 1)"
        ),
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)  # checks them against OPTIONS
        self.size = int(self.settings["size"])
        self.keep_crlf = self.settings["keep_crlf"]

    def segment(self, text: str, offsets: Sequence[Sequence[int]] | None = None) -> Segmentation:
        """Split ``text`` every ``size`` characters, or every ``size`` tokens if ``offsets`` given."""
        text = check_text(text)
        if offsets is not None:
            return self.segment_tokens(text, offsets)
        n = len(text)
        ends = list(range(self.size, n, self.size))
        if self.keep_crlf and "\r\n" in text:
            moved = {e + 1 if text[e - 1] == "\r" and text[e] == "\n" else e for e in ends}
            ends = sorted(e for e in moved if e < n)  # size 1 can move a cut onto the next
        if n:
            ends.append(n)
        return self._build(text, ends, "chars")

    def segment_tokens(self, text: str, offsets: Sequence[Sequence[int]]) -> Segmentation:
        """Split ``text`` so that each segment holds ``size`` tokens (by their start offsets)."""
        text = check_text(text)
        arr = token_offsets(offsets, len(text))
        starts = arr[:, 0]
        real = np.flatnonzero(arr[:, 1] > starts)
        group = real // self.size
        # The first real token of each group of `size` tokens opens a segment.
        _, first = np.unique(group, return_index=True)
        cuts = starts[real[first]]
        cuts = np.unique(cuts[(cuts > 0) & (cuts < len(text))])
        ends = [*cuts.tolist(), len(text)] if text else []
        return self._build(text, ends, "tokens")

    def _build(self, text: str, ends: list[int], unit: str) -> Segmentation:
        segs = spans_from_ends(text, ends, "fixed", "segment")
        info = {"size": self.size, "unit": unit}
        return Segmentation(text, segs, "segment", {"segment": segs}, self.name, info)


def token_offsets(offsets: Any, text_len: int) -> np.ndarray:
    """Validate token character offsets; return them as an ``(n, 2)`` int64 array."""
    try:
        arr = np.asarray(offsets, dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise SegmenterInputError(
            f"offsets must be a sequence of (start, end) integer pairs: {exc}"
        ) from None
    if arr.size == 0:
        return arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise SegmenterInputError(
            f"offsets must have shape (n_tokens, 2) of (start, end) pairs, got shape {arr.shape}"
        )
    bad = (arr[:, 0] < 0) | (arr[:, 1] < arr[:, 0]) | (arr[:, 1] > text_len)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SegmenterInputError(
            f"token {i} has offsets {tuple(arr[i].tolist())}: need 0 <= start <= end <= "
            f"len(text) = {text_len}"
        )
    return arr
