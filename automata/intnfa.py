"""Integer-array NFAs: the compact form that flattening, samplers and size reports compute on.

States are 0..n-1, symbols 0..s-1 (ids into a symbol tuple), and symbol -1 marks an epsilon move.
The networkx-backed `automata.NFA` is the user-facing object; this form exists because the hot loops
(flattening 10,000-state results, sampling 200k tokens/s) cannot afford a graph lookup per step.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from automata.nfa import EPSILON, NFA

EPS = -1


@dataclass(frozen=True, eq=False)
class IntNFA:
    """An NFA over symbol ids with arcs as three parallel int arrays (EPS = -1 is an epsilon move)."""

    n_states: int
    symbols: tuple[Hashable, ...]
    start: int
    finals: frozenset[int]
    src: np.ndarray
    sym: np.ndarray
    dst: np.ndarray
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_arcs(self) -> int:
        """Number of arcs, epsilon moves included."""
        return int(self.src.shape[0])

    @cached_property
    def out_arcs(self) -> list[list[tuple[int, int]]]:
        """Per state, the list of (symbol id, target) pairs leaving it."""
        out: list[list[tuple[int, int]]] = [[] for _ in range(self.n_states)]
        for s, a, d in zip(self.src.tolist(), self.sym.tolist(), self.dst.tolist()):
            out[s].append((a, d))
        return out

    @cached_property
    def eps_out(self) -> list[list[int]]:
        """Per state, the epsilon successors."""
        return [[d for a, d in arcs if a == EPS] for arcs in self.out_arcs]

    @cached_property
    def sym_out(self) -> list[dict[int, list[int]]]:
        """Per state, symbol id -> targets of non-epsilon arcs."""
        res: list[dict[int, list[int]]] = []
        for arcs in self.out_arcs:
            table: dict[int, list[int]] = {}
            for a, d in arcs:
                if a != EPS:
                    table.setdefault(a, []).append(d)
            res.append(table)
        return res

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        """Epsilon closure of a set of states."""
        seen = set(states)
        stack = list(seen)
        eps = self.eps_out
        while stack:
            for d in eps[stack.pop()]:
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
        return frozenset(seen)

    def step(self, states: frozenset[int], a: int) -> frozenset[int]:
        """Epsilon-closed successor set of `states` on symbol id `a`."""
        sym_out = self.sym_out
        nxt: set[int] = set()
        for q in states:
            nxt.update(sym_out[q].get(a, ()))
        return self.closure(nxt)

    def accepts_ids(self, ids: Sequence[int]) -> bool:
        """Whether the word of symbol ids is accepted (ids outside 0..s-1 are rejected)."""
        cur = self.closure((self.start,))
        for a in ids:
            if not cur:
                return False
            cur = self.step(cur, a)
        return not cur.isdisjoint(self.finals)

    @cached_property
    def coaccessible(self) -> np.ndarray:
        """Boolean mask of states from which some final state can be reached."""
        rev: list[list[int]] = [[] for _ in range(self.n_states)]
        for s, d in zip(self.src.tolist(), self.dst.tolist()):
            rev[d].append(s)
        mask = np.zeros(self.n_states, dtype=bool)
        queue = deque(self.finals)
        for f in self.finals:
            mask[f] = True
        while queue:
            q = queue.popleft()
            for p in rev[q]:
                if not mask[p]:
                    mask[p] = True
                    queue.append(p)
        return mask

    @cached_property
    def accessible(self) -> np.ndarray:
        """Boolean mask of states reachable from the start."""
        mask = np.zeros(self.n_states, dtype=bool)
        mask[self.start] = True
        queue = deque([self.start])
        out = self.out_arcs
        while queue:
            for _a, d in out[queue.popleft()]:
                if not mask[d]:
                    mask[d] = True
                    queue.append(d)
        return mask

    @cached_property
    def useful(self) -> np.ndarray:
        """Boolean mask of states both accessible and co-accessible."""
        return self.accessible & self.coaccessible


def nullable(nfa: IntNFA) -> bool:
    """Whether the NFA accepts the empty word."""
    return not nfa.closure((nfa.start,)).isdisjoint(nfa.finals)


def first_symbols(nfa: IntNFA) -> frozenset[int]:
    """Symbol ids that can open a non-empty accepted word."""
    live = nfa.coaccessible
    first: set[int] = set()
    for q in nfa.closure((nfa.start,)):
        for a, targets in nfa.sym_out[q].items():
            if any(live[d] for d in targets):
                first.add(a)
    return frozenset(first)


def intersection_nonempty(a: IntNFA, b: IntNFA) -> bool:
    """Whether two NFAs over the same symbol ids share an accepted word (on-the-fly product BFS)."""
    la, lb = a.coaccessible, b.coaccessible
    start = [
        (p, q) for p in a.closure((a.start,)) for q in b.closure((b.start,)) if la[p] and lb[q]
    ]
    seen = set(start)
    queue = deque(start)
    while queue:
        p, q = queue.popleft()
        if p in a.finals and q in b.finals:
            return True
        nxt = [(d, q) for d in a.eps_out[p]] + [(p, d) for d in b.eps_out[q]]
        for sym, targets in a.sym_out[p].items():
            for d2 in b.sym_out[q].get(sym, ()):
                nxt.extend((d1, d2) for d1 in targets)
        for pair in nxt:
            if pair not in seen and la[pair[0]] and lb[pair[1]]:
                seen.add(pair)
                queue.append(pair)
    return False


def length_bounds(nfa: IntNFA) -> tuple[float, float]:
    """(shortest, longest) accepted word length; longest is inf when a useful cycle reads a symbol.

    An empty language gives (nan, nan).
    """
    useful = nfa.useful
    if not useful.any():
        return (float("nan"), float("nan"))
    # Shortest: 0-1 BFS (epsilon arcs cost 0).
    inf = float("inf")
    dist = [inf] * nfa.n_states
    dist[nfa.start] = 0
    dq: deque[int] = deque([nfa.start])
    while dq:
        q = dq.popleft()
        for a, d in nfa.out_arcs[q]:
            w = 0 if a == EPS else 1
            if dist[q] + w < dist[d]:
                dist[d] = dist[q] + w
                (dq.appendleft if w == 0 else dq.append)(d)
    shortest = min(dist[f] for f in nfa.finals)
    # Longest: longest path in the useful subgraph, infinite if a cycle there reads a symbol.
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(int(q) for q in np.flatnonzero(useful))
    weights: dict[tuple[int, int], int] = {}
    for s, a, d in zip(nfa.src.tolist(), nfa.sym.tolist(), nfa.dst.tolist()):
        if useful[s] and useful[d]:
            w = 0 if a == EPS else 1
            weights[(s, d)] = max(weights.get((s, d), 0), w)
    g.add_edges_from(weights)
    cond = nx.condensation(g)
    member = cond.graph["mapping"]
    for (s, d), w in weights.items():
        if w and member[s] == member[d]:
            return (float(shortest), inf)
    longest = {c: -inf for c in cond.nodes}
    longest[member[nfa.start]] = 0
    for c in nx.topological_sort(cond):
        if longest[c] == -inf:
            continue
        for s in cond.nodes[c]["members"]:
            for d in g.successors(s):
                if member[d] != c:
                    longest[member[d]] = max(longest[member[d]], longest[c] + weights[(s, d)])
    return (float(shortest), float(max(longest[member[f]] for f in nfa.finals if useful[f])))


def from_arcs(
    n_states: int,
    symbols: Sequence[Hashable],
    start: int,
    finals: Iterable[int],
    arcs: Iterable[tuple[int, int, int]],
) -> IntNFA:
    """Build an IntNFA from (src, symbol id or EPS, dst) triples."""
    triples = list(arcs)
    arr = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    return IntNFA(
        n_states,
        tuple(symbols),
        int(start),
        frozenset(int(f) for f in finals),
        arr[:, 0].copy(),
        arr[:, 1].copy(),
        arr[:, 2].copy(),
    )


def to_int_nfa(nfa: NFA, symbol_ids: Mapping[Hashable, int], symbols: Sequence[Hashable]) -> IntNFA:
    """The integer-array form of an NFA, with symbols numbered by `symbol_ids` (epsilon -> EPS)."""
    src: list[int] = []
    sym: list[int] = []
    dst: list[int] = []
    for i, table in enumerate(nfa.succ_table()):
        for a, targets in table.items():
            a_id = EPS if a is EPSILON else symbol_ids[a]
            for j in targets:
                src.append(i)
                sym.append(a_id)
                dst.append(j)
    return IntNFA(
        nfa.num_states,
        tuple(symbols),
        nfa.start_index,
        frozenset(nfa.final_indices),
        np.asarray(src, dtype=np.int64),
        np.asarray(sym, dtype=np.int64),
        np.asarray(dst, dtype=np.int64),
    )


def int_to_nfa(flat: IntNFA) -> NFA:
    """An NFA (states 0..n-1) over the integer form's arcs, in O(1) (no validation, lazy table).

    The arcs must be distinct (flattening guarantees it): `NFA._from_arrays` trusts them and builds
    its dict table with one numpy sort on first use.
    """
    return NFA._from_arrays(
        flat.n_states, flat.symbols, flat.src, flat.sym, flat.dst, flat.start, flat.finals
    )
