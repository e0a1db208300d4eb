"""Generators: reproducible random Bi-NFAs with controlled sizes and the named families."""

from __future__ import annotations

import itertools
from math import prod

import pytest

from automata import AutomataInputError, BiNFA, list_families, make_family, random_binfa
from automata.generators import arithmetic, dyck, modular_counters, primes_from, star_free
from automata.ops import trim


def test_random_binfa_is_reproducible_and_seed_dependent():
    a = random_binfa(n_types=3, n_states=4, alphabet_size=2, seed=7)
    b = random_binfa(n_types=3, n_states=4, alphabet_size=2, seed=7)
    c = random_binfa(n_types=3, n_states=4, alphabet_size=2, seed=8)
    assert isinstance(a, BiNFA)
    assert a.to_json() == b.to_json()
    assert a.to_json() != c.to_json()


@pytest.mark.parametrize("k, n, s, m", [(1, 1, 1, 1), (3, 5, 2, 1), (4, 3, 3, 4), (10, 20, 5, 3)])
def test_random_binfa_sizes_are_controlled(k, n, s, m):
    b = random_binfa(n_types=k, n_states=n, alphabet_size=s, seed=1, top_states=m)
    assert len(b.types) == k and len(b.alphabet) == s and b.top.num_states == m
    assert b.separator == "#"
    for g in b.types:
        bottom = b.bottoms[g]
        assert bottom.num_states == n
        assert trim(bottom).num_states == n  # every state useful
    assert trim(b.top).num_states == m
    used = {t for t in b.int_top.sym.tolist() if t >= 0}
    assert used == set(range(k))  # every type labels a top transition


def test_random_binfa_marked_is_marked():
    for seed in range(5):
        b = random_binfa(3, 4, 2, seed=seed, marked=True, top_states=2)
        assert b.size_report().marking == "marked"


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_modular_counters_marked_linear_unmarked_product(k):
    ps = primes_from(2, k)
    marked = modular_counters(k, marked=True).size_report()
    unmarked = modular_counters(k, marked=False).size_report()
    # marked: a start state plus one counter per type; unmarked: the product counter plus the start
    assert marked.min_dfa_states == 1 + sum(ps)
    assert unmarked.min_dfa_states == prod(ps) + 1
    assert marked.min_dfa_states_with_sink == marked.min_dfa_states + 1
    assert unmarked.min_dfa_states_with_sink == unmarked.min_dfa_states + 1
    assert marked.marking == "marked"
    assert unmarked.marking in ("ambiguous", "unambiguous")
    # the bilevel sizes are the same (up to the marker state): only the flat DFA explodes
    assert marked.bottom_states_total == unmarked.bottom_states_total + k


def test_modular_counter_growth_linear_vs_product():
    marked = [modular_counters(k, True).size_report().min_dfa_states for k in range(1, 6)]
    unmarked = [modular_counters(k, False).size_report().min_dfa_states for k in range(1, 6)]
    assert [b - a for a, b in itertools.pairwise(marked)] == primes_from(3, 4)  # adds p_k per type
    assert unmarked == [prod(primes_from(2, k)) + 1 for k in range(1, 6)]  # times p_k per type
    assert unmarked[-1] > 50 * marked[-1]


def test_families_build_and_accept_their_examples():
    for name in list_families():
        b = make_family(name, 2, 4, seed=3)
        assert b.flatten().num_states == b.flat_size()[0]
    a = arithmetic(3, 14)  # base 3
    assert a.accepts(["1", "+", "2", "=", "0", "#", "2", "*", "2", "=", "1", "#"])
    assert not a.accepts(["1", "+", "2", "=", "1", "#"])
    d = dyck(1, 4)  # depth <= 2
    assert d.accepts(["(0", "(0", ")0", ")0", "#"])
    assert not d.accepts(["(0", "(0", "(0", ")0", ")0", ")0", "#"])
    assert not d.accepts(["#"])  # segments are non-empty
    s = star_free(1, 3, seed=0)
    assert s.size_report().segment_length_bounds["T0"] == (2.0, float("inf"))


def test_bad_generator_arguments_raise_typed_errors():
    with pytest.raises(AutomataInputError, match="unknown family"):
        make_family("nope", 2, 2)
    with pytest.raises(AutomataInputError, match="n_types"):
        random_binfa(n_types=0, n_states=2)
    with pytest.raises(AutomataInputError, match="n_states"):
        random_binfa(n_types=2, n_states=1, marked=True)
    with pytest.raises(AutomataInputError):
        random_binfa(n_types=2, n_states=2, seed=-1)
    with pytest.raises(AutomataInputError):
        modular_counters(2, True, moduli=[3])
    with pytest.raises(AutomataInputError, match="at most"):
        arithmetic(9, 10)
