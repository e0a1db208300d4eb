"""`punct`'s passes outside its boundary pattern: URL tokens whose terminals end nothing, and a
second pass in which list items start segments and Greek question marks end them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import regex

from segmenters.punct_rules import BULLETS, CLOSERS, HWS, LINE_BREAKS

# The body of a URL token after its scheme or "www.". It stops before trailing punctuation: in
# "see http://x.org/a." the final "." still ends the sentence. Each step consumes at least one
# character and the punctuation run is atomic, so matching it is linear.
_URL_PUNCT = r"[.!?,;:'\")\]}>\u00bb\u2019\u201d\u3002\uff0e\uff01\uff1f]"
_URL_BODY = regex.compile(
    rf"(?>(?:(?>[^\s{_URL_PUNCT[1:-1]}]+)|(?>{_URL_PUNCT}+)(?=[^\s{_URL_PUNCT[1:-1]}]))*)"
)
_SCHEMES = ("https", "http", "ftp", "file")


def url_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each URL token in ``text`` (without its trailing punctuation).

    Found from ``"://"`` and ``"www."`` by `str.find` (C speed), not by one more alternative in
    the boundary pattern, which would be tried at every character and halve the scan speed.
    """
    hits = []
    for needle in ("://", "www.", "WWW."):
        i = text.find(needle)
        while i >= 0:
            hits.append((i, needle))
            i = text.find(needle, i + 1)
    spans: list[tuple[int, int]] = []
    covered = 0
    for i, needle in sorted(hits):
        if i < covered:
            continue  # inside the previous URL: skipping keeps the whole pass linear
        if needle == "://":
            head = text[max(0, i - 5) : i].lower()
            scheme = next((s for s in _SCHEMES if head.endswith(s)), None)
            if scheme is None:
                continue
            start, body = i - len(scheme), i + 3
        else:
            start, body = i, i + 4
        end = _URL_BODY.match(text, body).end()
        if end > body:
            spans.append((start, end))
            covered = end
    return spans


def outside_spans(matches: list[Any], spans: list[tuple[int, int]]) -> list[Any]:
    """The matches that do not start inside a span (terminals inside a URL end nothing)."""
    if not spans:
        return matches
    out, k = [], 0
    for m in matches:
        s = m.start()
        while k < len(spans) and spans[k][1] <= s:
            k += 1
        if k < len(spans) and spans[k][0] <= s:
            continue
        out.append(m)
    return out


# Inline list markers, recognised backwards from their delimiter: "1.", "2)", "3.)", "(4)",
# "a)", "(b)", "iv)". Group ``mk`` is the whole marker, ``tok`` its number or letter.
_MARKER_TAIL = regex.compile(
    r"(?:^|[\s(" + BULLETS + r"])(?P<mk>\(?(?P<tok>\d{1,3}|[A-Za-z]|[ivxlcdm]{2,6}"
    r"|[IVXLCDM]{2,6})(?:\.\)|[.)]))\Z"
)
# The same condition as one forward scan, for texts dense in ". ": a `regex` scan for a set
# costs about 5 ms a megabyte, the literal search about 0.4 ms plus about 1 us a hit in Python.
_MARKER_SCAN = regex.compile(
    r"[.)](?=[ \t])(?<=(?:^|[\s(" + BULLETS + r"])\(?(?:\d{1,3}|[A-Za-z]|[ivxlcdm]{2,6}"
    r"|[IVXLCDM]{2,6})\.?[.)])"
)
_GREEK_AFTER = regex.compile(
    "(?>[" + regex.escape(CLOSERS) + rf"]*)(?>{HWS}+)(?=[\p{{Lu}}\p{{Lt}}\p{{Pi}}\"'])"
)
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
_SEQ_REACH = 2000  # consecutive markers further apart than this are not one list
_DENSE = 500  # above one ". " per this many characters, scan with `_MARKER_SCAN`


@lru_cache(maxsize=64)
def _literal(needle: str) -> re.Pattern[str]:
    return re.compile(re.escape(needle))


