"""Sequences that are not text: 1-D numeric or symbol-code arrays under the segmentation contract.

A `Segmentation` of a sequence holds the sequence as a read-only 1-D numpy array in ``text``;
its spans are index ranges with the same invariants as text (sorted, contiguous, exact cover).
Symbol sequences written with one character per symbol (DNA, protein) are simply str and use
the text path unchanged.

Numeric files have one documented text format, read by `parse_values`: one number per line;
blank lines and lines starting with ``#`` carry no value and stay inside the span of the value
before them. A segmenter given such a text returns character spans that start on value lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from segmenters.base import BaseSegmenter, Segmentation, check_text
from segmenters.errors import SegmenterInputError
from segmenters.spans import SpanSequence

__all__ = [
    "SequenceSegmenter",
    "ValueLines",
    "as_sequence",
    "parse_values",
    "sequence_segmentation",
]


def as_sequence(values: Any, *, finite: bool = True) -> np.ndarray:
    """Check a 1-D numeric sequence and return it as a read-only numpy array (int or float).

    Not a sequence, not 1-D, non-numeric items, bools, or (with ``finite``) NaN and infinite
    values raise `SegmenterInputError` naming the problem and the first bad index.
    """
    if isinstance(values, (str, bytes, bytearray, memoryview)) or values is None:
        raise SegmenterInputError(f"expected a 1-D numeric sequence, got {type(values).__name__}")
    if not isinstance(values, (np.ndarray, list, tuple)):
        raise SegmenterInputError(
            f"expected a 1-D numeric sequence (list, tuple or numpy array), got {type(values).__name__}"
        )
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise SegmenterInputError(f"not a 1-D numeric sequence: {exc}") from None
    if arr.ndim != 1:
        raise SegmenterInputError(f"expected a 1-D sequence, got shape {arr.shape}")
    if arr.dtype.kind not in "iuf":
        if arr.dtype.kind == "b":
            raise SegmenterInputError("expected numbers, got booleans (convert with .astype(int))")
        raise SegmenterInputError(
            f"expected numbers, got items of dtype {arr.dtype} (first item {arr[:1].tolist()!r})"
            if len(arr)
            else f"expected numbers, got dtype {arr.dtype}"
        )
    arr = arr.astype(np.float64 if arr.dtype.kind == "f" else np.int64, copy=True)
    if finite and arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SegmenterInputError(
                f"sequence has {int(bad.sum())} NaN or infinite value(s), the first at index {i} "
                f"({float(arr[i])}); drop or interpolate them first"
            )
    arr.flags.writeable = False
    return arr


class ValueLines:
    """The values of a one-number-per-line text and the character offset of each value's line."""

    __slots__ = ("line_starts", "values")

    def __init__(self, values: np.ndarray, line_starts: np.ndarray) -> None:
        self.values = values
        self.line_starts = line_starts

    def char_cuts(self, index_cuts: np.ndarray) -> np.ndarray:
        """Character cut points (line starts) for interior value-index cut points."""
        return self.line_starts[np.asarray(index_cuts, dtype=np.int64)]


def parse_values(text: str) -> ValueLines:
    """Read one number per line (blank and ``#`` lines carry none); name the first bad line."""
    text = check_text(text)
    values: list[float] = []
    starts: list[int] = []
    pos = 0
    for lineno, line in enumerate(text.splitlines(keepends=True), 1):
        body = line.strip()
        if body and not body.startswith("#"):
            try:
                values.append(float(body))
            except ValueError:
                raise SegmenterInputError(
                    f"line {lineno}: {body[:40]!r} is not a number (numeric input is one value "
                    "per line; blank lines and lines starting with # are skipped)"
                ) from None
            starts.append(pos)
        pos += len(line)
    arr = as_sequence(np.asarray(values, dtype=np.float64))
    line_starts = np.asarray(starts, dtype=np.int64)
    if len(line_starts):
        line_starts[0] = 0  # leading blank or comment lines belong to the first value
    return ValueLines(arr, line_starts)


def sequence_segmentation(
    source: Any,
    cuts: dict[str, Any],
    primary: str,
    segmenter: str,
    info: dict[str, Any] | None = None,
    kinds: dict[str, str | Sequence[str]] | None = None,
) -> Segmentation:
    """A `Segmentation` of ``source`` (str or array) from interior cut points per level.

    ``cuts`` maps level names, coarse to fine, to sorted unique cut points ``0 < c < len``; a cut
    of a coarser level must also be a cut of every finer one (the caller merges them).
    """
    kinds = kinds or {}
    levels = {
        name: SpanSequence.from_boundaries(
            source, np.asarray(c, dtype=np.int64), name, kinds.get(name, name)
        )
        for name, c in cuts.items()
    }
    return Segmentation(source, levels[primary], primary, levels, segmenter, dict(info or {}))


class SequenceSegmenter(BaseSegmenter):
    """Base for segmenters of 1-D sequences: `segment` takes an array-like or a value-per-line text.

    Subclasses implement `_cuts(values) -> {level: index cuts}`; a text input is parsed with
    `parse_values` and its cuts become line starts, so the spans are character spans.
    """

    levels: tuple[str, ...] = ("segment",)
    level: str = "segment"

    def _check_input(self, item: Any) -> Any:
        if isinstance(item, str):
            return item
        return as_sequence(item)

    def _cuts(self, values: np.ndarray) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _info(self) -> dict[str, Any]:
        return {}

    def segment(self, data: Any) -> Segmentation:
        """Segment a 1-D numeric sequence (index spans) or a one-value-per-line text (char spans)."""
        if isinstance(data, str):
            lines = parse_values(data)
            cuts = {lv: lines.char_cuts(c) for lv, c in self._cuts(lines.values).items()}
            return sequence_segmentation(data, cuts, self.level, self.name, self._info())
        values = as_sequence(data)
        return sequence_segmentation(
            values, self._cuts(values), self.level, self.name, self._info()
        )
