"""Closure operations and clean-ups with the textbook construction sizes, never via regular expressions.

union: m + n + 1 states; concatenation: m + n; star: n + 1; intersection: the reachable part of the
product, at most m * n; reverse: n + 1. Results have int states ``0..k-1`` and, for two operands, the
union of both alphabets.
"""

from __future__ import annotations

from collections import deque

from automata.exceptions import AutomataInputError, BudgetExceededError
from automata.nfa import EPSILON, NFA, bits_of

Edge = tuple[int, object, int]


def _check(*nfas: object) -> None:
    for x in nfas:
        if not isinstance(x, NFA):
            raise AutomataInputError(f"expected an NFA, got {type(x).__name__}")


def _edges(nfa: NFA, offset: int = 0) -> list[Edge]:
    """All integer transitions of `nfa`, with state indices shifted by `offset`."""
    return [
        (i + offset, a, j + offset)
        for i, d in enumerate(nfa.succ_table())
        for a, ts in d.items()
        for j in ts
    ]


def union(a: NFA, b: NFA) -> NFA:
    """Union: new start 0 with epsilon moves to both starts; a at 1..m, b at m+1..m+n."""
    _check(a, b)
    m = a.num_states
    edges = _edges(a, 1) + _edges(b, m + 1)
    edges += [(0, EPSILON, a.start_index + 1), (0, EPSILON, b.start_index + m + 1)]
    finals = [f + 1 for f in a.final_indices] + [f + m + 1 for f in b.final_indices]
    return NFA._from_int_edges(m + b.num_states + 1, a.alphabet | b.alphabet, edges, 0, finals)


def concatenate(a: NFA, b: NFA) -> NFA:
    """Concatenation: a at 0..m-1, b at m..m+n-1, epsilon moves from a's finals to b's start."""
    _check(a, b)
    m = a.num_states
    edges = _edges(a) + _edges(b, m)
    edges += [(f, EPSILON, b.start_index + m) for f in a.final_indices]
    finals = [f + m for f in b.final_indices]
    return NFA._from_int_edges(
        m + b.num_states, a.alphabet | b.alphabet, edges, a.start_index, finals
    )


def star(a: NFA) -> NFA:
    """Kleene star: new accepting start 0 -> old start; old finals loop back to the old start."""
    _check(a)
    s = a.start_index + 1
    edges = _edges(a, 1) + [(0, EPSILON, s)] + [(f + 1, EPSILON, s) for f in a.final_indices]
    finals = [0] + [f + 1 for f in a.final_indices]
    return NFA._from_int_edges(a.num_states + 1, a.alphabet, edges, 0, finals)


def reverse(a: NFA) -> NFA:
    """Reversal: new start 0 with epsilon moves to the old finals; the old start is the final."""
    _check(a)
    edges = [(j, sym, i) for i, sym, j in _edges(a, 1)]
    edges += [(0, EPSILON, f + 1) for f in a.final_indices]
    return NFA._from_int_edges(a.num_states + 1, a.alphabet, edges, 0, [a.start_index + 1])


def intersect(a: NFA, b: NFA, max_states: int = 1_000_000) -> NFA:
    """Product construction over the reachable pairs; epsilon moves advance one side at a time."""
    _check(a, b)
    sa, sb = a.succ_table(), b.succ_table()
    fa, fb = a.final_indices, b.final_indices
    index: dict[tuple[int, int], int] = {(a.start_index, b.start_index): 0}
    queue = deque([(a.start_index, b.start_index)])
    edges: list[Edge] = []
    finals: list[int] = []

    def visit(pair: tuple[int, int]) -> int:
        k = index.get(pair)
        if k is None:
            k = index[pair] = len(index)
            if k >= max_states:
                raise BudgetExceededError(
                    f"intersection exceeds its budget of {max_states} product states",
                    operation="intersect",
                    budget=max_states,
                )
            queue.append(pair)
        return k

    while queue:
        i, j = pair = queue.popleft()
        k = index[pair]
        if i in fa and j in fb:
            finals.append(k)
        di, dj = sa[i], sb[j]
        for sym, ti in di.items():
            if sym is EPSILON:
                edges.extend((k, EPSILON, visit((p, j))) for p in ti)
                continue
            tj = dj.get(sym)
            if tj:
                edges.extend((k, sym, visit((p, q))) for p in ti for q in tj)
        for q in dj.get(EPSILON, ()):
            edges.append((k, EPSILON, visit((i, q))))
    return NFA._from_int_edges(len(index), a.alphabet | b.alphabet, edges, 0, finals)


def remove_epsilons(a: NFA) -> NFA:
    """Same states and labels: p -x-> q whenever some r in closure(p) has r -x-> q; finals widened."""
    _check(a)
    if not a.has_epsilon:
        return a
    succ = a.succ_table()
    masks = a._closure_masks()
    fmask = 0
    for f in a.final_indices:
        fmask |= 1 << f
    new_succ: list[dict] = []
    finals = []
    for p in range(a.num_states):
        members = bits_of(masks[p])
        if masks[p] & fmask:
            finals.append(p)
        d: dict = {}
        for r in members:
            for sym, ts in succ[r].items():
                if sym is not EPSILON:
                    d.setdefault(sym, set()).update(ts)
        new_succ.append({sym: tuple(sorted(ts)) for sym, ts in d.items()})
    out = NFA._from_succ(a.num_states, a.alphabet, new_succ, a.start_index, finals)
    return out.relabel(list(a.states).__getitem__)


def _reachable(succ: list[dict], starts: list[int]) -> set[int]:
    seen = set(starts)
    stack = list(starts)
    while stack:
        p = stack.pop()
        for ts in succ[p].values():
            for q in ts:
                if q not in seen:
                    seen.add(q)
                    stack.append(q)
    return seen


def trim(a: NFA) -> NFA:
    """Keep the states both reachable and co-reachable (labels kept).

    The empty language gives one non-final start state with no transitions.
    """
    _check(a)
    succ = a.succ_table()
    n = a.num_states
    pred: list[dict] = [{} for _ in range(n)]
    for i, d in enumerate(succ):
        for ts in d.values():
            for j in ts:
                pred[j].setdefault(None, []).append(i)
    keep = _reachable(succ, [a.start_index]) & _reachable(pred, list(a.final_indices))
    if a.start_index not in keep:
        return NFA([a.start], a.alphabet, [], a.start, [])
    if len(keep) == n:
        return a
    order = sorted(keep)
    new = {old: k for k, old in enumerate(order)}
    edges = [
        (new[i], sym, new[j]) for i in order for sym, ts in succ[i].items() for j in ts if j in new
    ]
    finals = [new[f] for f in a.final_indices if f in new]
    labels = [a.states[i] for i in order]
    return NFA._from_int_edges(
        len(order), a.alphabet, edges, new[a.start_index], finals, labels=labels
    )
