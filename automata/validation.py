"""Input checks and bitset helpers shared by the NFA constructor and the algorithms."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from automata.exceptions import (
    AlphabetError,
    AutomataInputError,
    EmptyAutomatonError,
    UnknownStateError,
)

EPSILON: None = None
"""The epsilon marker: the ``symbol`` of an epsilon move (never a member of an alphabet)."""


def sorted_symbols(symbols: Iterable[Hashable]) -> list[Hashable]:
    """Sort symbols (or states) deterministically, even when they mix types (str and int)."""
    items = list(symbols)
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=lambda s: (type(s).__name__, repr(s)))


def describe(items: Iterable[Hashable], limit: int = 12) -> str:
    """A short sorted listing like "{'a', 'b', ...}" for error messages."""
    shown = sorted_symbols(items)
    text = ", ".join(repr(s) for s in shown[:limit])
    return "{" + text + (", ..." if len(shown) > limit else "") + "}"


def bits_of(mask: int) -> list[int]:
    """The indices of the set bits of a non-negative int, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def checked_iter(value: Any, what: str) -> Iterable[Any]:
    """`value` itself if it is a usable iterable (not bytes), else AutomataInputError naming `what`."""
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise AutomataInputError(f"{what} must be an iterable, got {type(value).__name__}")
    return value


def lookup(index: Mapping[Hashable, int], state: Any, what: str) -> int:
    """The index of `state`, or UnknownStateError / AutomataInputError naming `what`."""
    try:
        return index[state]
    except KeyError:
        raise UnknownStateError(f"{what} {state!r} is not a state of the automaton") from None
    except TypeError:
        raise AutomataInputError(f"{what} {state!r} is not hashable") from None


def index_states(states: Iterable[Hashable]) -> tuple[tuple[Hashable, ...], dict[Hashable, int]]:
    """Number the distinct states in order; None is refused (networkx cannot hold it as a node)."""
    index: dict[Hashable, int] = {}
    for s in checked_iter(states, "states"):
        try:
            index.setdefault(s, len(index))
        except TypeError:
            raise AutomataInputError(f"state {s!r} is not hashable") from None
    if None in index:
        raise AutomataInputError(
            "None cannot be a state (networkx refuses it as a node); relabel it"
        )
    if not index:
        raise EmptyAutomatonError("an automaton needs at least one state (its start state)")
    return tuple(index), index


def check_alphabet(alphabet: Iterable[Hashable]) -> frozenset[Hashable]:
    """The alphabet as a frozenset (a str means its characters); refuses EPSILON and unhashables."""
    if isinstance(alphabet, str):  # "ab" would silently mean {'a', 'b'}: accept it, it is common
        alphabet = list(alphabet)
    items = list(checked_iter(alphabet, "alphabet"))
    try:
        sigma = frozenset(items)
    except TypeError:
        bad = next(a for a in items if not isinstance(a, Hashable))
        raise AutomataInputError(f"alphabet symbol {bad!r} is not hashable") from None
    if EPSILON in sigma:
        raise AlphabetError("the alphabet must not contain the epsilon marker EPSILON (None)")
    return sigma


def freeze_succ(succ: list[dict[Hashable, Any]]) -> list[dict[Hashable, tuple[int, ...]]]:
    """Turn a table of target sets into the canonical sorted-tuple form."""
    return [{a: tuple(sorted(ts)) for a, ts in d.items()} for d in succ]


def epsilon_closure_masks(succ: list[dict[Hashable, tuple[int, ...]]]) -> list[int]:
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
            if low[v] != index[v]:
                continue
            comp = []
            while True:
                w = stack.pop()
                on_stack[w] = False
                comp.append(w)
                if w == v:
                    break
            m = 0
            for w in comp:
                m |= 1 << w
            for w in comp:
                for x in eps[w]:
                    m |= masks[x]  # 0 for members of this component (not assigned yet)
            for w in comp:
                masks[w] = m
    return masks


def table_from_arrays(
    n: int, symbols: tuple, src: Any, sym: Any, dst: Any
) -> list[dict[Hashable, tuple[int, ...]]]:
    """Group distinct integer arcs (numpy arrays; sym -1 = epsilon) into ``table[i][symbol]`` tuples
    with one lexsort, so the Python loop runs once per (state, symbol) group, not per arc."""
    import numpy as np

    src, sym, dst = (np.asarray(x, dtype=np.int64) for x in (src, sym, dst))
    table: list[dict[Hashable, tuple[int, ...]]] = [{} for _ in range(n)]
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
