"""`punct`: sentence-like segments ended by terminal punctuation of many scripts, and by newlines.

One compiled `regex` pattern finds every boundary in a single left-to-right scan; each rule that
keeps a terminal from ending a segment (decimals, abbreviations, URLs, ...) is a bounded
look-around inside that pattern, so there is no per-candidate Python work and no unbounded
backtracking (linear time on any input, see the notes in `_build_pattern`).
"""

from __future__ import annotations

import bisect
import operator
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import regex

from segmenters.base import BaseSegmenter, Segmentation, check_text, spans_from_ends
from segmenters.errors import SegmenterOptionError

# Sentence terminals: Unicode Sentence_Break ATerm + STerm (Unicode 16), plus the ellipsis
# character and the Georgian paragraph separator. Listed literally: a `\p{SB=...}` class scans
# at half the speed of an explicit set in `regex`.
TERMINALS = (
    "!.?\u0589\u061d\u061e\u061f\u06d4\u0700\u0701\u0702\u07f9\u0837\u0839\u083d\u083e"
    "\u0964\u0965\u104a\u104b\u1362\u1367\u1368\u166e\u1735\u1736\u17d4\u17d5\u1803\u1809"
    "\u1944\u1945\u1aa8\u1aa9\u1aaa\u1aab\u1b4e\u1b4f\u1b5a\u1b5b\u1b5e\u1b5f\u1b7d\u1b7e"
    "\u1b7f\u1c3b\u1c3c\u1c7e\u1c7f\u2024\u203c\u203d\u2047\u2048\u2049\u2cf9\u2cfa\u2cfb"
    "\u2e2e\u2e3c\u2e53\u2e54\u3002\ua4ff\ua60e\ua60f\ua6f3\ua6f7\ua876\ua877\ua8ce\ua8cf"
    "\ua92f\ua9c8\ua9c9\uaa5d\uaa5e\uaa5f\uaaf0\uaaf1\uabeb\ufe12\ufe15\ufe16\ufe52\ufe56"
    "\ufe57\uff01\uff0e\uff1f\uff61\U00010a56\U00010a57\U00010f55\U00010f56\U00010f57"
    "\U00010f58\U00010f59\U00010f86\U00010f87\U00010f88\U00010f89\U00011047\U00011048"
    "\U000110be\U000110bf\U000110c0\U000110c1\U00011141\U00011142\U00011143\U000111c5"
    "\U000111c6\U000111cd\U000111de\U000111df\U00011238\U00011239\U0001123b\U0001123c"
    "\U000112a9\U000113d4\U000113d5\U0001144b\U0001144c\U000115c2\U000115c3\U000115c9"
    "\U000115ca\U000115cb\U000115cc\U000115cd\U000115ce\U000115cf\U000115d0\U000115d1"
    "\U000115d2\U000115d3\U000115d4\U000115d5\U000115d6\U000115d7\U00011641\U00011642"
    "\U0001173c\U0001173d\U0001173e\U00011944\U00011946\U00011a42\U00011a43\U00011a9b"
    "\U00011a9c\U00011c41\U00011c42\U00011ef7\U00011ef8\U00011f43\U00011f44\U00016a6e"
    "\U00016a6f\U00016af5\U00016b37\U00016b38\U00016b44\U00016d6e\U00016d6f\U00016e98"
    "\U0001bc9f\U0001da88\u2026\u10fb"
)

# Closing quotes and brackets that stay with the terminal before them ('"Stop!" he said').
CLOSERS = (
    ")]}\"'\u00bb\u2019\u201d\u203a\u2e03\u2e05\u2e0a\u2e0d\u2e1d\u2e21\u3009\u300b\u300d"
    "\u300f\u3011\u3015\u3017\u3019\u301b\u301e\u301f\ufe5a\ufe5c\ufe5e\uff09\uff3d\uff5d\uff63"
)

