"""Bi-NFA: validation, direct membership, flattening (language and exact size), size reports, JSON."""

from __future__ import annotations

import itertools
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automata import (
    NFA,
    AlphabetError,
    AutomataFormatError,
    AutomataInputError,
    BiNFA,
    EmptyAutomatonError,
    SeparatorError,
    random_binfa,
)
from automata.binfa import worked_example
from automata.dfa import minimal_dfa_size
from tests.automata.reference import language, words


def oracle_accepts(b: BiNFA, word) -> bool:
    """Membership straight from the definition: some top word g1..gk with wi in L(B_gi)."""
    word = list(word)
    if word and word[-1] != b.separator:
        return False
    if any(a != b.separator and a not in b.alphabet for a in word):
        return False
    segments, cur = [], []
    for a in word:
        if a == b.separator:
            segments.append(cur)
            cur = []
        else:
            cur.append(a)
    options = [[g for g in b.types if b.bottoms[g].accepts(seg)] for seg in segments]
    return any(b.top.accepts(gs) for gs in itertools.product(*options))


def test_worked_example_numbers():
    b = worked_example()
    r = b.size_report()
    assert (r.top_states, r.top_transitions) == (2, 3)
    assert r.bottom_states == {"C": 3, "S": 2} and r.bottom_transitions == {"C": 2, "S": 2}
    assert (r.flat_states, r.flat_transitions, r.needed_pairs, r.naive_flat_states) == (7, 10, 2, 9)
    assert (r.min_dfa_states, r.min_dfa_states_with_sink) == (5, 6)
    assert r.marking == "marked" and r.marked
    assert r.segment_length_bounds == {"C": (1.0, 2.0), "S": (1.0, math.inf)}
    for w in ["", "a#", "abb#a#", "c#a#", "cc#ab#a#"]:
        assert b.accepts(w) and w in b
    for w in ["a", "c#", "ac#", "c#c#a#", "#", "ccc#a#"]:
        assert not b.accepts(w)


def test_flatten_labels_and_sizes():
    b = worked_example()
    flat = b.flatten(labels=True)
    assert flat.states[:2] == (("top", "p0"), ("top", "p1"))
    assert ("seg", "p1", "C", "c2") in flat.states
    assert flat.alphabet == frozenset("abc#")
    assert b.flat_size() == (flat.num_states, flat.num_transitions) == (7, 10)
    assert flat == b.flatten().relabel(dict(enumerate(flat.states)))


@st.composite
def binfas(draw: st.DrawFn) -> BiNFA:
    """Small random Bi-NFAs with varied top sizes, epsilon moves and marking."""
    marked = draw(st.booleans())
    return random_binfa(
        n_types=draw(st.integers(1, 3)),
        n_states=draw(st.integers(2 if marked else 1, 4)),
        alphabet_size=draw(st.integers(1, 2)),
        seed=draw(st.integers(0, 10_000)),
        top_states=draw(st.integers(1, 3)),
        density=draw(st.sampled_from([1.0, 1.5, 2.5])),
        epsilon_prob=draw(st.sampled_from([0.0, 0.2])),
        marked=marked,
    )


@given(binfas())
def test_flatten_preserves_language(b):
    flat = b.flatten()
    n_flat = b.int_top.n_states + sum(b.int_bottoms[t].n_states for _, t in b.needed_pairs())
    assert flat.num_states == n_flat == b.flat_size()[0]
    assert flat.num_transitions == b.flat_size()[1]
    # flatten() hands its arcs to NFA._from_arrays, which trusts them to be distinct
    assert flat.num_transitions == len(set(flat.transitions()))
    symbols = list(b.symbols)
    max_len = 5 if len(symbols) <= 3 else 4
    reference = language(flat, symbols, max_len)  # the flat NFA read through networkx
    for w in words(symbols, max_len):
        direct = b.accepts(w)
        assert direct == flat.accepts(w) == (w in reference), w
        assert direct == oracle_accepts(b, w), w


@given(binfas())
def test_size_report_agrees_with_dfa_module(b):
    r = b.size_report()
    flat = b.flatten()
    assert r.min_dfa_states == minimal_dfa_size(flat, count_sink=False)
    assert r.min_dfa_states_with_sink == minimal_dfa_size(flat, count_sink=True)
    assert r.bottom_states_total == sum(r.bottom_states.values())


