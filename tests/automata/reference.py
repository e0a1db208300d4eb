"""Test helpers: an independent reference acceptance on the networkx view, word enumeration, strategies."""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterator, Sequence

from hypothesis import strategies as st

from automata import EPSILON, NFA


def _reference_steps(nfa: NFA):
    """(start set, step(set, symbol), finals) computed on `nfa.graph` with plain sets and networkx
    edge lookups: independent of the package's bitset and table code paths."""
    g = nfa.graph

    def close(states: set) -> frozenset:
        todo, seen = list(states), set(states)
        while todo:
            p = todo.pop()
            for _, q, sym in g.out_edges(p, data="symbol"):
                if sym is EPSILON and q not in seen:
                    seen.add(q)
                    todo.append(q)
        return frozenset(seen)

    def step(current: frozenset, a: Hashable) -> frozenset:
        return close(
            {q for p in current for _, q, sym in g.out_edges(p, data="symbol") if sym == a}
        )

    return close({g.graph["start"]}), step, frozenset(g.graph["finals"])


def reference_accepts(nfa: NFA, word: Sequence[Hashable]) -> bool:
    """Acceptance computed on `nfa.graph` with plain sets: independent of the bitset code paths."""
    current, step, finals = _reference_steps(nfa)
    for a in word:
        current = step(current, a)
    return bool(current & finals)


def words(alphabet: Sequence[Hashable], max_len: int) -> Iterator[tuple]:
    """Every word over `alphabet` of length 0..max_len, shortest first."""
    for n in range(max_len + 1):
        yield from itertools.product(alphabet, repeat=n)


def language(nfa: NFA, alphabet: Sequence[Hashable], max_len: int) -> frozenset[tuple]:
    """The accepted words of length <= max_len, by the reference semantics of `reference_accepts`.

    Walks the tree of prefixes once (one reference step per prefix, not per letter of every word)
    and prunes prefixes whose state set is empty: no extension of them is accepted.
    """
    start, step, finals = _reference_steps(nfa)
    out: set[tuple] = set()
    level = [((), start)]
    for n in range(max_len + 1):
        out.update(w for w, current in level if current & finals)
        if n == max_len:
            break
        level = [
            ((*w, a), nxt) for w, current in level for a in alphabet if (nxt := step(current, a))
        ]
    return frozenset(out)


@st.composite
def nfas(
    draw: st.DrawFn,
    max_states: int = 6,
    alphabet: Sequence[Hashable] = ("a", "b"),
    epsilon: bool = True,
) -> NFA:
    """Small random NFAs over `alphabet`, epsilon moves allowed when `epsilon`."""
    n = draw(st.integers(1, max_states))
    syms = [*alphabet, EPSILON] if epsilon else list(alphabet)
    triples = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.sampled_from(syms), st.integers(0, n - 1)),
            max_size=3 * n,
        )
    )
    finals = draw(st.sets(st.integers(0, n - 1)))
    return NFA(range(n), alphabet, triples, 0, finals)
