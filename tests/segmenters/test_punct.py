"""`punct`: each rule on its own, the paper preset, many scripts, and linear time on adversarial input."""

from __future__ import annotations

import numpy as np
import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from segmenters import SegmenterOptionError, check_segmentation, get_segmenter
from segmenters.punct import MODIFIERS, RULES, TERMINALS


def texts(text: str, **options: object) -> list[str]:
    seg = get_segmenter("punct", **options).segment(text)
    check_segmentation(seg)
    return [s.text for s in seg]


def only(rule: str | None) -> dict[str, bool]:
    """Options with every rule off except ``rule``."""
    return {r: r == rule for r in RULES}


# (rule, text, segments with only that rule on, segments with every rule off)
RULE_CASES = [
    ("decimals", "Pi is 3.14 today. Yes", ["Pi is 3.14 today. ", "Yes"], ["Pi is 3.", "14 today. ", "Yes"]),
    ("inner_dots", "Open file.txt now. Ok", ["Open file.txt now. ", "Ok"], ["Open file.", "txt now. ", "Ok"]),
    ("abbreviations", "Dr. Smith came. Ok", ["Dr. Smith came. ", "Ok"], ["Dr. ", "Smith came. ", "Ok"]),
    ("abbreviations", "Fruit, e.g. Apples. Ok", ["Fruit, e.g. Apples. ", "Ok"], ["Fruit, e.", "g. ", "Apples. ", "Ok"]),
    ("abbreviations", "In the U.S. Congress. Ok", ["In the U.S. Congress. ", "Ok"], ["In the U.", "S. ", "Congress. ", "Ok"]),
    ("initials", "J. R. R. Tolkien wrote. Ok", ["J. R. R. Tolkien wrote. ", "Ok"], ["J. ", "R. ", "R. ", "Tolkien wrote. ", "Ok"]),
    ("ellipsis", "Wait...then go. Ok", ["Wait...then go. ", "Ok"], ["Wait...", "then go. ", "Ok"]),
    ("ellipsis", "Well… 42 more. Ok", ["Well… 42 more. ", "Ok"], ["Well… ", "42 more. ", "Ok"]),
    ("urls", "See https://x.org/a?b=1!c. Ok", ["See https://x.org/a?b=1!c. ", "Ok"], ["See https://x.", "org/a?", "b=1!", "c. ", "Ok"]),
    ("urls", "Go to www.Example.com. Ok", ["Go to www.Example.com. ", "Ok"], ["Go to www.", "Example.", "com. ", "Ok"]),
    ("emails", "Mail Jo.Li@Ex.org. Ok", ["Mail Jo.Li@Ex.org. ", "Ok"], ["Mail Jo.", "Li@Ex.", "org. ", "Ok"]),
    ("list_markers", "Steps:\n1. Boil.\n  2. Eat.\n", ["Steps:\n", "1. Boil.\n", "  2. Eat.\n"], ["Steps:\n", "1. ", "Boil.\n", "  2. ", "Eat.\n"]),
    ("list_markers", "iv. Done. A. Next", ["iv. Done. ", "A. ", "Next"], ["iv. ", "Done. ", "A. ", "Next"]),
    ("lowercase_next", '"Stop!" he said. Ok', ['"Stop!" he said. ', "Ok"], ['"Stop!" ', "he said. ", "Ok"]),
    ("lowercase_next", "It costs approx. five. Ok", ["It costs approx. five. ", "Ok"], ["It costs approx. ", "five. ", "Ok"]),
    ("reference_numbers", "See p. 45 now. Ok", ["See p. 45 now. ", "Ok"], ["See p. ", "45 now. ", "Ok"]),
    ("reference_numbers", "In Vol. IV and No. 7. Ok", ["In Vol. IV and No. 7. ", "Ok"], ["In Vol. ", "IV and No. ", "7. ", "Ok"]),
    ("spaced_ellipsis", "Wait . . . then go. Ok", ["Wait . . . then go. ", "Ok"], ["Wait . ", ". ", ". ", "then go. ", "Ok"]),
    ("spaced_ellipsis", "So . . . . Next", ["So . . . . ", "Next"], ["So . ", ". ", ". ", ". ", "Next"]),
    ("list_items", "Do: 1) wash 2) dry. Ok", ["Do: ", "1) wash ", "2) dry. ", "Ok"], ["Do: 1) wash 2) dry. ", "Ok"]),
    ("list_items", "a. Oil. b. Tyres. c. Lights", ["a. Oil. ", "b. Tyres. ", "c. Lights"], ["a. ", "Oil. ", "b. ", "Tyres. ", "c. ", "Lights"]),
    ("list_items", "\u2022 Tea \u2022 9. Jam", ["\u2022 Tea ", "\u2022 9. Jam"], ["\u2022 Tea \u2022 9. ", "Jam"]),
    ("quote_particles", "「はい。」と言った。次。", ["「はい。」と言った。", "次。"], ["「はい。」", "と言った。", "次。"]),
    ("greek_question", "Πού είσαι; Εδώ.", ["Πού είσαι; ", "Εδώ."], ["Πού είσαι; Εδώ."]),
]  # fmt: skip

