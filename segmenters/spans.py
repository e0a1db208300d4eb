"""`SpanSequence`: a level of segments held as numpy arrays, read as a tuple of `Segment`s.

Parser-backed segmenters produce hundreds of thousands of spans per megabyte (one per line, one
per statement). Building a frozen `Segment` per span costs about 1.7 microseconds and pickling it
about 8, which would dominate both the end-to-end speed and the cost of returning results from
worker processes. A `SpanSequence` stores starts, ends and error flags as arrays, creates
`Segment` objects only when they are read, and pickles as a few arrays.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from segmenters.segment import Segment, same_source


class SpanSequence(Sequence[Segment]):
    """An immutable, array-backed sequence of `Segment`s over one text (compares like a tuple)."""

    __slots__ = ("_ends", "_errors", "_kinds", "_starts", "level", "text")

    def __init__(
        self,
        text: str,
        starts: np.ndarray,
        ends: np.ndarray,
        level: str | None,
        kinds: str | Sequence[str] = "segment",
        errors: np.ndarray | None = None,
    ) -> None:
        self.text = text
        self._starts = np.asarray(starts, dtype=np.int64)
        self._ends = np.asarray(ends, dtype=np.int64)
        self.level = level
        self._kinds: str | tuple[str, ...] = kinds if isinstance(kinds, str) else tuple(kinds)
        if errors is None:
            errors = np.zeros(len(self._starts), dtype=bool)
        self._errors = np.asarray(errors, dtype=bool)

    @classmethod
    def from_boundaries(
        cls,
        text: str,
        cuts: np.ndarray,
        level: str | None,
        kinds: str | Sequence[str] = "segment",
        errors: np.ndarray | None = None,
    ) -> SpanSequence:
        """Segments between sorted, unique interior cut points (0 < cut < len(text))."""
        n = len(text)
        if n == 0:
            return cls(text, np.zeros(0, np.int64), np.zeros(0, np.int64), level, kinds, errors)
        cuts = np.asarray(cuts, dtype=np.int64)
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [n]))
        return cls(text, starts, ends, level, kinds, errors)

    # -- array access (fast paths for callers that want numbers, not objects) --
    @property
    def starts(self) -> np.ndarray:
        """Start offsets (a read-only view)."""
        v = self._starts.view()
        v.flags.writeable = False
        return v

    @property
    def ends(self) -> np.ndarray:
        """End offsets (a read-only view)."""
        v = self._ends.view()
        v.flags.writeable = False
        return v

    @property
    def errors(self) -> np.ndarray:
        """``has_error`` flags (a read-only view)."""
        v = self._errors.view()
        v.flags.writeable = False
        return v

    @property
    def spans(self) -> list[tuple[int, int]]:
        """``(start, end)`` pairs without creating `Segment` objects."""
        return list(zip(self._starts.tolist(), self._ends.tolist()))

    def kind_at(self, i: int) -> str:
        """The kind label of segment ``i``."""
        return self._kinds if isinstance(self._kinds, str) else self._kinds[i]

    # -- Sequence protocol --
    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, i: int) -> Segment: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[Segment, ...]: ...

    def __getitem__(self, i: int | slice) -> Segment | tuple[Segment, ...]:
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self))))
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"segment index {i} out of range for {n} segments")
        return Segment(
            int(self._starts[i]),
            int(self._ends[i]),
            self.kind_at(i),
            bool(self._errors[i]),
            self.level,
            self.text,
        )

    def __iter__(self) -> Iterator[Segment]:
        text, level, kinds = self.text, self.level, self._kinds
        starts, ends, errs = self._starts.tolist(), self._ends.tolist(), self._errors.tolist()
        if isinstance(kinds, str):
            for s, e, err in zip(starts, ends, errs):
                yield Segment(s, e, kinds, err, level, text)
        else:
            for s, e, k, err in zip(starts, ends, kinds, errs):
                yield Segment(s, e, k, err, level, text)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SpanSequence):
            return (
                same_source(self.text, other.text)
                and self.level == other.level
                and np.array_equal(self._starts, other._starts)
                and np.array_equal(self._ends, other._ends)
                and np.array_equal(self._errors, other._errors)
                and self._kind_tuple() == other._kind_tuple()
            )
        if isinstance(other, (tuple, list)):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def _kind_tuple(self) -> tuple[str, ...]:
        return (self._kinds,) * len(self) if isinstance(self._kinds, str) else self._kinds

    def __add__(self, other: Any) -> tuple[Segment, ...]:
        return (*self, *other)

    def __radd__(self, other: Any) -> tuple[Segment, ...]:
        return (*other, *self)

    def __reduce__(self) -> tuple[Any, ...]:
        # Worker processes send these back: a contiguous partition travels as int32 ends only.
        n = len(self._starts)
        contiguous = (
            n > 0 and self._starts[0] == 0 and np.array_equal(self._starts[1:], self._ends[:-1])
        )
        if contiguous and len(self.text) < 2**31:
            errors = self._errors if self._errors.any() else None
            return (
                _from_ends,
                (self.text, self._ends.astype(np.int32), self.level, self._kinds, errors),
            )
        return (
            SpanSequence,
            (self.text, self._starts, self._ends, self.level, self._kinds, self._errors),
        )

    def __repr__(self) -> str:
        return f"SpanSequence(level={self.level!r}, n={len(self)})"


def _from_ends(
    text: str, ends: np.ndarray, level: str | None, kinds: Any, errors: np.ndarray | None
) -> SpanSequence:
    """Rebuild a contiguous `SpanSequence` from its end offsets (the pickled form)."""
    ends = ends.astype(np.int64)
    starts = np.concatenate(([0], ends[:-1]))
    return SpanSequence(text, starts, ends, level, kinds, errors)
