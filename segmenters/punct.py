"""`punct`: sentence-like segments ended by terminal punctuation of many scripts, and by newlines.

One compiled `regex` pattern finds every boundary in a single left-to-right scan; each rule that
keeps a terminal from ending a segment (decimals, abbreviations, URLs, ...) is a bounded
look-around inside that pattern, so there is no per-candidate Python work and no unbounded
backtracking (linear time on any input, see `segmenters.punct_rules.build_pattern`). URLs, list
items and Greek question marks are handled outside the pattern (`segmenters.punct_extras`).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import regex

from segmenters.base import BaseSegmenter, Segmentation, check_text, spans_from_ends
from segmenters.errors import SegmenterOptionError
from segmenters.options import Option
from segmenters.punct_extras import add_extras, outside_spans, url_spans
from segmenters.punct_rules import (
    ABBREVIATIONS,
    BULLETS,
    CLOSERS,
    ENDERS,
    LINE_BREAKS,
    MAYBE_ENDERS,
    REFERENCES,
    STARTERS,
    TERMINALS,
    build_pattern,
)

# The word lists live in segmenters.punct_rules; they are named here too, where users look.
__all__ = [
    "ABBREVIATIONS",
    "BULLETS",
    "CLOSERS",
    "ENDERS",
    "MAYBE_ENDERS",
    "MODIFIERS",
    "OPTIONS",
    "PRESETS",
    "REFERENCES",
    "RULES",
    "STARTERS",
    "TERMINALS",
    "PunctSegmenter",
    "url_spans",
]


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
_RULE_MEANINGS = {
    "decimals": "'.' between digits does not end (3.14)",
    "inner_dots": "'.' inside a word does not end (file.txt)",
    "abbreviations": "known abbreviations do not end (Dr., e.g.); or your own list",
    "initials": "a capital + '.' before a capitalised word does not end (J. R. R.)",
    "ellipsis": "'...' does not end unless a break or capital follows",
    "urls": "no terminal inside a URL ends",
    "emails": "no '.' inside an e-mail address ends",
    "list_markers": "'1.', 'a.', 'iv.' opening a line do not end",
    "lowercase_next": "a terminal before a lowercase word does not end",
    "abbreviation_ends": "Inc., etc. end before a capitalised word",
    "initial_ends": "an initial ends before a sentence-starting word",
    "reference_numbers": "p. 45, No. 10, Vol. IV do not end",
    "spaced_ellipsis": "'. . .' ends only at its last dot",
    "list_items": "each list item starts a segment",
    "quote_particles": "a closed Japanese quotation before to/tte does not end",
    "greek_question": "';' after Greek before a capital ends",
}
DECLARED = (
    Option("preset", (str,), "default", "'paper' splits at every '.' and newline", choices=PRESETS),
    Option("newlines", (bool,), True, "a line break ends a segment"),
    Option("terminals", (str,), None, "the terminal characters (None: the preset's set)"),
    Option("lines", (bool,), False, "add a coarser 'line' level (needs newlines=True)"),
    *(
        Option(
            rule,
            (bool, list, tuple, set, frozenset) if rule == "abbreviations" else (bool,),
            None,
            f"{_RULE_MEANINGS[rule]}; None: on (not with preset 'paper')",
            expect=(
                "True, False or a list of abbreviations such as ['Dr.', 'e.g.']"
                if rule == "abbreviations"
                else "True or False"
            ),
        )
        for rule in RULES
    ),
)
OPTIONS = tuple(opt.name for opt in DECLARED)

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

    OPTIONS = DECLARED

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)  # checks them against OPTIONS
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
        line_ends = [e for e in ends[:-1] if text[e - 1] in LINE_BREAKS] + ends[-1:]
        lines = spans_from_ends(text, line_ends, "line", "line")
        levels = {"line": lines, self.level: segs}
        return Segmentation(text, segs, self.level, levels, self.name)

    def _scan(self, text: str) -> tuple[list[int], list[str]]:
        """Segment ends and the group ("t" or "n") that ended each; a final end may lack one."""
        matches = list(self.pattern.finditer(text))
        if self.has_urls and ("://" in text or "www." in text or "WWW." in text):
            matches = outside_spans(matches, url_spans(text))
        groups = list(map(_lastgroup, matches))
        ends = list(map(_end, matches))
        if self.list_items or self.greek:
            ends, groups = add_extras(text, ends, groups, self.list_items, self.greek)
        if text and (not ends or ends[-1] != len(text)):
            ends.append(len(text))
        return ends, groups


def _validate(options: dict[str, Any]) -> tuple[Any, ...]:
    """Check option names and values; return a hashable config for the pattern cache."""
    # names, types and choices are checked against DECLARED (BaseSegmenter.__init__)
    preset = options.get("preset", "default")
    newlines = options.get("newlines", True)
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
    return regex.compile(build_pattern(config))