# Line breaks (CRLF first, so the pair is never split) and horizontal whitespace.
_NL = r"(?:\r\n|[\n\r\x85\u2028\u2029])"
_HWS = r"[ \t\x0b\x0c\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]"

# Abbreviations that rarely end a sentence, compared case-insensitively, written without
# their final dot. Words that are also common sentence-final words ("no", "in") are left out.
ABBREVIATIONS = (
    "mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "mt", "rev", "hon", "gen", "col",
    "capt", "lt", "sgt", "cpl", "gov", "sen", "rep", "pres", "supt", "messrs", "mme", "mlle",
    "vs", "etc", "cf", "al", "approx", "appt", "dept", "est", "inc", "ltd", "co", "corp",
    "bros", "assn", "feb", "apr", "aug", "sep", "sept", "oct", "nov", "dec", "ave", "blvd",
    "rd", "fig", "figs", "eq", "eqs", "vol", "vols", "pp", "ch", "chap", "sec", "ibid", "viz",
    "ca", "e.g", "i.e", "a.m", "p.m", "u.s", "u.k", "u.n", "e.u", "u.s.a", "ph.d", "m.d",
    "b.a", "m.a", "b.sc", "m.sc", "d.c", "n.b", "et al",
)  # fmt: skip

# Abbreviations that often end a sentence: with ``abbreviation_ends`` they end one before any
# capitalised word ("She joined Acme Inc. The pay was better.", "at 6 P.M. Do not be late.").
ENDERS = ("etc", "inc", "ltd", "co", "corp", "bros", "plc", "llc", "a.m", "p.m")
# Abbreviations that may end a sentence: they end one only before a word of `STARTERS` ("We
# moved to the U.S. It took a year." but "the U.S. Navy"). The rest (titles "Dr.", "e.g.",
# "Fig.", ...) never end a sentence.
MAYBE_ENDERS = (
    "u.s", "u.k", "u.n", "e.u", "u.s.a", "d.c", "ph.d", "m.d", "b.a", "m.a", "b.sc", "m.sc",
    "al", "et al", "ave", "blvd", "rd", "dept", "est", "assn",
)  # fmt: skip
# Closed-class English words that typically open a sentence (pronouns, determiners,
# conjunctions, wh-words, auxiliaries, sentence adverbs). A capitalised one after an ambiguous
# abbreviation or a single capital letter is read as a new sentence ("plan B. Then it failed.");
# a capitalised name is not ("J. R. R. Tolkien", "the U.S. Navy").
STARTERS = (
    "A", "After", "All", "Also", "Although", "An", "And", "Another", "Any", "Are", "As", "At",
    "Because", "Before", "Both", "But", "By", "Can", "Could", "Did", "Do", "Does", "During",
    "Each", "Either", "Even", "Every", "Everybody", "Everyone", "Everything", "Few", "For",
    "From", "Had", "Has", "Have", "He", "Hence", "Her", "Here", "His", "How", "However", "I",
    "If", "In", "Is", "It", "Its", "Later", "Let", "Many", "May", "Maybe", "Meanwhile", "Might",
    "Most", "Much", "Must", "My", "Neither", "Never", "No", "Nobody", "None", "Nor", "Not",
    "Nothing", "Now", "Of", "On", "Once", "One", "Only", "Or", "Our", "Perhaps", "Please",
    "Several", "Shall", "She", "Should", "Since", "So", "Some", "Somebody", "Someone",
    "Something", "Soon", "Still", "Such", "That", "The", "Their", "Them", "Then", "There",
    "These", "They", "This", "Those", "Though", "Thus", "To", "Today", "Tomorrow", "Under",
    "Unless", "We", "Were", "Was", "What", "When", "Where", "Whether", "Which", "While", "Who",
    "Why", "Will", "With", "Without", "Would", "Yes", "Yesterday", "Yet", "You", "Your",
)  # fmt: skip
# Words that, abbreviated, point at a number: "p. 45", "No. 10", "Art. 12", "Vol. IV".
REFERENCES = (
    "p", "pp", "pg", "no", "nos", "art", "arts", "sec", "secs", "para", "paras", "fig", "figs",
    "eq", "eqs", "vol", "vols", "ch", "chap", "op", "app", "pt", "ex", "tab", "ref", "refs",
    "nr", "cl", "r", "s", "ss",
)  # fmt: skip
# List bullets; "-" and "*" count only at a line start (the `list_markers`/newline rules).
BULLETS = "\u2022\u2023\u2043\u25aa\u25ab\u25cf\u25e6\u25a0\u25ba\u25b8\u2219"

