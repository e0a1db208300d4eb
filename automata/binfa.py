"""The bilevel NFA (Bi-NFA): a top NFA over segment types, one bottom NFA per type, a separator.

See docs/theory.md for the formalism. A Bi-NFA accepts w1 # w2 # ... wk # when some top word
g1 ... gk has every wi accepted by the bottom automaton of gi. `flatten` builds the equivalent
ordinary NFA with exactly m + sum of n_g over the needed (target state, type) pairs.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Mapping
from functools import cached_property
from typing import Any

import numpy as np

from automata.exceptions import (
    AlphabetError,
    AutomataError,
    AutomataFormatError,
    AutomataInputError,
    EmptyAutomatonError,
    SeparatorError,
)
from automata.flatten import BottomBank, flatten_arrays, pairs_and_inverse
from automata.intnfa import IntNFA, int_to_nfa, to_int_nfa
from automata.io import from_json as nfa_from_json
from automata.io import read_document
from automata.io import to_dict as nfa_to_dict
from automata.nfa import EPSILON, NFA, sorted_symbols
from automata.sizes import SizeReport, size_report

JSON_FORMAT = "bipe-binfa"
JSON_VERSION = 1


def _describe(items: Iterable[Hashable]) -> str:
    return "{" + ", ".join(repr(x) for x in sorted_symbols(items)) + "}"


def _check_parts(top: object, bottoms: object) -> None:
    """The top automaton and every bottom automaton must be NFAs, the bottoms in a mapping."""
    if not isinstance(top, NFA):
        raise AutomataInputError(f"top must be an automata.NFA, got {type(top).__name__}")
    if not isinstance(bottoms, Mapping):
        raise AutomataInputError(
            f"bottoms must be a mapping type -> NFA, got {type(bottoms).__name__}"
        )
    for g, b in bottoms.items():
        if not isinstance(b, NFA):
            raise AutomataInputError(
                f"bottom automaton of type {g!r} must be an automata.NFA, got {type(b).__name__}"
            )


def _check_segment_types(types: frozenset[Hashable], bottoms: Mapping[Hashable, NFA]) -> None:
    """The segment types (the top alphabet) must be non-empty and be exactly the bottoms' keys."""
    if not types:
        raise EmptyAutomatonError(
            "the top automaton has an empty alphabet: a Bi-NFA needs at least one segment type"
        )
    missing = [g for g in types if g not in bottoms]
    if missing:
        raise AlphabetError(
            f"segment types {_describe(missing)} have no bottom automaton; "
            f"bottoms are given for {_describe(bottoms)}"
        )
    extra = [g for g in bottoms if g not in types]
    if extra:
        raise AlphabetError(
            f"bottom automata given for {_describe(extra)}, which are not segment types of the "
            f"top automaton (its alphabet is {_describe(types)})"
        )


def _token_alphabet(
    bottoms: Mapping[Hashable, NFA], alphabet: Iterable[Hashable] | None
) -> frozenset[Hashable]:
    """Sigma: `alphabet` if given (it must cover every bottom), else the union of the bottoms'."""
    if alphabet is None:
        sigma = frozenset().union(*(b.alphabet for b in bottoms.values()))
    else:
        if isinstance(alphabet, str):
            alphabet = list(alphabet)
        try:
            sigma = frozenset(alphabet)
        except TypeError:
            raise AutomataInputError("alphabet symbols must be hashable") from None
        for g, b in bottoms.items():
            outside = b.alphabet - sigma
            if outside:
                raise AlphabetError(
                    f"bottom automaton of type {g!r} uses symbols {_describe(outside)} outside "
                    f"the alphabet {_describe(sigma)}"
                )
    if not sigma:
        raise EmptyAutomatonError("the token alphabet is empty: no bottom automaton reads a symbol")
    return sigma


def _check_separator(separator: Hashable, sigma: frozenset[Hashable]) -> None:
    """The separator must be hashable, not the epsilon marker, and outside Sigma."""
    try:
        hash(separator)
    except TypeError:
        raise AutomataInputError(f"separator {separator!r} is not hashable") from None
    if separator is EPSILON:
        raise SeparatorError("the separator must not be the epsilon marker None")
    if separator in sigma:
        raise SeparatorError(
            f"separator {separator!r} lies inside the token alphabet {_describe(sigma)}; "
            "choose a symbol outside it"
        )


