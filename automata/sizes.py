"""Size reports of Bi-NFAs: every size a form of the Bi-NFA theorem could be stated in.

See docs/theory.md section 5 for what each field means.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any, Protocol

from automata.dfa import minimize
from automata.exceptions import BudgetExceededError
from automata.intnfa import IntNFA, first_symbols, intersection_nonempty, length_bounds, nullable
from automata.limits import MAX_DFA_BUDGET, check_flat_size, check_int
from automata.nfa import NFA


class BilevelAutomaton(Protocol):
    """What a size report reads of a Bi-NFA: a structural type, as `automata.binfa` imports us."""

    @property
    def top(self) -> NFA: ...
    @property
    def bottoms(self) -> Mapping[Hashable, NFA]: ...
    @property
    def alphabet(self) -> frozenset[Hashable]: ...
    @property
    def types(self) -> tuple[Hashable, ...]: ...
    @property
    def symbols(self) -> tuple[Hashable, ...]: ...
    @property
    def int_top(self) -> IntNFA: ...
    @property
    def int_bottoms(self) -> tuple[IntNFA, ...]: ...
    def flatten(self) -> NFA: ...
    def needed_pairs(self) -> list[tuple[int, int]]: ...
    def flat_size(self) -> tuple[int, int]: ...


@dataclass
class SizeReport:
    """Sizes of a Bi-NFA, its flattening and its minimal DFA (None where over budget)."""

    n_types: int
    alphabet_size: int
    top_states: int
    top_transitions: int
    bottom_states: dict[str, int]
    bottom_transitions: dict[str, int]
    bottom_finals: dict[str, int]
    needed_pairs: int
    flat_states: int
    flat_transitions: int
    naive_flat_states: int
    min_dfa_states: int | None
    min_dfa_states_with_sink: int | None
    min_dfa_reason: str
    marking: str
    first_tokens: dict[str, list[str]] = field(default_factory=dict)
    segment_length_bounds: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def bottom_states_total(self) -> int:
        """Sum of the bottom state counts over the types."""
        return sum(self.bottom_states.values())

    @property
    def bottom_states_max(self) -> int:
        """The largest bottom state count."""
        return max(self.bottom_states.values())

    @property
    def marked(self) -> bool:
        """Whether every segment opens with a token naming its type."""
        return self.marking == "marked"

    @property
    def max_segment_length(self) -> float:
        """The longest segment any type accepts (inf when some bottom loops)."""
        return max(hi for _, hi in self.segment_length_bounds.values())

    def as_row(self) -> dict[str, Any]:
        """One flat dict (CSV row) with the scalar sizes and totals."""
        row = {k: v for k, v in asdict(self).items() if not isinstance(v, dict)}
        row["bottom_states_total"] = self.bottom_states_total
        row["bottom_states_max"] = self.bottom_states_max
        row["max_segment_length"] = self.max_segment_length
        return row

    def __str__(self) -> str:
        dfa = (
            f"{self.min_dfa_states} (no sink) / {self.min_dfa_states_with_sink} (with sink)"
            if self.min_dfa_states is not None
            else f"n/a ({self.min_dfa_reason})"
        )
        bounds = ", ".join(
            f"{g}: [{_fmt(lo)}, {_fmt(hi)}]" for g, (lo, hi) in self.segment_length_bounds.items()
        )
        return "\n".join(
            [
                f"types |Gamma| = {self.n_types}, tokens |Sigma| = {self.alphabet_size}",
                f"top: {self.top_states} states, {self.top_transitions} transitions",
                f"bottoms (states): {self.bottom_states}",
                f"bottoms (transitions): {self.bottom_transitions}",
                f"flattened NFA: {self.flat_states} states, {self.flat_transitions} transitions "
                f"({self.needed_pairs} copies; naive per-transition: {self.naive_flat_states})",
                f"minimal DFA: {dfa}",
                f"marking: {self.marking}; segment lengths: {bounds}",
            ]
        )


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "empty"
    return "inf" if math.isinf(x) else str(int(x))


def minimal_dfa_sizes(nfa: NFA, max_states: int) -> tuple[int, int]:
    """(states without sink, states with sink) of the minimal DFA over the NFA's alphabet.

    Without sink = the trimmed minimal DFA (0 for the empty language, pynini's count); with sink =
    the minimal complete DFA (adds the dead state exactly when some state misses a symbol).
    """
    dfa = minimize(nfa, max_states=max_states)
    if not dfa.final_indices:
        return 0, 1
    sigma = nfa.alphabet
    complete = all(set(row) >= sigma for row in dfa.succ_table())
    return dfa.num_states, dfa.num_states + (0 if complete else 1)


def marking(binfa: BilevelAutomaton) -> tuple[str, dict[str, list[str]]]:
    """'marked' (first tokens name the type), 'unambiguous' (disjoint languages) or 'ambiguous'."""
    bottoms = binfa.int_bottoms
    firsts = [first_symbols(b) for b in bottoms]
    shown = {
        str(g): [str(binfa.symbols[a]) for a in sorted(f)] for g, f in zip(binfa.types, firsts)
    }
    nonempty = [b.coaccessible[b.start] for b in bottoms]
    if not any(nullable(b) for b in bottoms) and all(
        firsts[i].isdisjoint(firsts[j]) for i, j in combinations(range(len(bottoms)), 2)
    ):
        return "marked", shown
    for i, j in combinations(range(len(bottoms)), 2):
        if nonempty[i] and nonempty[j] and intersection_nonempty(bottoms[i], bottoms[j]):
            return "ambiguous", shown
    return "unambiguous", shown


def size_report(binfa: BilevelAutomaton, max_dfa_states: int = 20_000) -> SizeReport:
    """Build the SizeReport of a Bi-NFA (flattening it; minimal DFA only within the budget).

    The budget and the flattened size are checked first (AutomatonTooLargeError over a limit):
    a file's Bi-NFA is bounded like a family's."""
    check_int("max_dfa_states", max_dfa_states, 1, MAX_DFA_BUDGET)
    check_flat_size(binfa)
    top = binfa.top
    bottoms = {str(g): binfa.bottoms[g] for g in binfa.types}
    flat = binfa.flatten()
    pairs = binfa.needed_pairs()
    int_top = binfa.int_top
    naive = top.num_states + sum(
        binfa.int_bottoms[t].n_states for t in int_top.sym.tolist() if t >= 0
    )
    reason = ""
    try:
        dfa, dfa_sink = minimal_dfa_sizes(flat, max_dfa_states)
    except BudgetExceededError as exc:
        dfa = dfa_sink = None
        reason = f"determinisation over budget of {max_dfa_states} states ({exc})"
    mark, firsts = marking(binfa)
    return SizeReport(
        n_types=len(binfa.types),
        alphabet_size=len(binfa.alphabet),
        top_states=top.num_states,
        top_transitions=top.num_transitions,
        bottom_states={g: b.num_states for g, b in bottoms.items()},
        bottom_transitions={g: b.num_transitions for g, b in bottoms.items()},
        bottom_finals={g: len(b.finals) for g, b in bottoms.items()},
        needed_pairs=len(pairs),
        flat_states=flat.num_states,
        flat_transitions=flat.num_transitions,
        naive_flat_states=naive,
        min_dfa_states=dfa,
        min_dfa_states_with_sink=dfa_sink,
        min_dfa_reason=reason,
        marking=mark,
        first_tokens=firsts,
        segment_length_bounds={
            str(g): length_bounds(b) for g, b in zip(binfa.types, binfa.int_bottoms)
        },
    )
