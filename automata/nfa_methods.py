"""The NFA's algorithm methods: thin delegates to the plain functions in ops, dfa, matrices, io."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx
    import scipy.sparse

    from automata.nfa import NFA, Symbol


class NFAMethods:
    """Mixin giving `NFA` method forms of the module-level algorithms (imported lazily)."""

    __slots__ = ()

    def remove_epsilons(self) -> NFA:
        """An equivalent NFA without epsilon moves, on the same states."""
        from automata.ops import remove_epsilons

        return remove_epsilons(self)

    def trim(self) -> NFA:
        """Drop states that are unreachable from the start or cannot reach a final state."""
        from automata.ops import trim

        return trim(self)

    def reverse(self) -> NFA:
        """An NFA for the reversed language (n+1 states: a new start with epsilon moves)."""
        from automata.ops import reverse

        return reverse(self)

    def determinize(self, max_states: int = 100_000, *, complete: bool = False) -> NFA:
        """Subset construction (reachable subsets only); BudgetExceededError past `max_states`."""
        from automata.dfa import determinize

        return determinize(self, max_states=max_states, complete=complete)

    def minimize(self, max_states: int = 100_000, *, complete: bool = False) -> NFA:
        """The minimal DFA (Hopcroft); partial (no sink) unless ``complete=True``."""
        from automata.dfa import minimize

        return minimize(self, max_states=max_states, complete=complete)

    def minimal_dfa_size(self, *, count_sink: bool = True, max_states: int = 100_000) -> int:
        """States of the minimal DFA: complete (sink counted) or trimmed (pynini's count)."""
        from automata.dfa import minimal_dfa_size

        return minimal_dfa_size(self, count_sink=count_sink, max_states=max_states)

    def equivalent(self, other: NFA, max_states: int = 100_000) -> bool:
        """Language equivalence (Hopcroft-Karp union-find over on-the-fly subset pairs)."""
        from automata.dfa import equivalent

        return equivalent(self, other, max_states=max_states)

    def union(self, other: NFA) -> NFA:
        """Union: m + n + 1 states (new start with epsilon moves to both starts)."""
        from automata.ops import union

        return union(self, other)

    def concatenate(self, other: NFA) -> NFA:
        """Concatenation: m + n states (epsilon moves from self's finals to other's start)."""
        from automata.ops import concatenate

        return concatenate(self, other)

    def star(self) -> NFA:
        """Kleene star: n + 1 states (new accepting start)."""
        from automata.ops import star

        return star(self)

    def intersect(self, other: NFA, max_states: int = 1_000_000) -> NFA:
        """Intersection by product: the reachable pairs only, at most m * n states."""
        from automata.ops import intersect

        return intersect(self, other, max_states=max_states)

    __or__ = union
    __and__ = intersect

    def transition_matrices(self) -> dict[Symbol, scipy.sparse.csr_matrix]:
        """Per symbol an n x n scipy CSR 0/1 matrix (row = source index); EPSILON key if used."""
        from automata.matrices import transition_matrices

        return transition_matrices(self)

    def count_words(self, max_len: int, max_states: int = 100_000) -> list[int]:
        """Exact numbers of accepted words of each length 0..max_len (words, not paths)."""
        from automata.matrices import count_words

        return count_words(self, max_len, max_states=max_states)

    def to_networkx(self) -> nx.MultiDiGraph:
        """A fresh, mutable networkx MultiDiGraph holding the whole automaton (lossless)."""
        from automata.io import to_networkx

        return to_networkx(self)

    @classmethod
    def from_networkx(cls, graph: nx.MultiDiGraph) -> NFA:
        """Rebuild an NFA from `to_networkx` output (validated)."""
        from automata.io import from_networkx

        return from_networkx(graph)

    def to_dot(self, name: str = "NFA") -> str:
        """A Graphviz DOT description (start arrow, double circles for finals, eps as 'ε')."""
        from automata.io import to_dot

        return to_dot(self, name=name)

    def to_json(self, *, indent: int | None = None) -> str:
        """A JSON document (format 'bipe-nfa', version 1); states and symbols must be str or int."""
        from automata.io import to_json

        return to_json(self, indent=indent)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict behind `to_json`."""
        from automata.io import to_dict

        return to_dict(self)

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> NFA:
        """Parse and fully validate a JSON document (or its dict) written by `to_json`."""
        from automata.io import from_json

        return from_json(data)
