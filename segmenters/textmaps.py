"""Per-text lookup arrays for parser-backed segmenters: lines, first non-blank, byte <-> char maps.

tree-sitter reports UTF-8 byte offsets, Python slices by code point. For ASCII text the two agree
and no map is built; otherwise one vectorised pass over the UTF-8 bytes builds the map.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def encode_utf8(text: str) -> bytes:
    """UTF-8 bytes of ``text``; lone surrogates pass through as 3 bytes so offsets stay aligned."""
    return text.encode("utf-8", "surrogatepass")


def code_points(text: str, data: bytes | None = None) -> np.ndarray:
    """One number per character: the bytes themselves for ASCII text, else UTF-32 code points."""
    if data is not None and len(data) == len(text):
        return np.frombuffer(data, dtype=np.uint8)
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def ascii_whitespace(codes: np.ndarray) -> np.ndarray:
    """True where the code point is ASCII whitespace (space, tab, CR, LF, VT, FF)."""
    return (codes == 32) | ((codes >= 9) & (codes <= 13))


@dataclass
class TextMaps:
    """Lines and offsets of one text, computed once and shared by every level."""

    text: str
    data: bytes
    codes: np.ndarray = field(init=False)
    whitespace: np.ndarray = field(init=False)
    word_starts: np.ndarray = field(
        init=False
    )  # offsets of non-blank chars after a blank (or at 0)
    line_starts: np.ndarray = field(init=False)
    line_ends: np.ndarray = field(init=False)  # exclusive, after the "\n"
    first_nonblank: np.ndarray = field(init=False)  # per line; == line end for a blank line
    _b2c: np.ndarray | None = field(init=False, default=None)
    _c2b: np.ndarray | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        n = len(self.text)
        self.codes = code_points(self.text, self.data)
        self.whitespace = ascii_whitespace(self.codes)
        ws = self.whitespace
        self.word_starts = np.flatnonzero(ws[:-1] & ~ws[1:]) + 1
        if n and not ws[0]:
            self.word_starts = np.concatenate(([0], self.word_starts))
        starts = np.flatnonzero(self.codes == 10) + 1
        if len(starts) and starts[-1] == n:
            starts = starts[:-1]
        self.line_starts = np.concatenate(([0], starts)).astype(np.int64)
        self.line_ends = np.concatenate((self.line_starts[1:], [n])).astype(np.int64)
        self.first_nonblank = self.next_nonblank(self.line_starts)
        self.first_nonblank = np.minimum(self.first_nonblank, self.line_ends)

    @property
    def ascii(self) -> bool:
        """True when byte offsets equal character offsets."""
        return len(self.data) == len(self.text)

    @property
    def blank_lines(self) -> np.ndarray:
        """True for lines holding only whitespace."""
        return self.first_nonblank >= self.line_ends

    def next_nonblank(self, pos: np.ndarray) -> np.ndarray:
        """For each offset, the first non-whitespace offset at or after it (len(text) if none)."""
        pos = np.asarray(pos, dtype=np.int64)
        idx = np.searchsorted(self.word_starts, pos)
        out = np.full(len(idx), len(self.text), dtype=np.int64)
        ok = idx < len(self.word_starts)
        out[ok] = self.word_starts[idx[ok]]
        inside = pos < len(self.text)
        here = np.zeros(len(pos), dtype=bool)
        here[inside] = ~self.whitespace[pos[inside]]
        return np.where(here, pos, out)

    def rows(self, pos: np.ndarray) -> np.ndarray:
        """The line index of each char offset."""
        return np.searchsorted(self.line_starts, pos, side="right") - 1

    def to_chars(self, byte_offsets: np.ndarray | list[int]) -> np.ndarray:
        """Convert UTF-8 byte offsets (at character starts) to string indices."""
        arr = np.asarray(byte_offsets, dtype=np.int64)
        if self.ascii:
            return arr
        if self._b2c is None:
            raw = np.frombuffer(self.data, dtype=np.uint8)
            b2c = np.empty(len(raw) + 1, dtype=np.int64)
            np.cumsum((raw & 0xC0) != 0x80, out=b2c[1:])
            # b2c[i + 1] counts characters starting in bytes [0, i]; a char-start offset b maps to b2c[b].
            b2c[0] = 0
            self._b2c = b2c
        return self._b2c[arr]

    def to_bytes(self, char_offsets: np.ndarray | list[int]) -> np.ndarray:
        """Convert string indices to UTF-8 byte offsets."""
        arr = np.asarray(char_offsets, dtype=np.int64)
        if self.ascii:
            return arr
        if self._c2b is None:
            c = self.codes.astype(np.int64)
            size = 1 + (c >= 0x80) + (c >= 0x800) + (c >= 0x10000)
            c2b = np.zeros(len(c) + 1, dtype=np.int64)
            np.cumsum(size, out=c2b[1:])
            self._c2b = c2b
        return self._c2b[arr]