def _find_all(text: str, needles: Iterable[str]) -> list[int]:
    """Sorted start offsets of every occurrence of each needle.

    The standard library's `re` finds a literal about four times faster than `str.find` or
    `str.count` do for a two-character needle whose first character is common.
    """
    out = []
    for needle in needles:
        out.extend(m.start() for m in _literal(needle).finditer(text))
    out.sort()
    return out


def _marker_candidates(text: str) -> list[regex.Match[str]]:
    """Matches of `_MARKER_TAIL` for every delimiter followed by a space or tab, in order."""
    needles = (". ", ") ", ".\t", ")\t") if "\t" in text else (". ", ") ")
    delims = _find_all(text, needles)
    if len(delims) * _DENSE > len(text):
        delims = [m.start() for m in _MARKER_SCAN.finditer(text)]
    out = []
    for p in delims:
        m = _MARKER_TAIL.search(text, max(0, p - 10), p + 1)
        if m is not None:
            out.append(m)
    return out


def _greek_question_ends(text: str) -> list[int]:
    """Ends after a Greek question mark (";" or U+037E after a Greek letter) before a new sentence."""
    out = []
    for p in _find_all(text, (";", "\u037e")):
        c = text[p - 1] if p else ""
        if "\u0370" <= c <= "\u03ff" or "\u1f00" <= c <= "\u1fff":
            m = _GREEK_AFTER.match(text, p + 1)
            if m is not None:
                out.append(m.end())
    return out


def _inline_bullets(text: str) -> list[int]:
    """Offsets of bullets that follow other text on their line after a space (item starts)."""
    out = []
    for p in _find_all(text, (b for b in BULLETS if b in text)):
        j = p
        while j > 0 and text[j - 1] in " \t":
            j -= 1
        if 0 < j < p and text[j - 1] not in LINE_BREAKS:
            out.append(p)
    return out


def _roman(tok: str) -> int:
    """The value of a roman numeral (0 when ``tok`` is not one)."""
    vals = [_ROMAN.get(c, 0) for c in tok.lower()]
    if not all(vals):
        return 0
    return sum(-v if i + 1 < len(vals) and v < vals[i + 1] else v for i, v in enumerate(vals))


def _marker_styles(tok: str, delim: str) -> list[tuple[str, int]]:
    """Each reading of a marker as (style, value): digits, letters, roman numerals."""
    if tok.isdigit():
        return [("d" + delim, int(tok))]
    out = []
    if len(tok) == 1:
        out.append(("l" + delim if tok.islower() else "L" + delim, ord(tok.lower())))
    value = _roman(tok)
    if value:
        out.append(("r" + delim if tok.islower() else "R" + delim, value))
    return out


def _opens_item(text: str, start: int, delim: str) -> bool:
    """Whether a marker at ``start`` can open a list item where it stands.

    After a ")" any space will do; a "1." needs the line start, a bullet, punctuation
    (":", ",", ";", ".", "!", "?") or "and"/"or" before it, so "the game ended 1. Then" is safe.
    """
    if delim != ".":
        return True
    j = start
    while j > 0 and text[j - 1] in " \t":
        j -= 1
    if j == 0 or text[j - 1] in ":;,.!?\n\r\x85\u2028\u2029" or text[j - 1] in BULLETS:
        return True
    before = text[max(0, j - 4) : j].lower()
    return before in ("and", " and", "or") or before[-3:] == " or"


def add_extras(
    text: str, ends: list[int], groups: list[str], list_items: bool, greek: bool
) -> tuple[list[int], list[str]]:
    """The second pass: list items start segments, Greek question marks end them.

    A numbered or lettered marker counts when the previous or next marker of the same style is
    its neighbour in the sequence (``1)`` ... ``2)``), or when it follows a bullet. Each item
    then starts a segment, and a cut the first pass made right after its marker is dropped.
    Non-ASCII work (bullets, Greek) is skipped for ASCII text, which `str.isascii` tells at once.
    """
    add: dict[int, str] = {}
    drop: list[tuple[int, int]] = []
    ascii_only = text.isascii()
    if greek and not ascii_only:
        add.update(dict.fromkeys(_greek_question_ends(text), "t"))
    if list_items and not ascii_only:
        add.update(dict.fromkeys(_inline_bullets(text), "i"))
    if list_items:
        starts, drop = _list_item_cuts(text)
        for start in starts:
            add.setdefault(start, "i")  # a bullet or a Greek end already there keeps its group
    if not add and not drop:
        return ends, groups
    return _apply_cuts(text, ends, groups, add, drop)