# Rules that refine another rule: (rule, text, with both on, with only the refined rule on)
MODIFIER_CASES = [
    ("abbreviation_ends", "She joined Acme Inc. The pay was good.", ["She joined Acme Inc. ", "The pay was good."], ["She joined Acme Inc. The pay was good."]),
    ("abbreviation_ends", "At 6 P.M. Guests came.", ["At 6 P.M. ", "Guests came."], ["At 6 P.M. Guests came."]),
    ("abbreviation_ends", "We moved to the U.S. It took a year.", ["We moved to the U.S. ", "It took a year."], ["We moved to the U.S. It took a year."]),
    ("abbreviation_ends", "The U.S. Navy and Dr. Who came.", ["The U.S. Navy and Dr. Who came."], ["The U.S. Navy and Dr. Who came."]),
    ("initial_ends", "It was plan B. Then it failed.", ["It was plan B. ", "Then it failed."], ["It was plan B. Then it failed."]),
    ("initial_ends", "J. R. R. Tolkien wrote.", ["J. R. R. Tolkien wrote."], ["J. R. R. Tolkien wrote."]),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "text", "with_rule", "without"), RULE_CASES)
def test_each_rule_alone(rule: str, text: str, with_rule: list[str], without: list[str]) -> None:
    assert texts(text, **only(rule)) == with_rule
    assert texts(text, **only(None)) == without


@pytest.mark.parametrize(("rule", "text", "with_rule", "without"), MODIFIER_CASES)
def test_each_modifier_rule(rule: str, text: str, with_rule: list[str], without: list[str]) -> None:
    base = MODIFIERS[rule]
    assert texts(text, **{**only(base), rule: True}) == with_rule
    assert texts(text, **only(base)) == without


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_has_a_case(rule: str) -> None:
    cases = MODIFIER_CASES if rule in MODIFIERS else RULE_CASES
    assert any(case[0] == rule for case in cases)


def test_old_defaults_are_one_switch_away() -> None:
    """abbreviation_ends and initial_ends changed two defaults; switching them off restores them."""
    text = "Mr. and Mrs. Smith met Dr. Jones at 5 p.m. Then they left. It was plan B. Then more."
    assert texts(text) == [
        "Mr. and Mrs. Smith met Dr. Jones at 5 p.m. ",
        "Then they left. ",
        "It was plan B. ",
        "Then more.",
    ]
    assert texts(text, abbreviation_ends=False, initial_ends=False) == [
        "Mr. and Mrs. Smith met Dr. Jones at 5 p.m. Then they left. ",
        "It was plan B. Then more.",
    ]


