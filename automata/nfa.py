"""The NFA: states, alphabet, epsilon moves, validation, acceptance and epsilon closure.

An `NFA` is immutable. Its canonical public view is a networkx `MultiDiGraph` (`nfa.graph`, edge
attribute ``symbol``, epsilon edges carry `EPSILON`), built lazily and frozen; the algorithms work on
an integer-indexed table (state index ``i`` is ``nfa.states[i]``; built by `automata.table`) with
Python ints as bitsets, because networkx traversals are far too slow in hot loops. Transitions form
a set: a repeated ``(source, symbol, target)`` triple counts once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from automata.exceptions import AlphabetError, AutomataInputError, UnknownStateError
from automata.table import (
    count_arcs,
    epsilon_closure_masks,
    table_from_arrays,
    table_from_int_edges,
    table_from_triples,
    table_to_networkx,
)
from automata.validation import (
    EPSILON,
    bits_of,
    check_alphabet,
    checked_iter,
    describe,
    index_states,
    infer_states_and_alphabet,
    lookup,
    sorted_symbols,
)

if TYPE_CHECKING:
    import networkx as nx


Symbol = Hashable
State = Hashable
Transition = tuple[Hashable, Hashable, Hashable]

__all__ = ["EPSILON", "NFA", "State", "Symbol", "Transition", "bits_of", "sorted_symbols"]


class NFA:
    """A nondeterministic finite automaton (Q, Sigma, delta, q0, F) with epsilon moves."""

    __slots__ = (
        "_alphabet",
        "_arrays",
        "_cache",
        "_final_idx",
        "_index",
        "_labels",
        "_n_trans",
        "_start",
        "_table",
    )

    def __init__(
        self,
        states: Iterable[State],
        alphabet: Iterable[Symbol],
        transitions: Iterable[Transition],
        start: State,
        finals: Iterable[State],
    ) -> None:
        """Build and fully validate an NFA; states keep the order in which `states` lists them."""
        labels, index = index_states(states)
        sigma = check_alphabet(alphabet)
        start_idx = lookup(index, start, "start state")
        final_idx = frozenset(
            lookup(index, f, "final state") for f in checked_iter(finals, "finals")
        )
        succ = table_from_triples(transitions, index, sigma)
        self._init(labels, index, sigma, succ, start_idx, final_idx)

    # ----------------------------------------------------------------- construction
    def _init(
        self,
        labels: tuple[State, ...],
        index: dict[State, int] | None,
        alphabet: frozenset[Symbol],
        succ: list[dict[Hashable, tuple[int, ...]]] | None,
        start: int,
        final_idx: frozenset[int],
        n_trans: int | None = None,
        arrays: tuple | None = None,
    ) -> None:
        self._labels = labels
        self._index = index
        self._alphabet = alphabet
        self._table = succ
        self._arrays = arrays  # (symbols, src, sym, dst) until the table is first needed
        self._start = start
        self._final_idx = final_idx
        self._n_trans = n_trans  # counted lazily: trusted fast constructors skip the pass
        self._cache: dict[str, Any] = {}

    @classmethod
    def from_transitions(
        cls,
        transitions: Iterable[Transition],
        start: State,
        finals: Iterable[State],
        alphabet: Iterable[Symbol] | None = None,
        states: Iterable[State] | None = None,
    ) -> NFA:
        """Build an NFA from triples; states (start first) and alphabet are inferred unless given."""
        triples = [
            tuple(t) if isinstance(t, list) else t for t in checked_iter(transitions, "transitions")
        ]
        finals = list(checked_iter(finals, "finals"))
        inferred_states, inferred_alphabet = infer_states_and_alphabet(triples, start, finals)
        states = inferred_states if states is None else states
        alphabet = inferred_alphabet if alphabet is None else alphabet
        return cls(states, alphabet, triples, start, finals)

    @classmethod
    def _from_int_edges(
        cls,
        num_states: int,
        alphabet: Iterable[Symbol],
        edges: Iterable[tuple[int, Hashable, int]],
        start: int,
        finals: Iterable[int],
        labels: Sequence[State] | None = None,
    ) -> NFA:
        """Trusted fast path: states are ``0..num_states-1``; edges/symbols are NOT validated."""
        succ, n_trans = table_from_int_edges(num_states, edges)
        obj = cls.__new__(cls)
        obj._init(
            tuple(range(num_states)) if labels is None else tuple(labels),
            None,
            frozenset(alphabet),
            succ,
            start,
            frozenset(finals),
            n_trans,
        )
        return obj

    @classmethod
    def _from_succ(
        cls,
        num_states: int,
        alphabet: frozenset[Symbol],
        succ: list[dict[Hashable, tuple[int, ...]]],
        start: int,
        finals: Iterable[int],
    ) -> NFA:
        """Trusted fastest path: `succ[i][symbol]` is a sorted tuple of distinct target indices."""
        obj = cls.__new__(cls)
        obj._init(tuple(range(num_states)), None, alphabet, succ, start, frozenset(finals))
        return obj

    @classmethod
    def _from_arrays(
        cls,
        num_states: int,
        symbols: Sequence[Symbol],
        src: Any,
        sym: Any,
        dst: Any,
        start: int,
        finals: Iterable[int],
        alphabet: Iterable[Symbol] | None = None,
    ) -> NFA:
        """Trusted O(1) path from integer numpy arrays of DISTINCT arcs: ``sym[k]`` indexes `symbols`
        (-1 = epsilon). The dict table is built on first use (`succ_table`, `accepts`, ...)."""
        obj = cls.__new__(cls)
        sigma = frozenset(symbols if alphabet is None else alphabet)
        arrays = (tuple(symbols), src, sym, dst)
        obj._init(
            tuple(range(num_states)), None, sigma, None, start, frozenset(finals), len(src), arrays
        )
        return obj

    @property
    def _succ(self) -> list[dict[Hashable, tuple[int, ...]]]:
        """The integer transition table, materialised from `_from_arrays` input when needed."""
        if self._table is None:
            self._table = table_from_arrays(len(self._labels), *self._arrays)
            self._arrays = None
        return self._table

    # ----------------------------------------------------------------- basic views
    @property
    def states(self) -> tuple[State, ...]:
        """The state labels; position ``i`` is the internal index of that state."""
        return self._labels

    @property
    def start(self) -> State:
        """The start state (label)."""
        return self._labels[self._start]

    @property
    def finals(self) -> frozenset[State]:
        """The final (accepting) states (labels)."""
        return frozenset(self._labels[i] for i in self._final_idx)

    @property
    def alphabet(self) -> frozenset[Symbol]:
        """The declared input alphabet (never contains `EPSILON`)."""
        return self._alphabet

    @property
    def num_states(self) -> int:
        """The number of states."""
        return len(self._labels)

    @property
    def num_transitions(self) -> int:
        """The number of distinct ``(source, symbol, target)`` transitions, epsilon moves included."""
        if self._n_trans is None:
            self._n_trans = count_arcs(self._succ)
        return self._n_trans

    @property
    def has_epsilon(self) -> bool:
        """Whether any epsilon move exists (cached)."""
        v = self._cache.get("has_eps")
        if v is None:
            v = self._cache["has_eps"] = any(EPSILON in d for d in self._succ)
        return v

    def index(self, state: State) -> int:
        """The internal index of a state label (raises UnknownStateError)."""
        return lookup(self._state_index(), state, "state")

    def _state_index(self) -> dict[State, int]:
        if self._index is None:
            self._index = {s: i for i, s in enumerate(self._labels)}
        return self._index

    def transitions(self) -> list[Transition]:
        """All transitions as ``(source, symbol, target)`` label triples, in state order."""
        lab = self._labels
        return [
            (lab[i], a, lab[j])
            for i, d in enumerate(self._succ)
            for a in sorted_symbols(d)
            for j in d[a]
        ]

    def successors(self, state: State, symbol: Symbol) -> frozenset[State]:
        """The states one `symbol` move (no closure) leads to from `state`."""
        i = self.index(state)
        return frozenset(self._labels[j] for j in self._succ[i].get(symbol, ()))

    def succ_table(self) -> list[dict[Hashable, tuple[int, ...]]]:
        """Read-only integer table: ``succ_table()[i][symbol]`` is a tuple of target indices."""
        return self._succ

    @property
    def start_index(self) -> int:
        """The internal index of the start state."""
        return self._start

    @property
    def final_indices(self) -> frozenset[int]:
        """The internal indices of the final states."""
        return self._final_idx

    # ----------------------------------------------------------------- closure and acceptance
    def _closure_masks(self) -> list[int]:
        """Per state, the bitset of its epsilon closure (cached)."""
        masks = self._cache.get("closure")
        if masks is None:
            masks = epsilon_closure_masks(self._succ)
            self._cache["closure"] = masks
        return masks

    def _closure_idx(self, idx: Iterable[int]) -> set[int]:
        if not self.has_epsilon:
            return set(idx)
        masks = self._closure_masks()
        m = 0
        for i in idx:
            m |= masks[i]
        return set(bits_of(m))

    def epsilon_closure(self, states: State | Iterable[State]) -> frozenset[State]:
        """The states reachable from `states` (one state or an iterable) by epsilon moves alone."""
        index = self._state_index()
        try:
            single = states in index
        except TypeError:
            single = False
        items = [states] if single else list(checked_iter(states, "states"))
        idx = [lookup(index, s, "state") for s in items]
        return frozenset(self._labels[i] for i in self._closure_idx(idx))

    def accepts(self, word: Iterable[Symbol], *, strict: bool = False) -> bool:
        """Whether the NFA accepts `word` (a sequence of symbols; a str is a sequence of chars).

        A symbol outside the alphabet makes the answer False (no run can read it); with
        ``strict=True`` it raises AlphabetError instead, naming the symbol.
        """
        succ = self._succ
        current = self._closure_idx([self._start])
        for a in checked_iter(word, "word"):
            try:
                known = a in self._alphabet
            except TypeError:
                raise AutomataInputError(f"symbol {a!r} is not hashable") from None
            if not known:
                if strict:
                    raise AlphabetError(
                        f"symbol {a!r} is not in the alphabet {describe(self._alphabet)}"
                    )
                return False
            nxt: set[int] = set()
            for i in current:
                ts = succ[i].get(a)
                if ts:
                    nxt.update(ts)
            if not nxt:
                return False
            current = self._closure_idx(nxt)
        return not current.isdisjoint(self._final_idx)

    def __contains__(self, word: Iterable[Symbol]) -> bool:
        return self.accepts(word)

    # ----------------------------------------------------------------- relabelling and copies
    def relabel(
        self, mapping: Mapping[State, State] | Callable[[State], State] | None = None
    ) -> NFA:
        """A copy with new state labels: ints ``0..n-1`` in state order by default, else `mapping`."""
        if mapping is None:
            new_labels = tuple(range(len(self._labels)))
        else:
            fn = mapping.__getitem__ if isinstance(mapping, Mapping) else mapping
            try:
                new_labels = tuple(fn(s) for s in self._labels)
            except KeyError as exc:
                raise UnknownStateError(
                    f"relabel mapping has no entry for state {exc.args[0]!r}"
                ) from None
            if len(set(new_labels)) != len(new_labels):
                raise AutomataInputError(
                    "relabel mapping is not injective (two states get one label)"
                )
        return self._sharing_structure(new_labels, None, self._alphabet)

    def _sharing_structure(
        self, labels: tuple[State, ...], index: dict[State, int] | None, alphabet: frozenset[Symbol]
    ) -> NFA:
        """A new NFA with these labels and alphabet over this one's (immutable) transitions."""
        obj = NFA.__new__(NFA)
        obj._init(
            labels,
            index,
            alphabet,
            self._table,
            self._start,
            self._final_idx,
            self._n_trans,
            self._arrays,
        )
        return obj

    def copy(self) -> NFA:
        """An equal, independent NFA (NFAs are immutable, so this is mostly for symmetry)."""
        return self.relabel(lambda s: s)

    def with_alphabet(self, alphabet: Iterable[Symbol]) -> NFA:
        """The same automaton over a larger declared alphabet (must contain every used symbol)."""
        sigma = check_alphabet(alphabet)
        used = {a for d in self._succ for a in d if a is not EPSILON}
        missing = used - sigma
        if missing:
            raise AlphabetError(f"new alphabet lacks used symbols {describe(missing)}")
        return self._sharing_structure(self._labels, self._index, sigma)

    # ----------------------------------------------------------------- equality and display
    def _key(self) -> tuple:
        return (
            self._labels,
            self._alphabet,
            self._start,
            self._final_idx,
            tuple(tuple(sorted(d.items(), key=lambda kv: repr(kv[0]))) for d in self._succ),
        )

    def __eq__(self, other: object) -> bool:
        """Structural equality (labels, transitions, start, finals, alphabet), not of languages."""
        if not isinstance(other, NFA):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(
            (self._labels, self._alphabet, self._start, self._final_idx, self.num_transitions)
        )

    def __repr__(self) -> str:
        return (
            f"NFA(states={self.num_states}, transitions={self.num_transitions}, "
            f"alphabet={describe(self._alphabet, 8)}, start={self.start!r}, finals={len(self._final_idx)})"
        )

    def is_deterministic(self) -> bool:
        """No epsilon moves and at most one target per (state, symbol): a (partial) DFA."""
        return all(EPSILON not in d and all(len(t) == 1 for t in d.values()) for d in self._succ)

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The frozen networkx view of this NFA (built once, on first use)."""
        g = self._cache.get("graph")
        if g is None:
            import networkx as nx

            parts = (self._labels, self._alphabet, self._succ, self._start, self._final_idx)
            g = self._cache["graph"] = nx.freeze(table_to_networkx(*parts))
        return g
