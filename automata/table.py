"""The NFA's integer successor table: building it from triples, int edges or arrays, closures, and
the networkx graph of a table.

The table is ``table[i][symbol] = (j1, j2, ...)``: per state index a dict from symbol (`EPSILON`
for epsilon moves) to a sorted tuple of distinct target indices. Every NFA constructor ends here;
the algorithms read it through `NFA.succ_table()`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from automata.exceptions import AlphabetError, AutomataInputError
from automata.validation import EPSILON, checked_iter, describe, lookup

if TYPE_CHECKING:
    import networkx as nx

Table = list[dict[Hashable, tuple[int, ...]]]


def freeze_succ(succ: list[dict[Hashable, Any]]) -> Table:
    """Turn a table of target sets (or lists) into the canonical sorted-tuple form."""
    return [{a: tuple(sorted(set(ts))) for a, ts in d.items()} for d in succ]


def table_from_triples(
    transitions: Iterable[Any], index: Mapping[Hashable, int], sigma: frozenset[Hashable]
) -> Table:
    """The table of label triples ``(source, symbol, target)``, checked against states and alphabet.

    `index` maps a label to its state index; errors name the offending triple.
    """
    succ: list[dict[Hashable, set[int]]] = [{} for _ in index]
    for t in checked_iter(transitions, "transitions"):
        if not isinstance(t, tuple | list) or len(t) != 3:
            raise AutomataInputError(
                f"a transition must be a (source, symbol, target) triple, got {t!r}"
            )
        p, a, q = t
        i = lookup(index, p, f"source of transition {tuple(t)!r}")
        j = lookup(index, q, f"target of transition {tuple(t)!r}")
        if a is not EPSILON and a not in sigma:
            raise AlphabetError(
                f"symbol {a!r} of transition {tuple(t)!r} is not in the alphabet "
                f"{describe(sigma)} (epsilon moves use EPSILON = None)"
            )
        succ[i].setdefault(a, set()).add(j)
    return freeze_succ(succ)


def table_from_int_edges(
    num_states: int, edges: Iterable[tuple[int, Hashable, int]]
) -> tuple[Table, int]:
    """The table of trusted ``(int, symbol, int)`` edges (duplicates allowed) and its arc count."""
    succ: list[dict[Hashable, Any]] = [{} for _ in range(num_states)]
    for p, a, q in edges:
        d = succ[p]
        ts = d.get(a)
        if ts is None:
            d[a] = [q]
        else:
            ts.append(q)
    n_trans = 0
    for d in succ:
        for a, ts in d.items():
            if len(ts) > 1:
                ts = sorted(set(ts))
            d[a] = tuple(ts)
            n_trans += len(ts)
    return succ, n_trans


def count_arcs(table: Table) -> int:
    """The number of distinct transitions in a table."""
    return sum(len(ts) for d in table for ts in d.values())


def epsilon_closure_masks(succ: Table) -> list[int]:
    """Per state, the bitset of states reachable by epsilon moves (itself included).

    Iterative Tarjan over the epsilon graph: SCCs come out in reverse topological order, so each
    component ORs the finished masks of its successors once (linear in moves, no O(n^2) re-walks).
    """
    n = len(succ)
    eps = [d.get(EPSILON, ()) for d in succ]
    masks = [0] * n
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    counter = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        if not eps[root]:
            index[root] = counter
            counter += 1
            masks[root] = 1 << root
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, 0)]
        while work:
            v, i = work[-1]
            targets = eps[v]
            if i < len(targets):
                work[-1] = (v, i + 1)
                w = targets[i]
                if index[w] < 0:
                    index[w] = counter
                    counter += 1
                    if not eps[w]:  # a sink of the epsilon graph: its own finished component
                        masks[w] = 1 << w
                    else:
                        low[w] = index[w]
                        stack.append(w)
                        on_stack[w] = True
                        work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                _finish_component(v, stack, on_stack, eps, masks)
    return masks


def _finish_component(
    root: int, stack: list[int], on_stack: list[bool], eps: list[tuple[int, ...]], masks: list[int]
) -> None:
    """Pop the SCC rooted at `root` off Tarjan's stack and give each member the SCC's closure."""
    comp = []
    while True:
        w = stack.pop()
        on_stack[w] = False
        comp.append(w)
        if w == root:
            break
    m = 0
    for w in comp:
        m |= 1 << w
    for w in comp:
        for x in eps[w]:
            m |= masks[x]  # 0 for members of this component (not assigned yet)
    for w in comp:
        masks[w] = m


def table_from_arrays(n: int, symbols: tuple, src: Any, sym: Any, dst: Any) -> Table:
    """Group distinct integer arcs (numpy arrays; sym -1 = epsilon) into ``table[i][symbol]``.

    One lexsort first, so the Python loop runs once per (state, symbol) group, not per arc.
    """
    import numpy as np

    src, sym, dst = (np.asarray(x, dtype=np.int64) for x in (src, sym, dst))
    table: Table = [{} for _ in range(n)]
    if src.size == 0:
        return table
    width = len(symbols) + 1
    names = [*symbols, EPSILON]  # index -1 picks EPSILON
    key = src * width + (sym + 1)
    order = np.lexsort((dst, key))
    k = key[order]
    targets = tuple(dst[order].tolist())  # tuple slices are tuples: one allocation per group
    cut = np.flatnonzero(k[1:] != k[:-1]) + 1
    lo = np.concatenate([[0], cut])
    hi = np.concatenate([cut, [k.size]]).tolist()
    heads = k[lo]
    for s, a, i, j in zip((heads // width).tolist(), (heads % width - 1).tolist(), lo.tolist(), hi):
        table[s][names[a]] = targets[i:j]
    return table


def table_to_networkx(
    labels: tuple[Hashable, ...],
    alphabet: frozenset[Hashable],
    table: Table,
    start: int,
    finals: frozenset[int],
) -> nx.MultiDiGraph:
    """The MultiDiGraph of an NFA's parts, shaped as `automata.io.to_networkx` documents.

    It lives here, below `automata.nfa`, because both `NFA.graph` and `automata.io` need it.
    """
    import networkx as nx  # lazily, like NFA.graph: most uses of the table never need networkx

    g = nx.MultiDiGraph(
        start=labels[start],
        finals=frozenset(labels[i] for i in finals),
        alphabet=alphabet,
    )
    g.add_nodes_from((s, {"start": i == start, "final": i in finals}) for i, s in enumerate(labels))
    g.add_edges_from(
        (labels[i], labels[j], {"symbol": a})
        for i, d in enumerate(table)
        for a, ts in d.items()
        for j in ts
    )
    return g