# Labelled text: the default preset must give exactly these sentences.
LABELLED = [
    ("Hello world. This is it.", ["Hello world. ", "This is it."]),
    ('He said, "Go home." Then he left!', ['He said, "Go home." ', "Then he left!"]),
    ("Really?! Yes (quite.) Fine", ["Really?! ", "Yes (quite.) ", "Fine"]),
    ("Mr. and Mrs. Smith met Dr. Jones at 5 p.m. on Monday. Then they left.", ["Mr. and Mrs. Smith met Dr. Jones at 5 p.m. on Monday. ", "Then they left."]),
    ("It cost $3.50, i.e. cheap. We paid.", ["It cost $3.50, i.e. cheap. ", "We paid."]),
    ("Read https://docs.python.org/3/. It helps.", ["Read https://docs.python.org/3/. ", "It helps."]),
    ("Write to a.b@c.de. Now.", ["Write to a.b@c.de. ", "Now."]),
    ("I waited... and waited. Then... Nothing.", ["I waited... and waited. ", "Then... ", "Nothing."]),
    ("Line one\nLine two\n\n\nLine three", ["Line one\n", "Line two\n\n\n", "Line three"]),
    ("End.  \n\n  Indented next.", ["End.  \n\n", "  Indented next."]),
    ("Windows.\r\nLines\r\nhere", ["Windows.\r\n", "Lines\r\n", "here"]),
    ("Old Mac\rlines\rhere", ["Old Mac\r", "lines\r", "here"]),
    ("Sep\u2028para\u2029next\x85last", ["Sep\u2028", "para\u2029", "next\x85", "last"]),
    ("这是第一句。这是第二句！第三句？", ["这是第一句。", "这是第二句！", "第三句？"]),
    ("日本語です｡次です．", ["日本語です｡", "次です．"]),
    ("यह वाक्य है। दूसरा॥ तीसरा", ["यह वाक्य है। ", "दूसरा॥ ", "तीसरा"]),
    ("هل أنت بخير؟ نعم۔ شكرا", ["هل أنت بخير؟ ", "نعم۔ ", "شكرا"]),
    ("ሰላም። እንዴት ነህ፧ ደህና", ["ሰላም። ", "እንዴት ነህ፧ ", "ደህና"]),
    ("Բարեւ։ Ինչպես", ["Բարեւ։ ", "Ինչպես"]),
    ("What‽ Wow‼ Hmm⁇ Ok⁈ Sure⁉ End", ["What‽ ", "Wow‼ ", "Hmm⁇ ", "Ok⁈ ", "Sure⁉ ", "End"]),
    ("Tab.\tNbsp.\u00a0Ideographic.\u3000X", ["Tab.\t", "Nbsp.\u00a0", "Ideographic.\u3000", "X"]),
    ("Back in\n1911. Some more", ["Back in\n", "1911. ", "Some more"]),
    ("", []),
    ("   ", ["   "]),
    ("\n", ["\n"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), LABELLED)
def test_labelled_sentences(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


def test_kinds() -> None:
    seg = get_segmenter("punct").segment("One. Two\nthree")
    assert [(s.text, s.kind) for s in seg] == [
        ("One. ", "sentence"),
        ("Two\n", "line"),
        ("three", "fragment"),
    ]
    assert seg.level == "sentence" and seg.segmenter == "punct"


def test_newlines_off_keeps_lines_together() -> None:
    assert texts("a line\nanother. Next\n\n Z", newlines=False) == [
        "a line\nanother. ",
        "Next\n\n Z",
    ]


def test_lines_level_is_coarser() -> None:
    seg = get_segmenter("punct", lines=True).segment("One. Two\nThree. Four.\r\n\nFive")
    check_segmentation(seg)
    assert list(seg.levels) == ["line", "sentence"] and seg.level == "sentence"
    assert [s.text for s in seg.at_level("line")] == ["One. Two\n", "Three. Four.\r\n\n", "Five"]
    with pytest.raises(SegmenterOptionError, match="True needs newlines=True"):
        get_segmenter("punct", lines=True, newlines=False)


def test_custom_terminals() -> None:
    assert texts("A;B. C;D", terminals=";", newlines=False) == ["A;", "B. C;", "D"]


def test_custom_abbreviations_replace_the_list() -> None:
    assert texts("Approx. Five. Dr. Who", abbreviations=["approx."]) == [
        "Approx. Five. ",
        "Dr. ",
        "Who",
    ]


def test_abbreviation_must_be_whole_token() -> None:
    # "Tetc." is not "etc.", so it ends the sentence.
    assert texts("We saw Tetc. Then more.") == ["We saw Tetc. ", "Then more."]


def test_paper_preset_splits_at_every_dot_and_newline() -> None:
    out = texts("Dr. Smith paid 3.14.\n\nOk\r\nyes", preset="paper")
    assert out == ["Dr.", " Smith paid 3.", "14.", "\n", "\n", "Ok\r\n", "yes"]
    seg = get_segmenter("punct", preset="paper").segment("a.b\nc")
    assert [s.kind for s in seg] == ["sentence", "line", "fragment"]


def test_paper_preset_separator_is_last_character() -> None:
    text = "x.y..z\n\nw."
    for s in get_segmenter("punct", preset="paper").segment(text).segments[:-1]:
        assert s.text[-1] in ".\n" and all(c not in ".\n" for c in s.text[:-1])


def test_paper_preset_without_newlines() -> None:
    assert texts("a\nb.c", preset="paper", newlines=False) == ["a\nb.", "c"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"preset": "papers"}, "preset must be one of 'default', 'paper'"),
        ({"bogus": 1}, "valid options: preset, newlines, terminals"),
        ({"decimals": "yes"}, "decimals must be True or False"),
        ({"newlines": 1}, "newlines must be True or False"),
        ({"terminals": ""}, "terminals must be a non-empty str"),
        ({"terminals": ". "}, "non-whitespace"),
        ({"abbreviations": "Dr."}, "list of abbreviations"),
        ({"abbreviations": ["Dr", 3]}, "each abbreviation"),
        ({"preset": "paper", "urls": True}, "takes no rule option 'urls'"),
    ],
)
def test_bad_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(SegmenterOptionError, match=regex.escape(message)):
        get_segmenter("punct", **options)


