"""Conversion of our NFAs to pynini (OpenFst) acceptors: the test-only oracle and benchmark baseline."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from automata.exceptions import MissingDependencyError
from automata.nfa import EPSILON, NFA, sorted_symbols


def _pynini() -> Any:
    try:
        import pynini
    except ImportError:
        raise MissingDependencyError(
            "pynini is not installed: pip install pynini (test-only)"
        ) from None
    return pynini


def symbol_labels(*nfas: NFA) -> dict[Hashable, int]:
    """Integer arc labels 1..k for the union of the alphabets (0 is OpenFst's epsilon)."""
    alphabet: set[Hashable] = set()
    for a in nfas:
        alphabet |= a.alphabet
    return {a: i + 1 for i, a in enumerate(sorted_symbols(alphabet))}


def to_pynini(nfa: NFA, labels: dict[Hashable, int] | None = None) -> Any:
    """An unweighted pynini acceptor with the same language (states keep their indices)."""
    pynini = _pynini()
    labels = labels if labels is not None else symbol_labels(nfa)
    fst = pynini.Fst()
    fst.add_states(nfa.num_states)
    fst.set_start(nfa.start_index)
    one = pynini.Weight.one(fst.weight_type())
    for f in nfa.final_indices:
        fst.set_final(f, one)
    arc = pynini.Arc
    for i, d in enumerate(nfa.succ_table()):
        for a, ts in d.items():
            lab = 0 if a is EPSILON else labels[a]
            for j in ts:
                fst.add_arc(i, arc(lab, lab, one, j))
    return fst


def pynini_minimal_size(fst: Any) -> int:
    """States of pynini's minimal DFA (rmepsilon, determinize, minimize): trimmed, no sink."""
    pynini = _pynini()
    return pynini.minimize(pynini.determinize(pynini.rmepsilon(fst))).num_states()