PRESETS = ("default", "paper")
RULES = (
    "decimals",
    "inner_dots",
    "abbreviations",
    "initials",
    "ellipsis",
    "urls",
    "emails",
    "list_markers",
    "lowercase_next",
    # Added for issue 14 (hard English cases); each on by default, off restores the old rules.
    "abbreviation_ends",
    "initial_ends",
    "reference_numbers",
    "spaced_ellipsis",
    "list_items",
    "quote_particles",
    "greek_question",
)
# Rules that change how another rule acts, so alone they change nothing: abbreviation_ends
# refines abbreviations, initial_ends refines initials.
MODIFIERS = {"abbreviation_ends": "abbreviations", "initial_ends": "initials"}
OPTIONS = ("preset", "newlines", "terminals", "lines", *RULES)
_LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")

# Look-behinds that reach back over a token are capped so each check costs O(1).
EMAIL_REACH = 64

# The body of a URL token after its scheme or "www.". It stops before trailing punctuation: in
# "see http://x.org/a." the final "." still ends the sentence. Each step consumes at least one
# character and the punctuation run is atomic, so matching it is linear.
_URL_PUNCT = r"[.!?,;:'\")\]}>\u00bb\u2019\u201d\u3002\uff0e\uff01\uff1f]"
_URL_BODY = regex.compile(
    rf"(?>(?:(?>[^\s{_URL_PUNCT[1:-1]}]+)|(?>{_URL_PUNCT}+)(?=[^\s{_URL_PUNCT[1:-1]}]))*)"
)
_SCHEMES = ("https", "http", "ftp", "file")

_L = r"[\p{L}\p{N}]"
_DEFAULT_TERMINALS = "".join(sorted(set(TERMINALS)))
_TERM_PROPERTY = r"[\p{SB=ATerm}\p{SB=STerm}\u2026\u10fb]"
_KIND = {"t": "sentence", "n": "line", "i": "item"}
_end = regex.Match.end
_lastgroup = operator.attrgetter("lastgroup")