class BiNFA:
    """A bilevel NFA: `top` over segment types, `bottoms[type]` over `alphabet`, and `separator`."""

    def __init__(
        self,
        top: NFA,
        bottoms: Mapping[Hashable, NFA],
        separator: Hashable = "#",
        alphabet: Iterable[Hashable] | None = None,
    ) -> None:
        """Validate and build; `alphabet` defaults to the union of the bottom alphabets."""
        _check_parts(top, bottoms)
        _check_segment_types(top.alphabet, bottoms)
        sigma = _token_alphabet(bottoms, alphabet)
        _check_separator(separator, sigma)
        self._top = top
        self._bottoms = {g: b.with_alphabet(sigma) for g, b in bottoms.items()}
        self._separator = separator
        self._alphabet = sigma

    # ------------------------------------------------------------------ views
    @property
    def top(self) -> NFA:
        """The top-level NFA over the segment types."""
        return self._top

    @property
    def bottoms(self) -> dict[Hashable, NFA]:
        """A copy of the mapping type -> bottom NFA over the token alphabet."""
        return dict(self._bottoms)

    @property
    def separator(self) -> Hashable:
        """The separator symbol (outside the token alphabet)."""
        return self._separator

    @property
    def alphabet(self) -> frozenset[Hashable]:
        """The token alphabet Sigma (without the separator)."""
        return self._alphabet

    @cached_property
    def symbols(self) -> tuple[Hashable, ...]:
        """Sigma in a fixed order followed by the separator: symbol id i is `symbols[i]`."""
        return (*sorted_symbols(self._alphabet), self._separator)

    @cached_property
    def types(self) -> tuple[Hashable, ...]:
        """The segment types Gamma in a fixed order: type id t is `types[t]`."""
        return tuple(sorted_symbols(self._top.alphabet))

    @cached_property
    def symbol_ids(self) -> dict[Hashable, int]:
        """Symbol -> id (the separator is the last id)."""
        return {a: i for i, a in enumerate(self.symbols)}

    @cached_property
    def int_top(self) -> IntNFA:
        """The top NFA in integer form over type ids."""
        ids = {g: t for t, g in enumerate(self.types)}
        return to_int_nfa(self._top, ids, self.types)

    @cached_property
    def int_bottoms(self) -> tuple[IntNFA, ...]:
        """The bottom NFAs in integer form (indexed by type id) over symbol ids."""
        return tuple(
            to_int_nfa(self._bottoms[g], self.symbol_ids, self.symbols) for g in self.types
        )

    def __eq__(self, other: object) -> bool:
        """Structural equality: same top, bottoms, separator and alphabet (not language equality)."""
        if not isinstance(other, BiNFA):
            return NotImplemented
        return (
            self._top == other._top
            and self._bottoms == other._bottoms
            and self._separator == other._separator
            and self._alphabet == other._alphabet
        )

    def __hash__(self) -> int:
        return hash((self._top, self._separator, self._alphabet, len(self._bottoms)))

    def __repr__(self) -> str:
        sizes = ", ".join(f"{g!r}: {self._bottoms[g].num_states}" for g in self.types)
        return (
            f"BiNFA(top_states={self._top.num_states}, types={len(self.types)}, "
            f"bottom_states={{{sizes}}}, alphabet_size={len(self._alphabet)}, "
            f"separator={self._separator!r})"
        )

    # ------------------------------------------------------------------ membership
    def split(self, word: Iterable[Hashable], *, strict: bool = False) -> list[list[int]] | None:
        """The segments of `word` as symbol-id lists, or None if it is not w1 # ... wk # over Sigma."""
        if isinstance(word, (bytes, bytearray)) or not isinstance(word, Iterable):
            raise AutomataInputError(
                f"a word must be an iterable of symbols, got {type(word).__name__}"
            )
        ids = self.symbol_ids
        sep_id = len(self.symbols) - 1
        segments: list[list[int]] = []
        cur: list[int] = []
        for a in word:
            try:
                i = ids.get(a)
            except TypeError:
                raise AutomataInputError(f"symbol {a!r} is not hashable") from None
            if i is None:
                if strict:
                    raise AlphabetError(
                        f"symbol {a!r} is neither in the alphabet {_describe(self._alphabet)} "
                        f"nor the separator {self._separator!r}"
                    )
                return None
            if i == sep_id:
                segments.append(cur)
                cur = []
            else:
                cur.append(i)
        return segments if not cur else None

    def accepts(self, word: Iterable[Hashable], *, strict: bool = False) -> bool:
        """Direct membership, without flattening: dynamic programming over sets of top states.

        A symbol outside Sigma and the separator makes the answer False (AlphabetError when
        ``strict=True``), like `NFA.accepts`.
        """
        segments = self.split(word, strict=strict)
        if segments is None:
            return False
        top, bottoms = self.int_top, self.int_bottoms
        current = top.closure((top.start,))
        for seg in segments:
            memo: dict[int, bool] = {}
            nxt: set[int] = set()
            for p in current:
                for t, targets in top.sym_out[p].items():
                    ok = memo.get(t)
                    if ok is None:
                        ok = memo[t] = bottoms[t].accepts_ids(seg)
                    if ok:
                        nxt.update(targets)
            if not nxt:
                return False
            current = top.closure(nxt)
        return not current.isdisjoint(top.finals)

    def __contains__(self, word: Iterable[Hashable]) -> bool:
        return self.accepts(word)

    # ------------------------------------------------------------------ flattening
    def needed_pairs(self) -> list[tuple[int, int]]:
        """The (target top state index, type id) pairs that get a copy of a bottom automaton."""
        pairs, _ = pairs_and_inverse(self.int_top)
        return [(int(p), int(t)) for p, t in pairs]

    def flat_size(self) -> tuple[int, int]:
        """(states, transitions) of `flatten()`, computed without building it."""
        top, bottoms = self.int_top, self.int_bottoms
        pairs = self.needed_pairs()
        states = top.n_states + sum(bottoms[t].n_states for _, t in pairs)
        arcs = top.n_arcs + sum(bottoms[t].n_arcs + len(bottoms[t].finals) for _, t in pairs)
        return states, arcs

    @cached_property
    def _bottom_bank(self) -> BottomBank:
        """Every bottom NFA's arcs and finals in one block each (see `automata.flatten`)."""
        return BottomBank.of(self.int_bottoms)

    def flatten_arrays(self) -> tuple[IntNFA, np.ndarray]:
        """The flattened NFA in integer form and, per flat state, its copy index (-1 = top state).

        Top states keep their indices 0..m-1; copy c of pair (p', t) occupies a contiguous block.
        """
        return flatten_arrays(self.int_top, self._bottom_bank, self.symbols)

    def flatten(self, *, labels: bool = False) -> NFA:
        """The equivalent ordinary NFA over Sigma + {separator} (states 0..N-1, tops first).

        With ``labels=True`` states are labelled ("top", p) and ("seg", p', g, q) instead of ints.
        """
        flat, copy_of = self.flatten_arrays()
        nfa = int_to_nfa(flat)  # O(1): the dict table is built only if a later call needs it
        if labels:
            nfa = nfa.relabel(self._flat_labels(flat.n_states, copy_of).__getitem__)
        return nfa

    def _flat_labels(self, n: int, copy_of: np.ndarray) -> list[Hashable]:
        tops = self._top.states
        pairs = self.needed_pairs()
        out: list[Hashable] = [("top", p) for p in tops]
        for p, t in pairs:
            g = self.types[t]
            out.extend(("seg", tops[p], g, q) for q in self._bottoms[g].states)
        assert len(out) == n and int((copy_of >= 0).sum()) == n - len(tops)
        return out

    # ------------------------------------------------------------------ reports and JSON
    def size_report(self, max_dfa_states: int = 20_000) -> SizeReport:
        """Sizes of every part (see docs/theory.md section 5); minimal DFA within the budget."""
        return size_report(self, max_dfa_states=max_dfa_states)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (format 'bipe-binfa' v1); types/symbols must be str or int."""
        for x in (*self.types, *self.symbols):
            if isinstance(x, bool) or not isinstance(x, (str, int)):
                raise AutomataError(
                    f"symbol or type {x!r} cannot be written to JSON (only str or int)"
                )
        return {
            "format": JSON_FORMAT,
            "version": JSON_VERSION,
            "separator": self._separator,
            "alphabet": list(self.symbols[:-1]),
            "top": nfa_to_dict(self._top),
            "bottoms": [[g, nfa_to_dict(self._bottoms[g])] for g in self.types],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """Serialise to a JSON string."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> BiNFA:
        """Parse and fully validate a `to_json` document (or its dict)."""
        data = read_document(
            data,
            what="a Bi-NFA document",
            fmt=JSON_FORMAT,
            version=JSON_VERSION,
            required=("separator", "alphabet", "top", "bottoms"),
        )
        sep, alphabet, raw = data["separator"], data["alphabet"], data["bottoms"]
        if isinstance(sep, bool) or not isinstance(sep, (str, int)):
            raise AutomataFormatError(f"'separator' must be a string or integer, got {sep!r}")
        if not isinstance(alphabet, list) or any(
            isinstance(a, bool) or not isinstance(a, (str, int)) for a in alphabet
        ):
            raise AutomataFormatError("'alphabet' must be a list of strings or integers")
        if not isinstance(raw, list) or any(not isinstance(x, list) or len(x) != 2 for x in raw):
            raise AutomataFormatError("'bottoms' must be a list of [type, NFA document] pairs")
        try:
            top = nfa_from_json(data["top"])
        except AutomataError as exc:
            raise AutomataFormatError(f"top automaton: {exc}") from None
        bottoms: dict[Hashable, NFA] = {}
        for g, doc in raw:
            if isinstance(g, bool) or not isinstance(g, (str, int)) or g in bottoms:
                raise AutomataFormatError(f"bottom type {g!r} is not a str/int or is repeated")
            try:
                bottoms[g] = nfa_from_json(doc)
            except AutomataError as exc:
                raise AutomataFormatError(f"bottom automaton of type {g!r}: {exc}") from None
        return cls(top, bottoms, separator=sep, alphabet=alphabet)


def worked_example() -> BiNFA:
    """The statement/comment example of docs/theory.md section 4 (7 flattened states)."""
    top = NFA(
        ["p0", "p1"],
        ["C", "S"],
        [("p0", "S", "p0"), ("p0", "C", "p1"), ("p1", "S", "p0")],
        "p0",
        ["p0"],
    )
    b_s = NFA(["s0", "s1"], "ab", [("s0", "a", "s1"), ("s1", "b", "s1")], "s0", ["s1"])
    b_c = NFA(["c0", "c1", "c2"], "c", [("c0", "c", "c1"), ("c1", "c", "c2")], "c0", ["c1", "c2"])
    return BiNFA(top, {"S": b_s, "C": b_c}, separator="#", alphabet="abc")