def test_terminal_list_is_unicode_sterm_and_aterm() -> None:
    prop = regex.compile(r"[\p{SB=ATerm}\p{SB=STerm}\u2026\u10fb]")
    assert all(prop.match(c) for c in TERMINALS)
    assert "\u3002" in TERMINALS and "\u0964" in TERMINALS and "\u061f" in TERMINALS


def test_boundaries_match_segments() -> None:
    p = get_segmenter("punct")
    text = "One. Two? Three!\nFour"
    assert p.boundaries(text) == p.segment(text).boundaries


def _adversarial(n: int) -> dict[str, str]:
    return {
        "dots": "." * n,
        "no punctuation": "a" * n,
        "words": "word " * (n // 5),
        "digits": "7" * n,
        "long decimal": "3." + "1" * n,
        "dotted digits": "1." * (n // 2),
        "open brackets": "(" * n,
        "close brackets": "." + ")" * n,
        "quotes": '."' * (n // 2),
        "spaces": "." + " " * n + "x",
        "newlines": "\n" * n,
        "crlf": "\r\n" * (n // 2),
        "blank lines": "\n \t" * (n // 3),
        "question marks": "A?" * (n // 2),
        "url": "http://" + "a." * (n // 2),
        "url query": "https://x" + "?A" * (n // 2),
        "email": "a@" + "b." * (n // 2),
        "initials": "A. " * (n // 3),
        "abbreviations": "e.g." * (n // 4),
        "list markers": "\n1. " * (n // 4),
        "ellipses": "..x" * (n // 3),
        "astral": "\U0001d400" * n,
        "inline list": "1) a " * (n // 5),
        "dotted list": "a. " * (n // 3),
        "spaced dots": ". " * (n // 2),
        "bullets": "x \u2022 " * (n // 4),
        "bullet runs": "x" + " " * (n // 2) + "\u2022" * (n // 2),
        "references": "p. 1 " * (n // 5),
        "roman markers": "iv) " * (n // 4),
        "starters": "U.S. The " * (n // 9),
        "greek questions": "\u03b1; \u0392" * (n // 4),
        "greek spaces": "\u03b1;" + " " * n + "\u0392",
        "marker spaces": "1)" + " " * n + "2) x",
    }


ADVERSARIAL = list(_adversarial(12))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ADVERSARIAL)
@pytest.mark.parametrize(
    ("preset", "size"),
    [
        ("default", 1_000_000),
        ("paper", 200_000),
        pytest.param("paper", 1_000_000, marks=pytest.mark.slow),
    ],
)
def test_adversarial_inputs_finish(preset: str, size: int, name: str) -> None:
    """1 MB inputs built to trigger backtracking; a quadratic scan would not finish in time.

    Each input has its own timeout (one input takes 0.01 to 3 CPU seconds). The paper preset's
    pattern is a single character class and cannot backtrack; at 1 MB it only spends its time
    creating a million boundaries, so that size runs with ``-m slow``.
    """
    seg = get_segmenter("punct", preset=preset)
    text = _adversarial(size)[name]
    # boundaries() runs the same scan as segment() without building a Segment per boundary
    ends = seg.boundaries(text)
    assert ends[-1] == len(text)
    assert (np.diff(ends) > 0).all()


def test_adversarial_inputs_keep_invariants() -> None:
    seg = get_segmenter("punct")
    for text in _adversarial(3000).values():
        check_segmentation(seg.segment(text))


HARD_PIECES = [
    "1) ", "2) ", "3.) ", "1. ", "2. ", "a. ", "b) ", "(a) ", "(b) ", "iv) ", "v) ", "\u2022 ",
    " \u2022", " . . . ", ". . . .", "[...] ", "p. 4", "No. 7", "Vol. IV ", "U.S. The ", "U.S. Navy",
    "Inc. The ", "6 P.M. Do", "B. Then ", "J. K. ", "\u03b1; \u0392", "\u03b1;", "\u300d\u3068",
    "\u3002\u300d", "x", "X", " ", "\n", ".", "\t", "\r\n", ":", ",", "and ",
]  # fmt: skip


@given(st.lists(st.sampled_from(HARD_PIECES), max_size=40).map("".join))
def test_new_rules_keep_invariants(text: str) -> None:
    seg = get_segmenter("punct")
    out = seg.segment(text)
    check_segmentation(out)
    assert seg.boundaries(text) == out.boundaries
    assert {s.kind for s in out} <= {"sentence", "line", "item", "fragment"}
