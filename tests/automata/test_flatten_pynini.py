"""Flattening against pynini's replace (OpenFst): same language and same minimal DFA size.

The root FST is the top automaton with each type as a nonterminal label; each type's FST is its
bottom automaton followed by the separator. pynini copies a bottom per top *transition*, we per
(target, type) pair, so only languages and minimal DFAs are compared, not NFA sizes.
"""

from __future__ import annotations

import pytest

from automata import BiNFA, make_family, random_binfa

pynini = pytest.importorskip("pynini")

from automata.pynini_bridge import pynini_minimal_size, to_pynini  # noqa: E402

N_CASES = 300
NONTERMINAL_BASE = 10_000


def replace_fst(b: BiNFA):
    """pynini.replace of the top FST (types as nonterminals) by bottom + separator FSTs."""
    labels = {a: i + 1 for i, a in enumerate(b.symbols)}  # 0 is epsilon in OpenFst
    nts = {g: NONTERMINAL_BASE + t for t, g in enumerate(b.types)}
    root = to_pynini(b.top, labels=nts)
    one = pynini.Weight.one(root.weight_type())
    pairs = [(NONTERMINAL_BASE - 1, root)]
    for g in b.types:
        seg = to_pynini(b.bottoms[g], labels=labels)
        sep = pynini.Fst()
        s0, s1 = sep.add_state(), sep.add_state()
        sep.set_start(s0)
        sep.set_final(s1, one)
        sep.add_arc(s0, pynini.Arc(labels[b.separator], labels[b.separator], one, s1))
        pairs.append((nts[g], pynini.concat(seg, sep)))
    return pynini.replace(pairs, epsilon_on_replace=True), labels


def canonical(fst):
    return pynini.minimize(pynini.determinize(pynini.rmepsilon(fst)))


def instance(seed: int) -> BiNFA:
    if seed % 10 == 9:
        return make_family(
            ["mod-marked", "mod-unmarked", "dyck", "star-free", "arithmetic"][seed % 5],
            1 + seed % 3,
            2 + seed % 3,
            seed,
        )
    return random_binfa(
        n_types=1 + seed % 3,
        n_states=2 + seed % 4,
        alphabet_size=1 + seed % 3,
        seed=seed,
        top_states=1 + (seed // 3) % 3,
        density=(1.0, 1.5, 2.5)[seed % 3],
        epsilon_prob=(0.0, 0.2)[seed % 2],
        marked=seed % 4 == 3,
    )


@pytest.mark.parametrize("block", range(4))
def test_flatten_equals_pynini_replace(block):
    for seed in range(block * N_CASES // 4, (block + 1) * N_CASES // 4):
        b = instance(seed)
        theirs, labels = replace_fst(b)
        flat = b.flatten()
        ours = to_pynini(flat, labels=labels)
        assert pynini.equivalent(canonical(ours), canonical(theirs)), seed
        report = b.size_report()
        assert report.min_dfa_states == pynini_minimal_size(theirs), seed
        assert flat.num_states == b.flat_size()[0]


def test_replace_oracle_sees_a_difference():
    """The oracle is not vacuous: cutting the separator out of the comment copy changes the language."""
    from automata import NFA
    from automata.binfa import worked_example

    b = worked_example()
    theirs, labels = replace_fst(b)
    flat = b.flatten(labels=True)
    kept = [
        (p, a, q)
        for p, a, q in flat.transitions()
        if not (a == "#" and p[0] == "seg" and p[2] == "C")
    ]
    cut = NFA(flat.states, flat.alphabet, kept, flat.start, flat.finals)
    assert not cut.accepts("c#a#") and flat.accepts("c#a#")
    assert not pynini.equivalent(canonical(to_pynini(cut, labels=labels)), canonical(theirs))
    assert pynini.equivalent(canonical(to_pynini(flat, labels=labels)), canonical(theirs))