def _list_item_cuts(text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Where list items start, and the spans (marker plus blanks) in which no cut may stay.

    A marker right after a bullet starts no item itself (the bullet does), but the first
    pass's cut after it is still dropped.
    """
    cands, members = _list_markers(text)
    starts: list[int] = []
    drop: list[tuple[int, int]] = []
    for idx, (start, end, bulleted) in enumerate(cands):
        if idx in members or bulleted:
            if not bulleted:
                starts.append(start)
            stop = end
            while stop < len(text) and text[stop] in " \t":
                stop += 1
            drop.append((start, stop))
    return starts, drop


def _list_markers(text: str) -> tuple[list[tuple[int, int, bool]], set[int]]:
    """Marker candidates as (start, end, follows a bullet), and the indices of those in a list."""
    chains: dict[str, list[Any]] = {}  # style -> [first value, last value, last start, members]
    counted: list[list[int]] = []  # member lists of chains of two or more markers
    cands: list[tuple[int, int, bool]] = []
    for m in _marker_candidates(text):
        mk = m.group("mk")
        start, end = m.start("mk"), m.end("mk")
        delim = mk[len(mk.rstrip(".)")) :]
        if not _opens_item(text, start, delim):
            continue
        j = start
        while j > 0 and text[j - 1] in " \t":
            j -= 1
        cands.append((start, end, j > 0 and text[j - 1] in BULLETS))
        for style, value in _marker_styles(m.group("tok"), ("(" if mk[0] == "(" else "") + delim):
            members = _extend_chain(chains, style, value, start, len(cands) - 1)
            # "J. K. Adler" is no list: a chain of letters with "." must start at a
            if members is not None and (style[0] == "d" or delim != "." or chains[style][0] == 1):
                counted.append(members)  # the same list object: later members count too
    return cands, {i for chain in counted for i in chain}


def _extend_chain(
    chains: dict[str, list[Any]], style: str, value: int, start: int, idx: int
) -> list[int] | None:
    """Add marker ``idx`` to its style's chain, or start a new one; the members once two long."""
    chain = chains.get(style)
    if chain and chain[1] + 1 == value and start - chain[2] <= _SEQ_REACH:
        chain[1], chain[2] = value, start
        chain[3].append(idx)
        return chain[3] if len(chain[3]) == 2 else None
    chains[style] = [value if style[0] in "dr" else value - 96, value, start, [idx]]
    return None


def _apply_cuts(
    text: str,
    ends: list[int],
    groups: list[str],
    add: dict[int, str],
    drop: list[tuple[int, int]],
) -> tuple[list[int], list[str]]:
    """``ends`` and ``groups`` without the cuts inside each ``drop`` span, with those of ``add``."""
    merged = dict(zip(ends, groups))
    if len(groups) < len(ends):  # a final end without a group (the text's end)
        merged[ends[-1]] = ""
    for lo, hi in drop:
        i = bisect.bisect_right(ends, lo)
        while i < len(ends) and ends[i] <= hi:
            merged.pop(ends[i], None)
            i += 1
    for pos, group in add.items():
        if pos <= 0 or pos >= len(text) or pos in merged:
            continue
        k = bisect.bisect_left(ends, pos)
        prev = ends[k - 1] if k else 0
        j = pos
        while j > prev and text[j - 1].isspace():  # each space run is walked once: linear
            j -= 1
        if j > prev:  # never cut off indentation or blank space as a segment of its own
            merged[pos] = group
    out = sorted(merged)
    grp = [merged[e] for e in out]
    if grp and grp[-1] == "":
        grp.pop()
    return out, grp