class PunctSegmenter(BaseSegmenter):
    """Sentence-like segments: terminal punctuation of many scripts and newlines end a segment.

    Preset ``"default"``: a run of terminals (``. ! ?`` and their kin: ``‼ ⁇ ⁈ ⁉ ‽ 。 ． ！ ？ ｡
    । ॥ ؟ ۔ ። ፧ ։ ჻ …`` and every Unicode STerm/ATerm) ends its segment together with the
    closing quotes/brackets right after it, the horizontal whitespace after those, and any line
    breaks and blank lines after that. A line break (``\\n``, ``\\r\\n``, lone ``\\r``, U+0085,
    U+2028, U+2029) ends a segment with any blank lines after it (option ``newlines``). The
    indentation of the next non-blank line starts the next segment. These rules (each a bool
    option, all on by default) keep a terminal from ending a segment:

    - ``decimals``: ``.`` between digits (``3.14``, ``1.000.000``);
    - ``inner_dots``: ``.`` between a letter/digit and a letter/digit (``file.txt``, ``Node.js``);
    - ``abbreviations``: ``Dr.`` ``e.g.`` ``etc.`` ``U.S.`` ... (`ABBREVIATIONS`; pass an iterable
      of strings such as ``["Dr.", "approx."]`` to use your own list);
    - ``initials``: a single capital + ``.`` before a capitalised word (``J. R. R. Tolkien``);
    - ``ellipsis``: ``..``, ``...`` or ``…`` unless followed by a line break, the end of the
      text, or (after spaces) a capitalised word;
    - ``urls``: any terminal inside a ``http(s)://``, ``ftp://``, ``file://`` or ``www.`` token,
      up to its trailing punctuation (``https://x.org/a?b=1.`` ends at the last ``.``);
    - ``emails``: ``.`` inside ``local.part@domain.org``;
    - ``list_markers``: ``1.``, ``2.3.``, ``a.``, ``iv.`` at the start of a line, before a space
      (at most 3 digits per number, so a year such as ``1911.`` opening a line still ends);
    - ``lowercase_next``: a terminal whose next word (after closers and spaces) is lowercase;
    - ``reference_numbers``: ``p. 45``, ``No. 10``, ``Art. 12``, ``Vol. IV`` (`REFERENCES`);
    - ``spaced_ellipsis``: every dot of ``. . .`` but the last, and the last as ``ellipsis``;
    - ``quote_particles``: ``「はい。」と``: a closed Japanese quotation before と or って.

    Rules that add or refine boundaries (issue 14; off gives the older behaviour):

    - ``abbreviation_ends``: `ENDERS` (``Inc.``, ``etc.``, ``p.m.``) end a sentence before a
      capitalised word, `MAYBE_ENDERS` (``U.S.``, ``D.C.``) before a `STARTERS` word;
    - ``initial_ends``: a single capital + ``.`` before a `STARTERS` word (``plan B. Then``);
    - ``list_items``: each list item starts a segment (kind ``"item"`` for the one before it):
      inline markers ``1)``, ``2.``, ``(a)``, ``iv)`` in sequence, and bullets after text;
    - ``greek_question``: ``;`` after a Greek letter, before a capital, ends a sentence.

    Preset ``"paper"`` splits after exactly every ``.`` and every ``\\n`` (the separator is the
    last character of its segment; ``"\\n\\n"`` gives two segments), as the BiPE paper does;
    rule options are rejected there. Option ``terminals`` replaces the terminal set of either
    preset. Segment kinds: ``"sentence"`` (ended by terminals), ``"line"`` (by a line break),
    ``"item"`` (by the start of a list item), ``"fragment"`` (the unterminated end of the
    text). With ``lines=True`` the segmentation also has a coarser level ``"line"`` (the text
    between line breaks), listed before the primary one.
    """

    name = "punct"
    description = "punctuation and newline: sentence terminals of many scripts"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.config = _validate(options)
        self.pattern = _compile(self.config)
        rules = dict(self.config[3])
        self.has_urls = bool(rules.get("urls"))
        self.list_items = bool(rules.get("list_items"))
        self.greek = bool(rules.get("greek_question"))
        self.level = "segment" if self.config[0] == "paper" else "sentence"
        self.lines = options.get("lines", False)
        if not isinstance(self.lines, bool) or (self.lines and not self.config[1]):
            raise SegmenterOptionError(
                f"punct: lines must be True or False, and True needs newlines=True; got "
                f"lines={self.lines!r}, newlines={self.config[1]!r}"
            )

    def boundaries(self, text: str) -> list[int]:
        """End offsets of the segments of ``text`` (the last one is ``len(text)``)."""
        return self._scan(check_text(text))[0]

    def segment(self, text: str) -> Segmentation:
        """Split ``text`` into sentence-like segments that cover it exactly."""
        text = check_text(text)
        ends, groups = self._scan(text)
        kinds = list(map(_KIND.__getitem__, groups))
        if len(kinds) < len(ends):
            kinds.append("fragment")
        segs = spans_from_ends(text, ends, kinds, self.level)
        if not self.lines:
            return Segmentation(text, segs, self.level, {self.level: segs}, self.name)
        # Every line break ends a segment, so the line ends are a subset: a nested coarse level.
        line_ends = [e for e in ends[:-1] if text[e - 1] in _LINE_BREAKS] + ends[-1:]
        lines = spans_from_ends(text, line_ends, "line", "line")
        levels = {"line": lines, self.level: segs}
        return Segmentation(text, segs, self.level, levels, self.name)

    def _scan(self, text: str) -> tuple[list[int], list[str]]:
        """Segment ends and the group ("t" or "n") that ended each; a final end may lack one."""
        matches = list(self.pattern.finditer(text))
        if self.has_urls and ("://" in text or "www." in text or "WWW." in text):
            matches = _outside(matches, url_spans(text))
        groups = list(map(_lastgroup, matches))
        ends = list(map(_end, matches))
        if self.list_items or self.greek:
            ends, groups = _add_extras(text, ends, groups, self.list_items, self.greek)
        if text and (not ends or ends[-1] != len(text)):
            ends.append(len(text))
        return ends, groups


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


