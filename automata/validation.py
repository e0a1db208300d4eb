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


def infer_states_and_alphabet(
    triples: list[Any], start: Hashable, finals: list[Hashable]
) -> tuple[list[Hashable], set[Hashable]]:
    """States (start first, then in order of appearance) and symbols used by label triples.

    Malformed triples are skipped here: the NFA constructor reports them with their position.
    """
    seen: dict[Hashable, None] = {}
    items = [start]
    for t in triples:
        if isinstance(t, tuple) and len(t) == 3:
            items += (t[0], t[2])
    items += finals
    for s in items:
        try:
            seen.setdefault(s)
        except TypeError:
            raise AutomataInputError(f"state {s!r} is not hashable") from None
    symbols: set[Hashable] = set()
    for t in triples:
        if isinstance(t, tuple) and len(t) == 3:
            try:
                symbols.add(t[1])
            except TypeError:
                raise AutomataInputError(f"symbol {t[1]!r} is not hashable") from None
    symbols.discard(EPSILON)
    return list(seen), symbols
