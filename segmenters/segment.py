"""`Segment`, the one span every segmentation is made of, and how two sources compare.

It sits below `segmenters.base` (the contract) and `segmenters.spans` (array-backed levels),
which both build on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Segment:
    """A half-open span ``[start, end)`` of indices into ``source``: a str, or a 1-D numpy array
    (a numeric or symbol-code sequence, see `segmenters.sequence`)."""

    start: int
    end: int
    kind: str = "segment"
    has_error: bool = False
    level: str | None = None
    # The whole text, shared by reference (not a copy), so `.text` needs no extra argument.
    source: Any = field(default="", repr=False, compare=False)

    @property
    def text(self) -> Any:
        """The characters of this segment (the values, for a sequence)."""
        return self.source[self.start : self.end]

    def __len__(self) -> int:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the span and its labels (without the text)."""
        out: dict[str, Any] = {"start": self.start, "end": self.end, "kind": self.kind}
        if self.has_error:
            out["has_error"] = True
        if self.level is not None:
            out["level"] = self.level
        return out


def same_source(a: Any, b: Any) -> bool:
    """True when two segmentation sources (str or 1-D array) hold the same items."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    import numpy as np

    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f" and b.dtype.kind == "f"))