def test_size_report_over_budget_gives_none_and_reason():
    from automata.generators import modular_counters

    r = modular_counters(4, marked=False).size_report(max_dfa_states=50)
    assert r.min_dfa_states is None and r.min_dfa_states_with_sink is None
    assert "budget of 50" in r.min_dfa_reason
    assert "n/a" in str(r)


def test_json_roundtrip_keeps_everything():
    for b in (worked_example(), random_binfa(3, 4, 3, seed=5, top_states=2, epsilon_prob=0.2)):
        text = b.to_json()
        c = BiNFA.from_json(text)
        assert c.to_json() == text
        assert c.flatten() == b.flatten()
        assert BiNFA.from_json(json.loads(text)).separator == b.separator


def _parts():
    top = NFA([0], ["X", "Y"], [(0, "X", 0), (0, "Y", 0)], 0, [0])
    bx = NFA([0, 1], ["a"], [(0, "a", 1)], 0, [1])
    by = NFA([0, 1], ["b"], [(0, "b", 1)], 0, [1])
    return top, bx, by


def test_bad_inputs_raise_typed_errors():
    top, bx, by = _parts()
    with pytest.raises(SeparatorError, match="inside the token alphabet"):
        BiNFA(top, {"X": bx, "Y": by}, separator="a")
    with pytest.raises(SeparatorError):
        BiNFA(top, {"X": bx, "Y": by}, separator=None)
    with pytest.raises(AlphabetError, match=r"'Y'.*no bottom automaton"):
        BiNFA(top, {"X": bx})
    with pytest.raises(AlphabetError, match="not segment types"):
        BiNFA(top, {"X": bx, "Y": by, "Z": by})
    with pytest.raises(AlphabetError, match="outside the alphabet"):
        BiNFA(top, {"X": bx, "Y": by}, alphabet=["a"])
    with pytest.raises(AutomataInputError):
        BiNFA("not an NFA", {"X": bx})  # type: ignore[arg-type]
    with pytest.raises(AutomataInputError):
        BiNFA(top, [bx, by])  # type: ignore[arg-type]
    with pytest.raises(EmptyAutomatonError):
        BiNFA(NFA([0], [], [], 0, [0]), {})
    with pytest.raises(EmptyAutomatonError):
        NFA([], ["a"], [], 0, [])
    b = BiNFA(top, {"X": bx, "Y": by})
    assert not b.accepts(["a", "#", "z", "#"])
    with pytest.raises(AlphabetError, match="'z'"):
        b.accepts(["a", "#", "z", "#"], strict=True)
    with pytest.raises(AutomataInputError):
        b.accepts(42)  # type: ignore[arg-type]
    with pytest.raises(AutomataInputError):
        b.accepts([["unhashable"]])


@pytest.mark.parametrize(
    "doc, match",
    [
        ("not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"format": "x", "version": 1}', "format"),
        ('{"format": "bipe-binfa", "version": 9}', "version"),
        ('{"format": "bipe-binfa", "version": 1}', "missing keys"),
    ],
)
def test_from_json_rejects_malformed(doc, match):
    with pytest.raises(AutomataFormatError, match=match):
        BiNFA.from_json(doc)


def test_from_json_validates_nested_automata():
    d = worked_example().to_dict()
    d["bottoms"][0][1]["transitions"].append(["c0", "c", "nowhere"])
    with pytest.raises(AutomataFormatError, match="bottom automaton of type 'C'"):
        BiNFA.from_json(d)
    d = worked_example().to_dict()
    d["separator"] = "a"
    with pytest.raises(SeparatorError):
        BiNFA.from_json(d)
    d = worked_example().to_dict()
    d["bottoms"] = d["bottoms"][:1]
    with pytest.raises(AlphabetError, match="no bottom automaton"):
        BiNFA.from_json(d)
    d = worked_example().to_dict()
    d["top"] = {"states": []}
    with pytest.raises(AutomataFormatError, match="top automaton"):
        BiNFA.from_json(d)
