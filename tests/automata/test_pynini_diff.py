"""Differential tests against pynini (OpenFst): minimal DFA sizes and closure-operation languages.

pynini's `minimize(determinize(rmepsilon(A)))` is a trimmed partial DFA (no dead/sink state), so it is
compared with our ``minimal_dfa_size(count_sink=False)``.
"""

from __future__ import annotations

import pytest

from automata import NFA, MissingDependencyError, ops
from automata.dfa import equivalent, minimal_dfa_size, minimize
from automata.random_nfa import random_nfa

pynini = pytest.importorskip("pynini")

from automata.pynini_bridge import pynini_minimal_size, symbol_labels, to_pynini  # noqa: E402

N_SIZE_CASES = 300
N_OP_CASES = 120


def canonical(fst):
    """pynini's minimal deterministic acceptor of `fst`."""
    return pynini.minimize(pynini.determinize(pynini.rmepsilon(fst)))


def instance(seed: int, n_max: int = 25) -> NFA:
    """A seeded random NFA with a varied size, alphabet, density and epsilon share."""
    n = 1 + (seed * 7919) % n_max
    k = 1 + seed % 3
    density = (0.8, 1.2, 1.6, 2.5)[seed % 4]
    return random_nfa(n, k, density=density, epsilon_density=(0.0, 0.3)[seed % 2], seed=seed)


def test_converter_keeps_shape():
    a = instance(3)
    f = to_pynini(a)
    assert f.num_states() == a.num_states
    assert sum(f.num_arcs(s) for s in f.states()) == a.num_transitions
    assert f.start() == a.start_index


@pytest.mark.parametrize("block", range(3))
def test_minimal_dfa_sizes_agree_with_pynini(block):
    per = N_SIZE_CASES // 3
    for seed in range(block * per, (block + 1) * per):
        a = instance(seed)
        ours = minimal_dfa_size(a, count_sink=False)
        theirs = pynini_minimal_size(to_pynini(a))
        assert ours == theirs, f"seed {seed}: ours {ours}, pynini {theirs}"
        assert minimize(a).num_states == max(ours, 1)


def test_larger_instances_agree_with_pynini():
    for seed in range(20):
        # Densities near 1.3 blow up exponentially at these sizes; 2.5-3 keeps DFAs in the thousands.
        a = random_nfa(60 + 7 * seed, 2, density=2.5 + seed % 2 / 2, epsilon_density=0.1, seed=seed)
        assert minimal_dfa_size(a, count_sink=False) == pynini_minimal_size(to_pynini(a))


def test_closure_operations_agree_with_pynini():
    for seed in range(N_OP_CASES):
        a, b = instance(seed, 12), instance(seed + 5000, 12)
        labels = symbol_labels(a, b)
        pa, pb = to_pynini(a, labels), to_pynini(b, labels)
        cases = [
            ("union", ops.union(a, b), pynini.union(pa, pb)),
            ("concat", ops.concatenate(a, b), pynini.concat(pa, pb)),
            ("star", ops.star(a), pynini.closure(pa)),
            ("intersect", ops.intersect(a, b), pynini.intersect(pa, pb)),
        ]
        for name, ours, theirs in cases:
            mine, ref = canonical(to_pynini(ours, labels)), canonical(theirs)
            assert pynini.equivalent(mine, ref), f"{name} differs from pynini at seed {seed}"
            assert minimal_dfa_size(ours, count_sink=False) == ref.num_states(), (name, seed)


def test_equivalence_agrees_with_pynini():
    agreeing = 0
    for seed in range(150):
        a = instance(seed, 8)
        b = (
            instance(seed + 1, 8)
            if seed % 3
            else ops.union(a, ops.intersect(a, instance(seed + 9, 8)))
        )
        labels = symbol_labels(a, b)
        theirs = pynini.equivalent(canonical(to_pynini(a, labels)), canonical(to_pynini(b, labels)))
        assert equivalent(a, b) == theirs, f"seed {seed}"
        agreeing += theirs
    assert agreeing >= 40  # the a | (a & c) cases are equivalent by construction


def test_missing_pynini_is_a_typed_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pynini":
            raise ImportError("no pynini")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(MissingDependencyError, match="pip install pynini"):
        to_pynini(instance(1))


@pytest.mark.slow
def test_many_more_instances_agree_with_pynini():
    for seed in range(N_SIZE_CASES, N_SIZE_CASES + 3000):
        a = instance(seed)
        assert minimal_dfa_size(a, count_sink=False) == pynini_minimal_size(to_pynini(a)), seed
