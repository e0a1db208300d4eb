"""The `code` segmenter: tree-sitter blocks, nested as file > definition > statement > line.

One parse gives every level. ``definition`` holds each top-level statement, definition or class
with the comments and blank lines before it; ``statement`` adds the statements inside bodies
(recursively), the clauses (``else``, ``except``...) and closing ``}``/``end`` lines; ``line``
adds physical lines (split by ``\\n``). Every coarser boundary is also a finer one, so a
top-level statement that starts mid-line (minified code) also splits its line.
Syntax errors never raise: segments overlapping ERROR or MISSING nodes carry ``has_error`` and
the lines of error regions become boundaries at every level.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segmenters.base import (
    BaseSegmenter,
    Segmentation,
    check_text,
)
from segmenters.code_languages import (
    LanguageSpec,
    get_language_for_path,
    language_from_shebang,
    load_language,
    resolve_language,
)
from segmenters.errors import SegmenterOptionError
from segmenters.options import PATH, Option
from segmenters.spans import SpanSequence
from segmenters.splitting import SplitContext, pack, split_oversized
from segmenters.textmaps import TextMaps, encode_utf8
from segmenters.token_cost import check_tokenizer, token_cost

LEVELS = ("file", "definition", "statement", "line")
_PARSERS: dict[str, Any] = {}  # one tree-sitter Parser per language per process


def _parser(lang: str) -> Any:
    if lang not in _PARSERS:
        import tree_sitter as ts

        _PARSERS[lang] = ts.Parser(load_language(lang)[1])
    return _PARSERS[lang]


@dataclass
class _Walk:
    """What one walk over the tree collects, as UTF-8 byte offsets."""

    top: list[tuple[int, int, str, bool]] = field(default_factory=list)  # start, end, type, named
    statements: list[int] = field(default_factory=list)
    closers: list[int] = field(default_factory=list)
    comments: list[tuple[int, int]] = field(default_factory=list)


def _walk(root: Any, spec: LanguageSpec, deep: bool = True) -> _Walk:
    """Collect top-level nodes, body statements, clauses, closing tokens and comments in one pass.

    Only nodes that can hold a body are entered (multi-line nodes, or for Python the compound
    statements), which keeps the pass to a fraction of the parse time.
    """
    out = _Walk()
    bodies, clauses, closers, descend = spec.bodies, spec.clauses, spec.closers, spec.descend
    comment_types = spec.comments
    for c in root.children:
        out.top.append((c.start_byte, c.end_byte, c.type, c.is_named))
    stack = [root]
    while stack:
        node = stack.pop()
        if not deep and node is not root:
            break  # definitions only need the top level and its comments
        in_body = node.type in bodies
        for c in node.children:
            t = c.type
            if t in comment_types:
                out.comments.append((c.start_byte, c.end_byte))
                continue
            if in_body or t in clauses:
                if c.is_named:
                    out.statements.append(c.start_byte)
                elif t in closers:
                    out.closers.append(c.start_byte)
                    continue
            elif t in closers and t != "}":
                out.closers.append(c.start_byte)
                continue
            if descend is None:
                if c.start_point[0] != c.end_point[0]:
                    stack.append(c)
            elif t in descend:
                stack.append(c)
    return out


class CodeSegmenter(BaseSegmenter):
    """Source code split by tree-sitter into nested levels file > definition > statement > line."""

    name = "code"
    description = "tree-sitter code blocks: file > definition > statement > line"

    OPTIONS = (
        Option("language", (str,), "auto", "a language name, or auto (from filename, extension or #!)"),
        Option("level", (str,), "definition", "the primary level", choices=LEVELS),
        Option("levels", (list, tuple), None, f"the levels to build, of {', '.join(LEVELS)} (None: all)", expect="a list of level names"),
        Option("max_chars", (int,), None, "split segments longer than this many characters", ge=1),
        Option("max_tokens", (int,), None, "split segments longer than this many tokens (needs tokenizer)", ge=1),
        Option("tokenizer", (), None, "a callable text -> [(start, end), ...] or a tokenizers.Tokenizer"),
        Option("filename", PATH, None, "the file's name, to pick the language (auto)"),
        Option("extension", (str,), None, "a file extension such as py, to pick the language (auto)"),
    )  # fmt: skip

    def __init__(
        self,
        language: str = "auto",
        level: str = "definition",
        levels: list[str] | tuple[str, ...] | None = None,
        max_chars: int | None = None,
        max_tokens: int | None = None,
        tokenizer: Any = None,
        filename: str | os.PathLike[str] | None = None,
        extension: str | None = None,
    ) -> None:
        super().__init__(
            language=language, level=level, levels=levels, max_chars=max_chars,
            max_tokens=max_tokens, tokenizer=tokenizer, filename=filename, extension=extension,
        )  # fmt: skip
        chosen = list(LEVELS) if levels is None else list(levels)
        bad = [lv for lv in chosen if lv not in LEVELS]
        if bad:
            raise SegmenterOptionError(f"unknown code levels {bad}; choose from {list(LEVELS)}")
        if level not in chosen:
            chosen.append(level)
        self.level = level
        self.levels = [lv for lv in LEVELS if lv in chosen]
        self.max_chars, self.max_tokens = max_chars, max_tokens
        check_tokenizer(tokenizer)
        if self.max_tokens is not None and tokenizer is None:
            raise SegmenterOptionError(
                "max_tokens needs tokenizer= (a callable text -> [(start, end), ...] character "
                "offsets, or a `tokenizers.Tokenizer`)"
            )
        self.tokenizer = tokenizer
        if extension is not None and filename is None:
            ext = extension if str(extension).startswith(".") else f".{extension}"
            filename = f"file{ext}"
        self.filename = filename
        self._path_error: SegmenterOptionError | None = None
        if isinstance(language, str) and language.strip().lower() == "auto":
            self.language = None
            if filename is not None:
                try:
                    self.language = get_language_for_path(filename)
                except SegmenterOptionError as exc:  # no known extension: a #! line may say
                    self._path_error = exc
        else:
            self.language = resolve_language(language)
        if self.language is not None:
            load_language(self.language)  # fail now, not on the first text, if the wheel is missing

    def _language_for(self, text: str) -> str:
        if self.language is not None:
            return self.language
        lang = language_from_shebang(text)
        if lang is None and self._path_error is not None:
            raise SegmenterOptionError(
                f"{self._path_error} (and the text has no #! line naming one)"
            )
        if lang is None:
            raise SegmenterOptionError(
                "language='auto' needs filename= or extension= (or a #! line naming the "
                "interpreter); or pass language= explicitly"
            )
        return lang

    def segment(self, text: str) -> Segmentation:
        """Segment one source text at every configured level; the primary level is ``level``."""
        text = check_text(text)
        lang = self._language_for(text) if text else (self.language or "")
        info: dict[str, Any] = {"language": lang, "max_chars": self.max_chars}
        if self.max_tokens is not None:
            info["max_tokens"] = self.max_tokens
        if not text:
            empty = {lv: SpanSequence.from_boundaries(text, [], lv, lv) for lv in self.levels}
            return Segmentation(text, empty[self.level], self.level, empty, self.name, info)
        data = encode_utf8(text)
        tree = _parser(lang).parse(data)
        maps = TextMaps(text, data)
        deep = "statement" in self.levels or "line" in self.levels
        walk = _walk(tree.root_node, load_language(lang)[0], deep)
        cuts, kinds = _level_cuts(walk, maps, self.levels)
        errors = _error_ranges(tree.root_node, maps)
        if len(errors):
            info["has_error"] = True
            _add_error_lines(cuts, errors, maps)
        cost = None
        if self.max_tokens is not None:
            cost = token_cost(self.tokenizer, text)
        limit = self.max_tokens if cost is not None else self.max_chars
        if limit is not None:
            ctx = SplitContext(
                text,
                maps.codes,
                maps.line_starts,
                limit,
                children=_children_finder(tree.root_node, maps),
                cost=cost,
            )
            extra = _split_level(cuts[self.level], ctx, len(text))
            primary = self.levels.index(self.level)
            if len(extra):
                for lv in self.levels[primary:]:
                    cuts[lv] = _merge(cuts[lv], extra)
            # Coarser levels: oversized segments are re-cut into greedy runs of finer segments.
            for k in range(primary - 1, -1, -1):
                cuts[self.levels[k]] = _pack_level(
                    cuts[self.levels[k]], cuts[self.levels[k + 1]], ctx, len(text)
                )
        out = {}
        for lv in self.levels:
            c = cuts[lv]
            starts = np.concatenate(([0], c))
            ends = np.concatenate((c, [len(text)]))
            kind: Any = lv if lv != "definition" else _kinds_for(starts, *kinds)
            out[lv] = SpanSequence(text, starts, ends, lv, kind, _overlaps(starts, ends, errors))
        return Segmentation(text, out[self.level], self.level, out, self.name, info)


def _level_cuts(
    walk: _Walk, maps: TextMaps, levels: list[str]
) -> tuple[dict[str, np.ndarray], tuple[np.ndarray, list[str]]]:
    """Interior boundaries of every level (before errors and max length), plus definition kinds."""
    n = len(maps.text)
    want = set(levels)
    skip_rows = maps.blank_lines.copy()
    _mark_comment_rows(walk.comments, maps, skip_rows)
    # For each row, the last row at or before it that is neither blank nor comment-only.
    last_real = np.maximum.accumulate(np.where(skip_rows, -1, np.arange(len(skip_rows))))
    cuts: dict[str, np.ndarray] = {"file": np.zeros(0, np.int64)}
    defs, kinds = _definition_cuts(walk.top, maps, last_real)
    cuts["definition"] = defs
    stmt = defs
    if {"statement", "line"} & want:
        s_pos = _first_on_line(maps.to_chars(walk.statements), maps)
        c_pos = _first_on_line(maps.to_chars(walk.closers), maps)
        s_cut = _attach_back(s_pos, maps, last_real)
        stmt = _merge(defs, np.concatenate((s_cut, maps.line_starts[maps.rows(c_pos)])))
        cuts["statement"] = stmt
    if "line" in want:
        cuts["line"] = _merge(stmt, maps.line_starts)
    for lv in cuts:
        c = cuts[lv]
        cuts[lv] = c[(c > 0) & (c < n)]
    return cuts, kinds


def _merge(*arrays: np.ndarray) -> np.ndarray:
    """Sorted union of integer arrays (cheaper than np.union1d for a few large sorted arrays)."""
    a = np.sort(np.concatenate(arrays))
    if len(a) > 1:
        a = a[np.concatenate(([True], a[1:] != a[:-1]))]
    return a


def _first_on_line(pos: np.ndarray, maps: TextMaps) -> np.ndarray:
    """The offsets in ``pos`` that are the first non-blank character of their line."""
    if not len(pos):
        return pos
    return pos[maps.first_nonblank[maps.rows(pos)] == pos]


def _attach_back(pos: np.ndarray, maps: TextMaps, last_real: np.ndarray) -> np.ndarray:
    """Move each line-leading offset back over the blank and comment-only lines before it."""
    rows = maps.rows(pos)
    prev = np.where(rows > 0, last_real[np.maximum(rows - 1, 0)], -1)
    return maps.line_starts[prev + 1]


def _mark_comment_rows(
    comments: list[tuple[int, int]], maps: TextMaps, skip_rows: np.ndarray
) -> None:
    """Mark the lines that hold nothing but (part of) a comment."""
    if not comments:
        return
    se = maps.to_chars(np.array(comments, dtype=np.int64).reshape(-1)).reshape(-1, 2)
    s, e = se[:, 0], se[:, 1]
    r0, r1 = maps.rows(s), maps.rows(np.maximum(e - 1, s))
    alone = (maps.first_nonblank[r0] == s) & (maps.next_nonblank(e) >= maps.line_ends[r1])
    skip_rows |= _row_cover(r0[alone], r1[alone], len(skip_rows))


def _row_cover(first: np.ndarray, last: np.ndarray, n_rows: int) -> np.ndarray:
    """True for every row inside some inclusive range ``[first[i], last[i]]``."""
    delta = np.bincount(first, minlength=n_rows + 1) - np.bincount(last + 1, minlength=n_rows + 1)
    return np.cumsum(delta[:n_rows]) > 0


def _definition_cuts(
    top: list[tuple[int, int, str, bool]], maps: TextMaps, last_real: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, list[str]]]:
    """Top-level boundaries: each non-trailing top-level node, with its comments and blank lines."""
    nodes = [t for t in top if t[1] > t[0]]
    if not nodes:
        return np.zeros(0, np.int64), (np.zeros(0, np.int64), [])
    types = [t[2] for t in nodes]
    named = np.array([t[3] for t in nodes])
    s = maps.to_chars([t[0] for t in nodes])
    e = maps.to_chars([t[1] for t in nodes])
    is_comment = np.array(["comment" in t for t in types])
    first = maps.first_nonblank[maps.rows(s)] == s
    attached = _attach_back(s, maps, last_real)
    # Never reach back into the previous non-comment node: start after the line it ends on.
    prev_end = np.where(~is_comment, e, -1)
    prev_end = np.concatenate(([-1], np.maximum.accumulate(prev_end)[:-1]))
    after_prev = np.where(prev_end >= 0, maps.line_ends[maps.rows(np.maximum(prev_end - 1, 0))], 0)
    cut = np.where(first, np.maximum(attached, np.minimum(after_prev, s)), s)
    # A comment after code on its line stays with that code; so do ";" and other bare tokens.
    keep = first | (~is_comment & named)
    cut = cut[keep]
    return _merge(cut), (s, types)


def _kinds_for(starts: np.ndarray, node_pos: np.ndarray, node_types: list[str]) -> list[str]:
    """Each definition segment's kind: its first top-level node's type, else "comment", else
    (a piece cut from a longer segment) the kind of the segment before it."""
    out: list[str | None] = [None] * len(starts)
    seg = np.searchsorted(starts, node_pos, side="right") - 1
    for j, t in zip(seg.tolist(), node_types):
        if out[j] is None or (out[j] == "comment" and t != "comment"):
            out[j] = "comment" if "comment" in t else t
    prev = "comment"
    for j, k in enumerate(out):
        prev = k if k is not None else prev
        out[j] = prev
    return out  # type: ignore[return-value]


def _error_ranges(root: Any, maps: TextMaps) -> np.ndarray:
    """Char ranges ``[[start, end], ...]`` of ERROR nodes and (widened to one char) MISSING nodes."""
    if not root.has_error:
        return np.zeros((0, 2), np.int64)
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append((node.start_byte, node.end_byte))
            continue
        stack.extend(c for c in node.children if c.has_error or c.is_missing)
    if not found and root.is_error:
        found.append((root.start_byte, root.end_byte))
    if not found:
        found.append((root.start_byte, root.end_byte))
    arr = maps.to_chars(np.array(found, dtype=np.int64).reshape(-1))
    arr = arr.reshape(-1, 2)
    n = len(maps.text)
    arr[:, 0] = np.minimum(arr[:, 0], n - 1)
    arr[:, 1] = np.maximum(arr[:, 1], arr[:, 0] + 1)
    return arr[np.argsort(arr[:, 0], kind="stable")]


def _add_error_lines(cuts: dict[str, np.ndarray], errors: np.ndarray, maps: TextMaps) -> None:
    """Lines touched by an error fall back to line segmentation at every level but ``file``."""
    r0, r1 = maps.rows(errors[:, 0]), maps.rows(errors[:, 1] - 1)
    bad_row = _row_cover(r0, r1, len(maps.line_starts))
    rows = np.flatnonzero(bad_row)
    extra = _merge(maps.line_starts[rows], maps.line_ends[rows])
    extra = extra[(extra > 0) & (extra < len(maps.text))]
    for lv in cuts:
        if lv != "file":
            c = cuts[lv]
            r = maps.rows(c)
            mid_error_line = bad_row[r] & (maps.line_starts[r] != c)
            cuts[lv] = _merge(c[~mid_error_line], extra)


def _overlaps(starts: np.ndarray, ends: np.ndarray, errors: np.ndarray) -> np.ndarray | None:
    """``has_error`` per segment: does ``[start, end)`` overlap any error range?"""
    if not len(errors):
        return None
    es, ee = errors[:, 0], np.maximum.accumulate(errors[:, 1])
    # The last error starting before the segment's end reaches into it iff its running end > start.
    idx = np.searchsorted(es, ends, side="left") - 1
    ok = idx >= 0
    out = np.zeros(len(starts), dtype=bool)
    out[ok] = ee[idx[ok]] > starts[ok]
    return out


def _children_finder(root: Any, maps: TextMaps) -> Any:
    """Cut candidates inside a span: the starts of the children of the smallest node covering it."""

    def children(start: int, end: int) -> list[int]:
        lo = int(maps.next_nonblank(np.array([start]))[0])
        hi = end
        while hi > lo and maps.whitespace[hi - 1]:
            hi -= 1
        if hi <= lo:
            return []
        b = maps.to_bytes(np.array([lo, hi]))
        node = root.descendant_for_byte_range(int(b[0]), int(b[1]))
        if node is None or node.child_count == 0:
            return []
        pos = maps.to_chars([c.start_byte for c in node.children])
        pos = pos[(pos > start) & (pos < end)]
        if not len(pos):
            return []
        # A child that leads its line takes the line's indentation with it.
        rows = maps.rows(pos)
        lead = maps.first_nonblank[rows] == pos
        ls = maps.line_starts[rows]
        pos = np.where(lead & (ls > start), ls, pos)
        return np.unique(pos).tolist()

    return children


def _split_level(cuts: np.ndarray, ctx: SplitContext, n: int) -> np.ndarray:
    """Extra cut points that bring every segment of a level within the maximum."""
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [n]))
    if ctx.cost is None:
        big = np.flatnonzero(ends - starts > ctx.max_len)
    else:
        big = [
            i for i in range(len(starts)) if ctx.size(int(starts[i]), int(ends[i])) > ctx.max_len
        ]
    extra: list[int] = []
    for i in big:
        extra.extend(split_oversized(int(starts[i]), int(ends[i]), ctx))
    return np.array(sorted(set(extra)), dtype=np.int64)


def _pack_level(cuts: np.ndarray, finer: np.ndarray, ctx: SplitContext, n: int) -> np.ndarray:
    """Re-cut a coarser level's oversized segments at finer boundaries, packed greedily."""
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [n]))
    extra: list[int] = []
    for s, e in zip(starts.tolist(), ends.tolist()):
        if ctx.size(s, e) > ctx.max_len:
            lo, hi = np.searchsorted(finer, [s + 1, e])
            extra.extend(a for a, _ in pack(s, e, finer[lo:hi].tolist(), ctx)[1:])
    return _merge(cuts, np.array(extra, dtype=np.int64)) if extra else cuts
