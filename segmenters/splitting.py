"""The hard maximum-length guarantee: cut an oversized span at its children, lines, words, code points.

`split_oversized` returns interior cut points for one span so that every piece is at most
``max_len`` long (measured in characters, or by a caller-given cost such as tokens). It tries, in
order: the syntax children of the span (packed greedily into pieces that fit), line starts,
word starts (after whitespace), and finally any code point. A hard cut never falls between the
``\\r`` and ``\\n`` of a CRLF when ``max_len >= 2``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

CHILDREN, LINES, WORDS, CODE_POINTS = range(4)
_WS_CODES = np.array([9, 10, 11, 12, 13, 32])


@dataclass
class SplitContext:
    """What the splitter needs about one text: code points, line starts, and syntax children."""

    text: str
    codes: np.ndarray  # code point per character (uint8 for ASCII text, uint32 otherwise)
    line_starts: np.ndarray  # char offset of each line start (first is 0)
    max_len: int
    # Candidate cut points from the syntax tree inside (start, end), or None without a tree.
    children: Callable[[int, int], list[int]] | None = None
    # Size of text[start:end] in the caller's unit; None means characters.
    cost: Callable[[int, int], int] | None = None

    def size(self, start: int, end: int) -> int:
        """Length of a span in the unit the maximum is stated in."""
        return end - start if self.cost is None else self.cost(start, end)


def whitespace_mask(codes: np.ndarray) -> np.ndarray:
    """True where the code point is ASCII whitespace (space, tab, CR, LF, VT, FF)."""
    return np.isin(codes, _WS_CODES)


def _candidates(strategy: int, start: int, end: int, ctx: SplitContext) -> list[int]:
    if strategy == CHILDREN:
        return ctx.children(start, end) if ctx.children is not None else []
    if strategy == LINES:
        ls = ctx.line_starts
        lo, hi = np.searchsorted(ls, [start + 1, end])
        return ls[lo:hi].tolist()
    if strategy == WORDS:
        seg = whitespace_mask(ctx.codes[start:end])
        starts = np.flatnonzero(seg[:-1] & ~seg[1:]) + 1
        return (starts + start).tolist()
    return _code_point_cuts(start, end, ctx)


def _code_point_cuts(start: int, end: int, ctx: SplitContext) -> list[int]:
    text, cuts, cur = ctx.text, [], start
    while ctx.size(cur, end) > ctx.max_len:
        p = cur + 1
        if ctx.cost is None:
            p = cur + ctx.max_len
        else:  # the longest prefix that fits, by bisection on the cost
            lo, hi = cur + 1, end
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if ctx.size(cur, mid) <= ctx.max_len:
                    lo = mid
                else:
                    hi = mid - 1
            p = lo
        if p - 1 > cur and text[p - 1] == "\r" and text[p] == "\n":
            p -= 1  # keep CRLF whole
        cuts.append(p)
        cur = p
    return cuts


def pack(start: int, end: int, cands: list[int], ctx: SplitContext) -> list[tuple[int, int]]:
    """Greedy packing: each piece runs to the furthest candidate that keeps it within the max."""
    pts = sorted(set(c for c in cands if start < c < end))
    pts.append(end)
    pieces, cur = [], start
    while cur < end:
        i = bisect.bisect_right(pts, cur)
        best = pts[i]
        # Pieces grow monotonically in size, so scan forward while the next candidate still fits.
        j = i
        while j < len(pts) and ctx.size(cur, pts[j]) <= ctx.max_len:
            best = pts[j]
            j += 1
        pieces.append((cur, best))
        cur = best
    return pieces


def split_oversized(start: int, end: int, ctx: SplitContext) -> list[int]:
    """Interior cut points that make every piece of ``[start, end)`` fit within ``ctx.max_len``."""
    cuts: list[int] = []
    stack = [(start, end, CHILDREN)]
    while stack:
        s, e, strategy = stack.pop()
        if ctx.size(s, e) <= ctx.max_len or e - s <= 1:
            continue
        for strat in range(strategy, CODE_POINTS + 1):
            cands = [c for c in _candidates(strat, s, e, ctx) if s < c < e]
            if not cands:
                continue
            if strat == CODE_POINTS:
                cuts.extend(cands)
                break
            pieces = pack(s, e, cands, ctx)
            nxt = CHILDREN if strat == CHILDREN else strat + 1
            for a, b in pieces:
                if a != s:
                    cuts.append(a)
                if ctx.size(a, b) > ctx.max_len:
                    stack.append((a, b, nxt))
            break
    return sorted(cuts)
