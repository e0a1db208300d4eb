"""Closure operations: exact textbook sizes and the right languages; trim, reverse, epsilon removal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automata import EPSILON, NFA, AutomataInputError, BudgetExceededError
from automata.ops import concatenate, intersect, remove_epsilons, reverse, star, trim, union
from automata.random_nfa import random_nfa
from tests.automata.reference import language, nfas

K = 5  # compare languages on every word up to this length


def concat_lang(x: frozenset, y: frozenset, k: int) -> frozenset:
    return frozenset(u + v for u in x for v in y if len(u + v) <= k)


def star_lang(x: frozenset, k: int) -> frozenset:
    out = {()}
    frontier = {()}
    while frontier:
        frontier = {u + v for u in frontier for v in x if v and len(u + v) <= k} - out
        out |= frontier
    return frozenset(out)


@given(nfas(), nfas())
def test_union_size_and_language(a, b):
    u = union(a, b)
    assert u.num_states == a.num_states + b.num_states + 1
    assert u.num_transitions == a.num_transitions + b.num_transitions + 2
    assert language(u, "ab", K) == language(a, "ab", K) | language(b, "ab", K)


@given(nfas(), nfas())
def test_concatenation_size_and_language(a, b):
    c = concatenate(a, b)
    assert c.num_states == a.num_states + b.num_states
    assert c.num_transitions == a.num_transitions + b.num_transitions + len(a.finals)
    assert language(c, "ab", K) == concat_lang(language(a, "ab", K), language(b, "ab", K), K)


@given(nfas())
def test_star_size_and_language(a):
    s = star(a)
    assert s.num_states == a.num_states + 1
    assert language(s, "ab", K) == star_lang(language(a, "ab", K), K)


@given(nfas(), nfas())
def test_intersection_size_and_language(a, b):
    p = intersect(a, b)
    assert p.num_states <= a.num_states * b.num_states
    assert language(p, "ab", K) == language(a, "ab", K) & language(b, "ab", K)


@given(nfas())
def test_reverse_language(a):
    r = reverse(a)
    assert r.num_states == a.num_states + 1
    assert language(r, "ab", K) == frozenset(w[::-1] for w in language(a, "ab", K))


@given(nfas())
def test_remove_epsilons_keeps_states_and_language(a):
    e = remove_epsilons(a)
    assert not e.has_epsilon
    assert e.states == a.states and e.start == a.start
    assert language(e, "ab", K) == language(a, "ab", K)


@given(nfas())
def test_trim_keeps_language_and_only_useful_states(a):
    t = trim(a)
    assert language(t, "ab", K) == language(a, "ab", K)
    assert t.num_states <= a.num_states
    assert set(t.states) <= set(a.states)
    if t.finals:  # every kept state is reachable and co-reachable
        g = t.graph
        import networkx as nx

        reach = nx.descendants(g, t.start) | {t.start}
        for s in t.states:
            assert s in reach
            assert any(f == s or nx.has_path(g, s, f) for f in t.finals)


def test_trim_of_empty_language_is_one_state():
    a = NFA.from_transitions([(0, "a", 1)], 0, [])
    t = trim(a)
    assert t.num_states == 1 and t.num_transitions == 0 and not t.finals


def test_intersection_with_epsilons_on_both_sides():
    # a* . b  and  (a|b) b* : intersection is a* b restricted to one leading symbol, i.e. {b, ab}
    x = NFA.from_transitions([(0, "a", 0), (0, EPSILON, 1), (1, "b", 2)], 0, [2])
    y = NFA.from_transitions([(0, EPSILON, 1), (1, "a", 2), (1, "b", 2), (2, "b", 2)], 0, [2])
    p = intersect(x, y)
    assert language(p, "ab", 4) == {("b",), ("a", "b")}


def test_textbook_sizes_on_ten_state_nfas():
    # The warning: a regex route turned two 10-state NFAs into thousands of states.
    a, b = random_nfa(10, 2, seed=1), random_nfa(10, 2, seed=2)
    assert union(a, b).num_states == 21
    assert concatenate(a, b).num_states == 20
    assert star(a).num_states == 11
    assert intersect(a, b).num_states <= 100
    assert reverse(a).num_states == 11


def test_mixed_alphabets_are_united():
    a = NFA.from_transitions([(0, "a", 1)], 0, [1])
    b = NFA.from_transitions([(0, "b", 1)], 0, [1])
    u = union(a, b)
    assert u.alphabet == frozenset("ab") and u.accepts("a") and u.accepts("b")
    assert intersect(a, b).alphabet == frozenset("ab")
    assert not intersect(a, b).finals


def test_intersection_budget_is_typed():
    a, b = random_nfa(40, 2, density=3, seed=1), random_nfa(40, 2, density=3, seed=2)
    with pytest.raises(BudgetExceededError) as info:
        intersect(a, b, max_states=10)
    assert info.value.budget == 10 and info.value.operation == "intersect"


def test_operands_must_be_nfas():
    with pytest.raises(AutomataInputError):
        union(random_nfa(3), "ab")


@given(st.integers(0, 10_000))
def test_operations_on_random_nfas_with_epsilons(seed):
    a = random_nfa(5, "ab", density=1.2, epsilon_density=0.4, seed=seed)
    b = random_nfa(4, "ab", density=1.2, epsilon_density=0.4, seed=seed + 1)
    la, lb = language(a, "ab", 4), language(b, "ab", 4)
    assert language(union(a, b), "ab", 4) == la | lb
    assert language(intersect(a, b), "ab", 4) == la & lb
    assert language(remove_epsilons(a), "ab", 4) == la
    assert language(trim(a), "ab", 4) == la
