"""Subset construction, Hopcroft minimisation, minimal DFA sizes, equivalence, matrices, word counts."""

from __future__ import annotations

import math

import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from automata import EPSILON, NFA, AutomataInputError, BudgetExceededError
from automata.dfa import determinize, equivalent, minimal_dfa_size, minimize, moore_size
from automata.matrices import count_paths, count_words, transition_matrices
from automata.ops import concatenate, intersect, reverse, star
from automata.random_nfa import random_nfa
from tests.automata.reference import language, nfas

K = 5


def mod_counter(m: int, symbol: str = "a") -> NFA:
    """Words over {a, b} whose number of `symbol` is divisible by m (minimal DFA: m states)."""
    other = "b" if symbol == "a" else "a"
    trans = [(i, symbol, (i + 1) % m) for i in range(m)] + [(i, other, i) for i in range(m)]
    return NFA(range(m), "ab", trans, 0, [0])


def nth_from_last_is_a(n: int) -> NFA:
    """The classic blow-up: the n-th symbol from the end is 'a' (n+1 NFA states, 2**n DFA states)."""
    trans = [(0, "a", 0), (0, "b", 0), (0, "a", 1)]
    trans += [(i, s, i + 1) for i in range(1, n) for s in "ab"]
    return NFA(range(n + 1), "ab", trans, 0, [n])


@given(nfas())
def test_determinize_preserves_language_and_is_deterministic(a):
    d = determinize(a)
    assert d.is_deterministic() and d.start == 0
    assert language(d, "ab", K) == language(a, "ab", K)
    c = determinize(a, complete=True)
    assert all(len(c.succ_table()[i]) == 2 for i in range(c.num_states))
    assert language(c, "ab", K) == language(a, "ab", K)


@given(nfas())
def test_minimize_preserves_language_and_matches_moore(a):
    m = minimize(a)
    assert m.is_deterministic()
    assert language(m, "ab", K) == language(a, "ab", K)
    assert minimal_dfa_size(a) == moore_size(a) == minimize(a, complete=True).num_states
    assert m.num_states <= determinize(a).num_states
    assert equivalent(m, a) and equivalent(a, m)
    # minimising twice changes nothing (canonical BFS numbering)
    assert minimize(m) == m


@given(nfas())
def test_sink_accounting(a):
    full, trimmed = minimal_dfa_size(a, count_sink=True), minimal_dfa_size(a, count_sink=False)
    assert full - trimmed in (0, 1)
    if trimmed == 0:
        assert full == 1 and not minimize(a).finals
    else:
        assert minimize(a).num_states == trimmed


def test_known_minimal_sizes():
    assert minimal_dfa_size(mod_counter(5)) == 5
    assert minimal_dfa_size(mod_counter(5), count_sink=False) == 5  # complete, no sink
    assert minimal_dfa_size(nth_from_last_is_a(6)) == 2**6
    a_only = NFA.from_transitions([(0, "a", 1)], 0, [1], alphabet="ab")
    assert minimal_dfa_size(a_only) == 3 and minimal_dfa_size(a_only, count_sink=False) == 2
    empty = NFA([0], "ab", [], 0, [])
    assert minimal_dfa_size(empty) == 1 and minimal_dfa_size(empty, count_sink=False) == 0
    m = minimize(empty)
    assert m.num_states == 1 and not m.finals and m.num_transitions == 0


def test_product_of_counters_needs_product_states():
    both = intersect(mod_counter(3, "a"), mod_counter(4, "b"))
    assert minimal_dfa_size(both) == 12


def test_budget_raises_typed_error_not_oom():
    with pytest.raises(BudgetExceededError) as info:
        determinize(nth_from_last_is_a(20), max_states=1000)
    assert info.value.budget == 1000 and info.value.operation == "determinize"
    assert "1000" in str(info.value)
    with pytest.raises(BudgetExceededError):
        minimize(nth_from_last_is_a(20), max_states=500)
    with pytest.raises(AutomataInputError):
        determinize(nth_from_last_is_a(3), max_states=0)


def test_equivalence_true_and_false():
    assert equivalent(mod_counter(2), mod_counter(2).relabel(lambda s: f"q{s}"))
    assert not equivalent(mod_counter(2), mod_counter(4))
    # (ab)* vs epsilon | a(ba)*b
    x = NFA.from_transitions([(0, "a", 1), (1, "b", 0)], 0, [0])
    y = NFA.from_transitions(
        [(0, EPSILON, 3), (0, "a", 1), (1, "b", 3), (1, "b", 2), (2, "a", 1)], 0, [3]
    )
    assert equivalent(x, y)
    assert not equivalent(x, concatenate(star(x), NFA.from_transitions([(0, "a", 1)], 0, [1])))
    with pytest.raises(BudgetExceededError):
        equivalent(nth_from_last_is_a(18), reverse(reverse(nth_from_last_is_a(18))), max_states=100)


@given(nfas(), nfas())
def test_equivalence_agrees_with_enumeration(a, b):
    same = language(a, "ab", 6) == language(b, "ab", 6)
    if equivalent(a, b):
        assert same
    elif same:  # differ only on longer words: the minimal DFAs must differ then
        assert minimize(a) != minimize(b)
    assert equivalent(a, b) == (minimize(a) == minimize(b))


def test_transition_matrices():
    n = NFA.from_transitions([(0, "a", 1), (0, "a", 2), (1, "b", 1), (2, EPSILON, 0)], 0, [1])
    mats = transition_matrices(n)
    assert set(mats) == {"a", "b", EPSILON}
    assert all(sp.issparse(m) and m.shape == (3, 3) for m in mats.values())
    assert mats["a"].toarray().tolist() == [[0, 1, 1], [0, 0, 0], [0, 0, 0]]
    assert mats["b"].nnz == 1 and mats[EPSILON][2, 0] == 1


@given(nfas())
def test_count_words_matches_enumeration(a):
    lang = language(a, "ab", 6)
    expected = [sum(1 for w in lang if len(w) == k) for k in range(7)]
    assert count_words(a, 6) == expected


def test_paths_overcount_words_in_an_ambiguous_nfa():
    amb = NFA.from_transitions([(0, "a", 1), (0, "a", 2)], 0, [1, 2])
    assert count_paths(amb, 1) == [0, 2]
    assert count_words(amb, 1) == [0, 1]


def test_count_words_exact_beyond_int64():
    everything = NFA([0], "ab", [(0, "a", 0), (0, "b", 0)], 0, [0])
    counts = count_words(everything, 100)
    assert counts[100] == 2**100 and counts[63] == 2**63
    assert count_words(mod_counter(3), 30)[30] == sum(math.comb(30, k) for k in range(0, 31, 3))
    with pytest.raises(AutomataInputError):
        count_words(everything, -1)


@given(st.integers(0, 10_000), st.integers(2, 12))
def test_random_nfas_minimal_sizes_agree_with_moore(seed, n):
    a = random_nfa(n, 2, density=1.3, epsilon_density=0.3, seed=seed)
    assert minimal_dfa_size(a) == moore_size(a)
    assert equivalent(a, minimize(a)) and equivalent(a, determinize(a))
