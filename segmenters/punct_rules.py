"""The word lists and character classes of `punct`'s rules, and the boundary pattern built from
them (`build_pattern`): each rule that keeps a terminal from ending a segment is a bounded
look-around inside that one pattern.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import regex

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
NL = r"(?:\r\n|[\n\r\x85\u2028\u2029])"
HWS = r"[ \t\x0b\x0c\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]"

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

# Line breaks as a set of characters (a segment that ends in one ends a line).
LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")

# Look-behinds that reach back over a token are capped so each check costs O(1).
EMAIL_REACH = 64

_L = r"[\p{L}\p{N}]"
_DEFAULT_TERMINALS = "".join(sorted(set(TERMINALS)))
_TERM_PROPERTY = r"[\p{SB=ATerm}\p{SB=STerm}\u2026\u10fb]"


def build_pattern(config: tuple[Any, ...]) -> str:
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
    nlblock = rf"(?>(?:(?>{HWS}*){NL})*)"  # further line breaks and blank lines
    excl = _exclusions(rules, close)
    # No rule keeps a terminal right before a line break from ending its segment (the break
    # would end it there anyway), so that common case skips every exclusion.
    guard = f"(?:(?=[\\n\\r])|(?!{'|'.join(excl)}))" if excl else ""
    t = (
        rf"(?P<t>{term}(?<!{term}{term})(?>{term}*){guard}"
        rf"(?>{close}*)(?>{HWS}*)(?:{NL}{nlblock})?)"
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
        out.append(rf"(?>{close}*)(?>{HWS}*)\p{{Ll}}")
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
            rf"(?>{HWS}*)(?!{starter})\p{{Lu}}" if rules["initial_ends"] else rf"(?>{HWS}*)\p{{Lu}}"
        )
        not_ender = ""
        if ends and any(a in ENDERS for a in abbrs):
            not_ender = f"(?<!{_reverse_trie([a for a in abbrs if a in ENDERS], _GUARD)}\\.)"
        out.append(rf"(?<=(?<!{_L})\p{{Lu}}\.){not_ender}{nxt}")
    if rules["ellipsis"]:
        out.append(rf"(?<=\.\.|\u2026|\u2024\u2024)(?!{_sentence_start(close)})")
    if rules["spaced_ellipsis"]:
        # ". . ." and ". . . .": no dot but the last ends a sentence, and that one only as `ellipsis`
        out.append(rf"(?=(?:{HWS}){{1,2}}\.(?:{HWS}|\.|\Z|{close}))(?<=(?:\A|\s|\.|{_L})\.)")
        out.append(rf"(?<=\.{HWS}{{1,2}}\.{HWS}{{1,2}}\.)(?!{_sentence_start(close)})")
    if abbrs:
        out.extend(_abbreviation_alternatives(abbrs, close, bool(ends)))
    if rules["reference_numbers"]:
        # "p. 45", "No. 10", "Vol. IV": an abbreviated reference word before its number
        refs = _reverse_trie(REFERENCES, _GUARD)
        romans = _reverse_trie(
            ("vol", "vols", "app", "pt", "ch", "chap", "art", "sec", "fig", "tab", "ex"), _GUARD
        )
        out.append(rf"(?=(?>{HWS}*)\p{{N}})(?<={refs}\.)")
        out.append(
            rf"(?=(?>{HWS}*)(?:[IVXLCDM]{{1,6}}|\p{{Lu}})(?![\p{{L}}\p{{N}}]))(?<={romans}\.)"
        )
    if rules["list_markers"]:
        marker = r"(?:\d{1,3}(?:\.\d{1,3}){0,4}|[A-Za-z]|(?i:[ivxlcdm]{1,8}))"
        out.append(rf"{HWS}(?<=(?:\A|[\n\r\x85\u2028\u2029]){HWS}{{0,16}}{marker}\.{HWS})")
    if rules["emails"]:
        mail = r"[\p{L}\p{N}._%+\-]"
        out.append(rf"{_L}(?<={_L}@[\p{{L}}\p{{N}}.\-]{{1,{EMAIL_REACH}}}\.{_L})")
        out.append(rf"{mail}(?<={_L}\.{mail}){mail}{{0,{EMAIL_REACH}}}@{_L}")
    return out


_GUARD = rf"(?<!{_L}|\.)"


def _sentence_start(close: str) -> str:
    """What may follow a sentence end: closers and spaces, then a line break, the end, or a capital."""
    return rf"(?>{close}*)(?>{HWS}*)(?:{NL}|\Z|[\p{{Pi}}\"'(\[]?[\p{{Lu}}\p{{Lt}}])"


def _starter(close: str) -> str:
    """Spaces, then a capitalised sentence-opening word of `STARTERS` (a whole word)."""
    return rf"(?>{close}*)(?>{HWS}*)[\p{{Pi}}\"'(\[]?{_STARTER_TRIE}(?![\p{{L}}\p{{N}}.\-])"


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
                capital = rf"(?>{close}*)(?>{HWS}*)[\p{{Pi}}\"'(\[]?[\p{{Lu}}\p{{Lt}}]"
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
