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
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise AutomataInputError(f"{what} must be an iterable, got {type(value).__name__}")
    return value


def lookup(index: Mapping[Hashable, int], state: Any, what: str) -> int:
    try:
        return index[state]
    except KeyError:
        raise UnknownStateError(f"{what} {state!r} is not a state of the automaton") from None
    except TypeError:
        raise AutomataInputError(f"{what} {state!r} is not hashable") from None


def index_states(states: Iterable[Hashable]) -> tuple[tuple[Hashable, ...], dict[Hashable, int]]:
    index: dict[Hashable, int] = {}
    for s in checked_iter(states, "states"):
        try:
            index.setdefault(s, len(index))
        except TypeError:
            raise AutomataInputError(f"state {s!r} is not hashable") from None
    if not index:
        raise EmptyAutomatonError("an automaton needs at least one state (its start state)")
    return tuple(index), index


def check_alphabet(alphabet: Iterable[Hashable]) -> frozenset[Hashable]:
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
    return [{a: tuple(sorted(ts)) for a, ts in d.items()} for d in succ]


def epsilon_closure_masks(succ: list[dict[Hashable, tuple[int, ...]]]) -> list[int]:
    """Per state, the bitset of states reachable by epsilon moves (itself included)."""
    n = len(succ)
    masks = [1 << i for i in range(n)]
    eps = [d.get(EPSILON, ()) for d in succ]
    for i in range(n):
        if not eps[i]:
            continue
        seen = 1 << i
        stack = [i]
        while stack:
            p = stack.pop()
            for q in eps[p]:
                if not (seen >> q) & 1:
                    seen |= 1 << q
                    stack.append(q)
        masks[i] = seen
    return masks