def _outside(matches: list[Any], spans: list[tuple[int, int]]) -> list[Any]:
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
    "(?>[" + regex.escape(CLOSERS) + rf"]*)(?>{_HWS}+)(?=[\p{{Lu}}\p{{Lt}}\p{{Pi}}\"'])"
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
        if 0 < j < p and text[j - 1] not in _LINE_BREAKS:
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


def _add_extras(
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
    chains: dict[str, list[Any]] = {}  # style -> [first value, last value, last start, members]
    counted: list[list[Any]] = []  # member lists of chains of two or more markers
    cands: list[tuple[int, int, bool]] = []  # marker start, end, follows a bullet
    ascii_only = text.isascii()
    if greek and not ascii_only:
        add.update(dict.fromkeys(_greek_question_ends(text), "t"))
    if list_items and not ascii_only:
        add.update(dict.fromkeys(_inline_bullets(text), "i"))
    for m in _marker_candidates(text) if list_items else ():
        mk = m.group("mk")
        start, end = m.start("mk"), m.end("mk")
        delim = mk[len(mk.rstrip(".)")) :]
        if not _opens_item(text, start, delim):
            continue
        j = start
        while j > 0 and text[j - 1] in " \t":
            j -= 1
        cands.append((start, end, j > 0 and text[j - 1] in BULLETS))
        idx = len(cands) - 1
        for style, value in _marker_styles(m.group("tok"), ("(" if mk[0] == "(" else "") + delim):
            chain = chains.get(style)
            if chain and chain[1] + 1 == value and start - chain[2] <= _SEQ_REACH:
                chain[1], chain[2] = value, start
                chain[3].append(idx)
                if len(chain[3]) == 2 and (style[0] == "d" or delim != "." or chain[0] == 1):
                    counted.append(chain[3])  # "J. K. Adler" is no list: letters start at a
            else:
                chains[style] = [value if style[0] in "dr" else value - 96, value, start, [idx]]
    members = {i for chain in counted for i in chain}
    for idx, (start, end, bulleted) in enumerate(cands):
        if idx in members or bulleted:
            if not bulleted:  # after a bullet, the bullet starts the item
                add.setdefault(start, "i")
            stop = end
            while stop < len(text) and text[stop] in " \t":
                stop += 1
            drop.append((start, stop))
    if not add and not drop:
        return ends, groups
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


def _validate(options: dict[str, Any]) -> tuple[Any, ...]:
    """Check option names and values; return a hashable config for the pattern cache."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise SegmenterOptionError(
            f"punct: unknown option(s) {', '.join(unknown)}; valid options: {', '.join(OPTIONS)}"
        )
    preset = options.get("preset", "default")
    if preset not in PRESETS:
        raise SegmenterOptionError(
            f"punct: preset must be one of {', '.join(map(repr, PRESETS))}, got {preset!r}"
        )
    newlines = options.get("newlines", True)
    if not isinstance(newlines, bool):
        raise SegmenterOptionError(f"punct: newlines must be True or False, got {newlines!r}")
    terminals = options.get("terminals")
    if terminals is None:
        terminals = "." if preset == "paper" else TERMINALS
    elif not isinstance(terminals, str) or not terminals or regex.search(r"\s", terminals):
        raise SegmenterOptionError(
            "punct: terminals must be a non-empty str of non-whitespace characters, "
            f"got {terminals!r}"
        )
    rules: dict[str, Any] = {}
    for rule in RULES:
        value = options.get(rule)
        if preset == "paper":
            if value is not None:
                raise SegmenterOptionError(
                    f"punct: preset 'paper' splits at exactly '.' and newline and takes no rule "
                    f"option {rule!r}; valid options there: preset, newlines, terminals"
                )
            continue
        if value is None:
            value = True
        if rule == "abbreviations" and not isinstance(value, bool):
            value = _abbreviation_list(value)
        elif not isinstance(value, bool):
            raise SegmenterOptionError(f"punct: {rule} must be True or False, got {value!r}")
        rules[rule] = value
    return (preset, newlines, "".join(sorted(set(terminals))), tuple(sorted(rules.items())))


def _abbreviation_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise SegmenterOptionError(
            "punct: abbreviations must be True, False or a list of abbreviations such as "
            f"['Dr.', 'e.g.'], got {value!r}"
        )
    out = []
    for item in value:
        if not isinstance(item, str) or not regex.fullmatch(
            r"[\p{L}\p{N}][\p{L}\p{N}. ]*\.?", item
        ):
            raise SegmenterOptionError(
                f"punct: each abbreviation must be letters/digits with inner dots, like 'Dr.' "
                f"or 'e.g.', got {item!r}"
            )
        out.append(item.rstrip(".").lower())
    return tuple(sorted(set(out)))


@lru_cache(maxsize=64)
def _compile(config: tuple[Any, ...]) -> regex.Pattern[str]:
    return regex.compile(_build_pattern(config))


def _build_pattern(config: tuple[Any, ...]) -> str:
    """The boundary pattern for a validated config.

    Linear time: a terminal run only starts after a non-terminal (so a failed candidate is never
    rescanned from inside its run), runs and whitespace are atomic, and every look-around
    reaches a bounded distance or over a run it then consumes.
    """
    preset, newlines, terminals, rule_items = config
    if terminals == _DEFAULT_TERMINALS:
        term = _TERM_PROPERTY  # a property test is O(1); `regex` tests a long set member by member
    else:
        term = "[" + "".join(regex.escape(c) for c in terminals) + "]"
    if preset == "paper":
        alts = [f"(?P<t>{term})"]
        if newlines:
            alts.append(r"(?P<n>\n)")
        return "|".join(alts)
    rules = dict(rule_items)
    close = "[" + regex.escape(CLOSERS) + "]"
    nlblock = rf"(?>(?:(?>{_HWS}*){_NL})*)"  # further line breaks and blank lines
    excl = _exclusions(rules, close)
    # No rule keeps a terminal right before a line break from ending its segment (the break
    # would end it there anyway), so that common case skips every exclusion.
    guard = f"(?:(?=[\\n\\r])|(?!{'|'.join(excl)}))" if excl else ""
    t = (
        rf"(?P<t>{term}(?<!{term}{term})(?>{term}*){guard}"
        rf"(?>{close}*)(?>{_HWS}*)(?:{_NL}{nlblock})?)"
    )
    # A cheap first-character gate: `regex` cannot skip ahead on a property class, but it can
    # on this set, which doubles the scan speed on mostly-ASCII text.
    ascii_terms = "".join(regex.escape(c) for c in terminals if ord(c) < 0x80)
    if not newlines:
        return rf"(?=[{ascii_terms}\x80-\U0010ffff]){t}"
    n = rf"(?P<n>[\n\r\x85\u2028\u2029]{nlblock})"  # a lone CR first also takes its LF
    return rf"(?=[{ascii_terms}\n\r\x80-\U0010ffff])(?:{t}|{n})"


def _exclusions(rules: dict[str, Any], close: str) -> list[str]:
    """One zero-width alternative per enabled rule, tried right after a terminal run.

    Each starts with its cheapest necessary condition (usually one character test), so the
    common case, a terminal before a space and a capital, fails every alternative quickly;
    the look-behinds that reach furthest (emails, URLs) come last.
    """
    out = []
    starter = _starter(close)
    if rules["lowercase_next"]:
        out.append(rf"(?>{close}*)(?>{_HWS}*)\p{{Ll}}")
    if rules["quote_particles"]:
        # 「はい。」と言った: a Japanese quotation closed after its full stop, then a particle
        out.append(rf"(?>{close}+)(?:\u3068|\u3063\u3066)")
    if rules["decimals"]:
        out.append(r"\d(?<=\d\.\d)")
    if rules["inner_dots"]:
        out.append(rf"{_L}(?<={_L}\.{_L})")
    abbrs = rules["abbreviations"]
    abbrs = ABBREVIATIONS if abbrs is True else abbrs or ()
    ends = rules["abbreviation_ends"] and abbrs
    if rules["initials"]:
        # with initial_ends, a single capital before a sentence-opening word ends a sentence
        # ("plan B. Then"); the capital of a dotted ender ("6 P.M. Guests") is no initial
        nxt = (
            rf"(?>{_HWS}*)(?!{starter})\p{{Lu}}"
            if rules["initial_ends"]
            else rf"(?>{_HWS}*)\p{{Lu}}"
        )
        not_ender = ""
        if ends and any(a in ENDERS for a in abbrs):
            not_ender = f"(?<!{_reverse_trie([a for a in abbrs if a in ENDERS], _GUARD)}\\.)"
        out.append(rf"(?<=(?<!{_L})\p{{Lu}}\.){not_ender}{nxt}")
    if rules["ellipsis"]:
        out.append(rf"(?<=\.\.|\u2026|\u2024\u2024)(?!{_sentence_start(close)})")
    if rules["spaced_ellipsis"]:
        # ". . ." and ". . . .": no dot but the last ends a sentence, and that one only as `ellipsis`
        out.append(rf"(?=(?:{_HWS}){{1,2}}\.(?:{_HWS}|\.|\Z|{close}))(?<=(?:\A|\s|\.|{_L})\.)")
        out.append(rf"(?<=\.{_HWS}{{1,2}}\.{_HWS}{{1,2}}\.)(?!{_sentence_start(close)})")
    if abbrs:
        out.extend(_abbreviation_alternatives(abbrs, close, bool(ends)))
    if rules["reference_numbers"]:
        # "p. 45", "No. 10", "Vol. IV": an abbreviated reference word before its number
        refs = _reverse_trie(REFERENCES, _GUARD)
        romans = _reverse_trie(
            ("vol", "vols", "app", "pt", "ch", "chap", "art", "sec", "fig", "tab", "ex"), _GUARD
        )
        out.append(rf"(?=(?>{_HWS}*)\p{{N}})(?<={refs}\.)")
        out.append(
            rf"(?=(?>{_HWS}*)(?:[IVXLCDM]{{1,6}}|\p{{Lu}})(?![\p{{L}}\p{{N}}]))(?<={romans}\.)"
        )
    if rules["list_markers"]:
        marker = r"(?:\d{1,3}(?:\.\d{1,3}){0,4}|[A-Za-z]|(?i:[ivxlcdm]{1,8}))"
        out.append(rf"{_HWS}(?<=(?:\A|[\n\r\x85\u2028\u2029]){_HWS}{{0,16}}{marker}\.{_HWS})")
    if rules["emails"]:
        mail = r"[\p{L}\p{N}._%+\-]"
        out.append(rf"{_L}(?<={_L}@[\p{{L}}\p{{N}}.\-]{{1,{EMAIL_REACH}}}\.{_L})")
        out.append(rf"{mail}(?<={_L}\.{mail}){mail}{{0,{EMAIL_REACH}}}@{_L}")
    return out


_GUARD = rf"(?<!{_L}|\.)"


def _sentence_start(close: str) -> str:
    """What may follow a sentence end: closers and spaces, then a line break, the end, or a capital."""
    return rf"(?>{close}*)(?>{_HWS}*)(?:{_NL}|\Z|[\p{{Pi}}\"'(\[]?[\p{{Lu}}\p{{Lt}}])"


def _starter(close: str) -> str:
    """Spaces, then a capitalised sentence-opening word of `STARTERS` (a whole word)."""
    return rf"(?>{close}*)(?>{_HWS}*)[\p{{Pi}}\"'(\[]?{_STARTER_TRIE}(?![\p{{L}}\p{{N}}.\-])"


def _forward_trie(words: Iterable[str]) -> str:
    """An alternation of ``words`` factored by their first letters (one branch tried per letter)."""
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [regex.escape(ch) + emit(child) if ch else "" for ch, child in sorted(node.items())]
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(a for a in alts if a) + ")" + ("?" if "" in node else "")

    return emit(trie)


_STARTER_TRIE = _forward_trie(STARTERS)


def _abbreviation_alternatives(abbrs: Iterable[str], close: str, ends: bool) -> list[str]:
    """Look-arounds that match at the final dot, and at each inner dot, of an abbreviation.

    With ``ends`` (rule ``abbreviation_ends``) a final dot of an `ENDERS` word is excluded only
    when no capitalised word follows, and of a `MAYBE_ENDERS` word only when no `STARTERS`
    word follows; the others never end a sentence.
    """
    abbrs = tuple(abbrs)
    inner = []
    for a in abbrs:
        full = a + "."
        for i, ch in enumerate(a):
            if ch == ".":
                pre, post = _nocase(full[: i + 1]), _nocase(full[i + 1 :])
                inner.append(f"(?<={_GUARD}{pre}){post}")
    out = []
    if abbrs:
        final = rf"(?<={_reverse_trie(abbrs, _GUARD)}\.)"
        never = [a for a in abbrs if not ends or a not in ENDERS + MAYBE_ENDERS]
        enders = [a for a in abbrs if ends and a in ENDERS]
        maybe = [a for a in abbrs if ends and a in MAYBE_ENDERS]
        if not enders and not maybe:
            out.append(final)
        else:  # one look-behind over every abbreviation gates the per-class tests
            alts = [rf"(?<={_reverse_trie(never, _GUARD)}\.)"] if never else []
            if enders:
                capital = rf"(?>{close}*)(?>{_HWS}*)[\p{{Pi}}\"'(\[]?[\p{{Lu}}\p{{Lt}}]"
                alts.append(rf"(?<={_reverse_trie(enders, _GUARD)}\.)(?!{capital})")
            if maybe:
                alts.append(rf"(?<={_reverse_trie(maybe, _GUARD)}\.)(?!{_starter(close)})")
            out.append(final + "(?:" + "|".join(alts) + ")")
    if inner:  # all inner-dot cases continue with a letter: test that once
        out.append(rf"(?=\p{{L}})(?:{'|'.join(inner)})")
    return out


def _nocase(s: str) -> str:
    """``s`` as a pattern matching either case, letter by letter (cheaper than ``(?i:)``)."""
    return "".join(
        f"[{c.lower()}{c.upper()}]" if c.lower() != c.upper() else regex.escape(c) for c in s
    )


def _reverse_trie(words: Iterable[str], guard: str) -> str:
    """An alternation of ``words`` factored from their last letter backwards.

    A look-behind matches right to left, so after an ordinary word only the branches for its
    last letter are tried, instead of every abbreviation (8x cheaper on the KJV).
    """
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in reversed(w):
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [
            guard if ch == "" else emit(child) + _nocase(ch) for ch, child in sorted(node.items())
        ]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(trie)
