"""NFA construction, validation errors, acceptance, epsilon closure, relabelling and round trips."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from hypothesis import given

from automata import (
    EPSILON,
    NFA,
    AlphabetError,
    AutomataError,
    AutomataFormatError,
    AutomataInputError,
    EmptyAutomatonError,
    UnknownStateError,
)
from automata.io import from_json, from_networkx, to_dot, to_json, to_networkx
from automata.random_nfa import random_nfa
from tests.automata.reference import language, nfas, reference_accepts, words


def ab_then_bs() -> NFA:
    """a b* (with an epsilon move into the final state)."""
    return NFA.from_transitions([(0, "a", 1), (1, "b", 1), (1, EPSILON, 2)], 0, [2])


def test_basic_counts_and_views():
    n = ab_then_bs()
    assert n.num_states == 3
    assert n.num_transitions == 3
    assert n.alphabet == frozenset("ab")
    assert n.start == 0 and n.finals == frozenset({2})
    assert n.states == (0, 1, 2)
    assert n.has_epsilon and not n.is_deterministic()
    assert n.transitions() == [(0, "a", 1), (1, EPSILON, 2), (1, "b", 1)]
    assert n.successors(1, "b") == frozenset({1})


def test_duplicate_transitions_count_once():
    n = NFA([0, 1], "a", [(0, "a", 1), (0, "a", 1), [0, "a", 1]], 0, [1])
    assert n.num_transitions == 1


def test_accepts_words_and_strings():
    n = ab_then_bs()
    assert n.accepts("a") and n.accepts("abbb") and n.accepts(["a", "b"])
    assert not n.accepts("") and not n.accepts("ba") and not n.accepts("aa")
    assert "ab" in n


def test_symbol_outside_alphabet_is_false_or_strict_error():
    n = ab_then_bs()
    assert n.accepts("ax") is False
    with pytest.raises(AlphabetError, match="'x'"):
        n.accepts("ax", strict=True)


@pytest.mark.parametrize("bad", [None, 3, b"ab"])
def test_word_must_be_iterable(bad):
    with pytest.raises(AutomataInputError, match="word"):
        ab_then_bs().accepts(bad)


def test_unhashable_symbol_in_word():
    with pytest.raises(AutomataInputError, match="hashable"):
        ab_then_bs().accepts([["a"]])


def test_unknown_target_state_is_named():
    with pytest.raises(UnknownStateError, match="'q9'") as info:
        NFA(["q0", "q1"], "a", [("q0", "a", "q9")], "q0", ["q1"])
    assert isinstance(info.value, KeyError) and isinstance(info.value, AutomataError)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"start": "zz"}, "start state 'zz'"),
        ({"finals": ["q0", "nope"]}, "final state 'nope'"),
        ({"transitions": [("ghost", "a", "q0")]}, "source of transition"),
    ],
)
def test_unknown_states_everywhere(kwargs, needle):
    args = {"states": ["q0", "q1"], "alphabet": "a", "transitions": [], "start": "q0", "finals": []}
    args.update(kwargs)
    with pytest.raises(UnknownStateError, match=needle):
        NFA(**args)


def test_symbol_outside_alphabet_is_named():
    with pytest.raises(AlphabetError, match="symbol 'c'") as info:
        NFA([0, 1], ["a", "b"], [(0, "c", 1)], 0, [1])
    assert isinstance(info.value, ValueError)
    assert "'a', 'b'" in str(info.value)


def test_epsilon_cannot_be_in_alphabet():
    with pytest.raises(AlphabetError, match="epsilon"):
        NFA([0], ["a", None], [], 0, [])


def test_empty_automaton():
    with pytest.raises(EmptyAutomatonError):
        NFA([], "a", [], 0, [])


@pytest.mark.parametrize(
    "args",
    [
        ([[0]], "a", [], [0], []),  # unhashable state
        ([0], [["a"]], [], 0, []),  # unhashable symbol
        ([0], "a", [(0, "a")], 0, []),  # not a triple
        ([0], "a", 5, 0, []),  # transitions not iterable
        ([None, 1], "a", [], 1, []),  # None is not a state
    ],
)
def test_wrong_python_types(args):
    with pytest.raises(AutomataInputError):
        NFA(*args)


def test_from_transitions_infers_states_and_alphabet():
    n = NFA.from_transitions([("x", 1, "y"), ("y", 2, "z")], "s", ["z"])
    assert n.states == ("s", "x", "y", "z")
    assert n.alphabet == frozenset({1, 2})
    assert not n.accepts([1, 2])  # s is disconnected from x


def test_epsilon_closure_single_and_many():
    n = NFA.from_transitions([(0, None, 1), (1, None, 2), (2, None, 0), (3, "a", 0)], 0, [2])
    assert n.epsilon_closure(0) == frozenset({0, 1, 2})
    assert n.epsilon_closure([3]) == frozenset({3})
    assert n.epsilon_closure({3, 1}) == frozenset({0, 1, 2, 3})
    with pytest.raises(UnknownStateError):
        n.epsilon_closure([7])


def test_tuple_states_use_closure_of_the_tuple_itself():
    n = NFA.from_transitions([((0, 1), None, (1, 1))], (0, 1), [(1, 1)], alphabet="a")
    assert n.epsilon_closure((0, 1)) == frozenset({(0, 1), (1, 1)})


def test_relabel_and_copy():
    n = NFA.from_transitions([("p", "a", "q")], "p", ["q"])
    r = n.relabel()
    assert r.states == (0, 1) and r.start == 0 and r.finals == frozenset({1})
    assert r.accepts("a")
    m = n.relabel({"p": "P", "q": "Q"})
    assert m.transitions() == [("P", "a", "Q")]
    assert n.copy() == n and n.copy() is not n
    with pytest.raises(UnknownStateError):
        n.relabel({"p": 1})
    with pytest.raises(AutomataInputError, match="injective"):
        n.relabel({"p": 1, "q": 1})


def test_with_alphabet():
    n = ab_then_bs().with_alphabet("abc")
    assert n.alphabet == frozenset("abc") and n.accepts("ab") and not n.accepts("ac")
    with pytest.raises(AlphabetError):
        ab_then_bs().with_alphabet("a")


def test_json_round_trip_and_format():
    n = ab_then_bs()
    doc = json.loads(to_json(n))
    assert doc["format"] == "bipe-nfa" and doc["version"] == 1
    assert [1, None, 2] in doc["transitions"]
    assert from_json(to_json(n, indent=2)) == n
    assert from_json(doc) == n


def test_json_needs_simple_labels():
    n = NFA.from_transitions([((0, 0), "a", (1, 1))], (0, 0), [(1, 1)])
    with pytest.raises(AutomataError, match="relabel"):
        to_json(n)
    assert from_json(to_json(n.relabel())).accepts("a")


@pytest.mark.parametrize(
    ("doc", "exc", "needle"),
    [
        ("{not json", AutomataFormatError, "not valid JSON"),
        ("[]", AutomataFormatError, "JSON object"),
        ('{"states": [0]}', AutomataFormatError, "missing keys"),
        ('{"format": "dfa", "states": [0]}', AutomataFormatError, "format"),
        (
            '{"states": [0], "alphabet": ["a"], "start": 0, "finals": [], "transitions": [[0, "a"]]}',
            AutomataFormatError,
            "transition #0",
        ),
        (
            '{"states": [0], "alphabet": ["a"], "start": 0, "finals": [], "transitions": [[0, "b", 0]]}',
            AlphabetError,
            "'b'",
        ),
        (
            '{"states": [0], "alphabet": ["a"], "start": 0, "finals": [4], "transitions": []}',
            UnknownStateError,
            "4",
        ),
        (
            '{"states": [[0]], "alphabet": ["a"], "start": 0, "finals": [], "transitions": []}',
            AutomataFormatError,
            "states",
        ),
        (
            '{"states": [], "alphabet": ["a"], "start": 0, "finals": [], "transitions": []}',
            EmptyAutomatonError,
            "at least one state",
        ),
        (
            '{"states": [0], "alphabet": [true], "start": 0, "finals": [], "transitions": []}',
            AutomataFormatError,
            "alphabet",
        ),
    ],
)
def test_json_is_validated_before_use(doc, exc, needle):
    with pytest.raises(exc, match=needle):
        from_json(doc)


def test_networkx_round_trip_is_lossless():
    n = ab_then_bs()
    g = to_networkx(n)
    assert isinstance(g, nx.MultiDiGraph)
    assert g.graph["start"] == 0 and g.graph["finals"] == frozenset({2})
    assert sorted(d["symbol"] or "" for _, _, d in g.edges(data=True)) == ["", "a", "b"]
    back = from_networkx(g)
    assert back == n
    assert nx.is_frozen(n.graph)


def test_networkx_bad_graphs():
    g = nx.MultiDiGraph()
    g.add_edge(0, 1)
    with pytest.raises(AutomataFormatError, match="start"):
        from_networkx(g)
    g.graph.update(start=0, finals=[1], alphabet={"a"})
    with pytest.raises(AutomataFormatError, match="symbol"):
        from_networkx(g)
    with pytest.raises(AutomataFormatError):
        from_networkx(nx.Graph())


def test_dot_output_mentions_everything():
    dot = to_dot(ab_then_bs(), name="ab*")
    assert dot.startswith('digraph "ab*" {')
    assert "doublecircle" in dot and "__start ->" in dot and 'label="ε"' in dot
    assert dot.count("->") == 1 + 3


def test_random_nfa_is_seeded():
    a, b = random_nfa(20, 3, seed=7), random_nfa(20, 3, seed=7)
    assert a == b and a != random_nfa(20, 3, seed=8)
    with pytest.raises(AutomataInputError):
        random_nfa(0)


@given(nfas())
def test_accepts_matches_reference_semantics(n):
    for w in words(["a", "b"], 4):
        assert n.accepts(w) == reference_accepts(n, w)


@given(nfas())
def test_round_trips_preserve_structure(n):
    assert from_json(to_json(n)) == n
    assert from_networkx(to_networkx(n)) == n
    assert language(n.relabel(lambda s: f"s{s}"), "ab", 3) == language(n, "ab", 3)


def test_from_arrays_is_lazy_and_equal_to_validated_construction():
    import numpy as np

    src, sym, dst = np.array([0, 0, 1, 1]), np.array([0, 1, -1, 0]), np.array([1, 1, 2, 1])
    lazy = NFA._from_arrays(3, ["a", "b"], src, sym, dst, 0, [2])
    assert lazy.num_states == 3 and lazy.num_transitions == 4
    relabelled = lazy.relabel(lambda s: f"q{s}")
    strict = NFA([0, 1, 2], "ab", [(0, "a", 1), (0, "b", 1), (1, EPSILON, 2), (1, "a", 1)], 0, [2])
    assert lazy == strict
    assert relabelled.accepts("aa") and relabelled.finals == frozenset({"q2"})
    assert NFA._from_int_edges(3, "ab", strict.relabel().transitions(), 0, [2]) == strict
    none = np.array([], dtype=np.int64)
    bare = NFA._from_arrays(2, ["a"], none, none, none, 1, [1])
    assert bare.num_transitions == 0 and bare.accepts("") and not bare.accepts("a")
    assert bare.succ_table() == [{}, {}]


@given(nfas(max_states=9))
def test_epsilon_closure_matches_networkx_descendants(n):
    import networkx as nx

    eps = nx.DiGraph()
    eps.add_nodes_from(n.states)
    eps.add_edges_from((p, q) for p, a, q in n.transitions() if a is EPSILON)
    for s in n.states:
        assert n.epsilon_closure(s) == frozenset(nx.descendants(eps, s) | {s})


def test_long_epsilon_chain_closure():
    n = NFA._from_int_edges(5000, "a", [(i, EPSILON, i + 1) for i in range(4999)], 0, [4999])
    assert n.accepts("") and len(n.epsilon_closure(0)) == 5000
    assert n.epsilon_closure(4999) == frozenset({4999})


def test_dot_escapes_quotes_and_lists_every_transition():
    import re

    n = NFA.from_transitions(
        [('say "hi"', "a", "back\\slash"), ("back\\slash", "b", 'say "hi"')], 'say "hi"', []
    )
    dot = to_dot(n)
    assert r'label="say \"hi\""' in dot and r'label="back\\slash"' in dot
    edges = re.findall(r'^  "(\d+)" -> "(\d+)" \[label="([^"]*)"\];$', dot, flags=re.M)
    assert sorted(edges) == [("0", "1", "a"), ("1", "0", "b")]


def test_json_refuses_unserialisable_symbols():
    n = NFA.from_transitions([(0, (2, 3), 1)], 0, [1])
    with pytest.raises(AutomataFormatError, match="str or int symbols"):
        to_json(n)
