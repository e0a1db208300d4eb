"""Samplers of Bi-NFA languages: a fast hierarchical sampler with per-token annotations, an exactly
uniform-by-length sampler, and negative examples.

The hierarchical sampler picks a top word of the requested number of segments (uniform among top
words of that length), a length per segment from the length distribution (restricted to lengths its
type accepts), then a segment uniform among the bottom words of that length. Each token is annotated
with its segment index (separators strictly before it), intra position, type, top/bottom/flat DFA
states, and the set of legal next tokens: the tokens t for which prefix + t is a prefix of some word of
the flat language. DFA states are those of on-the-fly subset constructions (ids in discovery order).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from automata.exceptions import (
    AutomataError,
    AutomataInputError,
    AutomatonTooLargeError,
    BudgetExceededError,
)
from automata.intnfa import EPS, IntNFA
from automata.limits import (
    MAX_DFA_BUDGET,
    MAX_WORD_PART,
    MAX_WORD_TOKENS,
    check_int,
    check_table,
)

if TYPE_CHECKING:
    from automata.binfa import BiNFA


class LazyDFA:
    """Subset construction on demand over an IntNFA, keeping only co-accessible states (-1 = dead)."""

    def __init__(self, nfa: IntNFA, max_states: int = 100_000) -> None:
        """Start from the epsilon closure of the start state; states are added as they are met."""
        self.nfa = nfa
        self.max_states = max_states
        self.n_symbols = len(nfa.symbols)
        self._live = nfa.coaccessible
        self.sets: list[frozenset[int]] = []
        self.index: dict[frozenset[int], int] = {}
        self.trans: list[dict[int, int]] = []
        self.accepting: list[bool] = []
        self._legal: list[tuple[int, ...] | None] = []
        self.start = self._add(self._prune(nfa.closure((nfa.start,))))

    def _prune(self, states: frozenset[int]) -> frozenset[int]:
        live = self._live
        return frozenset(q for q in states if live[q])

    def _add(self, subset: frozenset[int]) -> int:
        s = self.index.get(subset)
        if s is not None:
            return s
        if len(self.sets) >= self.max_states:
            raise BudgetExceededError(
                f"subset construction needs more than {self.max_states} DFA states",
                operation="determinize",
                budget=self.max_states,
            )
        s = len(self.sets)
        self.index[subset] = s
        self.sets.append(subset)
        self.trans.append({})
        self.accepting.append(not subset.isdisjoint(self.nfa.finals))
        self._legal.append(None)
        return s

    def step(self, s: int, a: int) -> int:
        """The DFA state after symbol id `a` from state `s` (-1 when no accepted word continues)."""
        row = self.trans[s]
        t = row.get(a)
        if t is None:
            nxt = self._prune(self.nfa.step(self.sets[s], a))
            t = row[a] = self._add(nxt) if nxt else -1
        return t

    def legal(self, s: int) -> tuple[int, ...]:
        """Symbol ids that keep state `s` alive."""
        res = self._legal[s]
        if res is None:
            res = self._legal[s] = tuple(a for a in range(self.n_symbols) if self.step(s, a) >= 0)
        return res

    def accepts_ids(self, ids: Sequence[int]) -> bool:
        """Membership of a word of symbol ids."""
        s = self.start
        for a in ids:
            s = self.step(s, a)
            if s < 0:
                return False
        return self.accepting[s]

    def expand(self) -> np.ndarray:
        """Build every reachable state; returns delta as an (n, n_symbols) int array (-1 = dead)."""
        s = 0
        while s < len(self.sets):
            for a in range(self.n_symbols):
                self.step(s, a)
            s += 1
        delta = np.full((len(self.sets), self.n_symbols), -1, dtype=np.int64)
        for s, row in enumerate(self.trans):
            for a, t in row.items():
                delta[s, a] = t
        return delta


def _normalised_counts(delta: np.ndarray, final: np.ndarray, max_len: int) -> list[np.ndarray]:
    """Per length L <= max_len, accepted-word counts from each state, scaled (ratios are exact)."""
    n = delta.shape[0]
    ext = np.where(delta < 0, n, delta)  # index n is an all-zero dead row
    counts = [np.append(final.astype(np.float64), 0.0)]
    for _ in range(max_len):
        nxt = counts[-1][ext].sum(axis=1)
        top = nxt.max() if nxt.size else 0.0
        counts.append(np.append(nxt / top if top > 0 else nxt, 0.0))
    return counts


@dataclass
class _WordTables:
    """Sampling tables of one DFA: per remaining length, per state, cumulative symbol weights."""

    delta: list[list[int]]
    start: int
    counts: list[np.ndarray]
    cum: list[list[list[float]]]  # cum[r][q]: cumulative symbol probabilities, r symbols left

    @classmethod
    def build(cls, dfa: LazyDFA, max_len: int) -> _WordTables:
        """Expand the DFA; precompute scaled word counts and symbol weights up to `max_len`."""
        delta = dfa.expand()
        check_table(delta.shape[0], dfa.n_symbols, max_len)
        final = np.array(dfa.accepting, dtype=bool)
        counts = _normalised_counts(delta, final, max_len)
        n = delta.shape[0]
        ext = np.where(delta < 0, n, delta)
        cum: list[list[list[float]]] = [[]]
        for r in range(1, max_len + 1):
            raw = np.cumsum(counts[r - 1][ext], axis=1)
            total = raw[:, -1:] if raw.shape[1] else np.zeros((n, 1))
            norm = np.divide(raw, total, out=np.zeros_like(raw), where=total > 0)
            # exactly 1.0 from the last positive weight on, so a uniform in [0, 1) never lands
            # on a zero-weight trailing symbol through rounding
            norm[(raw == total) & (total > 0)] = 1.0
            cum.append(norm.tolist())
        return cls(delta.tolist(), dfa.start, counts, cum)

    def feasible(self, length: int) -> bool:
        """Whether some accepted word has exactly `length` symbols."""
        return self.counts[length][self.start] > 0

    def draw(self, length: int, uniforms: list[float]) -> tuple[list[int], list[int]]:
        """A word of exactly `length` symbols, uniform among accepted ones, and the states after each."""
        q = self.start
        word: list[int] = []
        states: list[int] = []
        cum, delta, pop = self.cum, self.delta, uniforms.pop
        for r in range(length, 0, -1):
            a = bisect_right(cum[r][q], pop())  # rows are normalised cumulative weights
            q = delta[q][a]
            word.append(a)
            states.append(q)
        return word, states


@dataclass
class Sample:
    """One sampled word with per-token annotations (arrays of equal length T)."""

    tokens: list[Hashable]
    ids: np.ndarray
    segment: np.ndarray
    intra: np.ndarray
    type_id: np.ndarray
    top_state: np.ndarray
    bottom_state: np.ndarray
    flat_state: np.ndarray
    legal_next: np.ndarray  # (T, n_symbols) bool: legal tokens after position i
    accepting: np.ndarray  # whether the prefix up to position i is in the language
    segment_types: list[int] = field(default_factory=list)

    def to_record(self, symbols: Sequence[Hashable], types: Sequence[Hashable]) -> dict[str, Any]:
        """A JSON-ready dict (tokens, annotations, legal-next sets as token lists)."""
        names = [str(s) for s in symbols]
        return {
            "tokens": [str(t) for t in self.tokens],
            "segment": self.segment.tolist(),
            "intra": self.intra.tolist(),
            "types": [str(types[t]) for t in self.type_id.tolist()],
            "top_state": self.top_state.tolist(),
            "bottom_state": self.bottom_state.tolist(),
            "flat_state": self.flat_state.tolist(),
            "legal_next": [[names[a] for a in np.flatnonzero(row)] for row in self.legal_next],
            "accepting": self.accepting.tolist(),
            "label": 1,
        }


def _check_shape(lo_m: int, hi_m: int, min_len: int, max_len: int, length_dist: str) -> None:
    """Segment-count and length ranges must be ordered and non-negative, the distribution known."""
    for name, v in (("segments", lo_m), ("segments", hi_m), ("min_len", min_len)):
        check_int(name, v, 0, MAX_WORD_PART)
    check_int("max_len", max_len, 0, MAX_WORD_PART)
    if hi_m * (max_len + 1) > MAX_WORD_TOKENS:
        raise AutomatonTooLargeError(
            f"words of up to {hi_m} segments of up to {max_len} tokens (and separators) reach "
            f"{hi_m * (max_len + 1):,} tokens, over the limit of {MAX_WORD_TOKENS:,} a word"
        )
    if not 0 <= lo_m <= hi_m or not 0 <= min_len <= max_len:
        raise AutomataInputError(
            f"need 0 <= segments {lo_m} <= {hi_m} and 0 <= min_len {min_len} <= max_len {max_len}"
        )
    if length_dist not in ("uniform", "geometric"):
        raise AutomataInputError(
            f"length_dist must be 'uniform' or 'geometric', got {length_dist!r}"
        )


def _length_choices(
    tables: Sequence[_WordTables],
    min_len: int,
    max_len: int,
    length_dist: str,
    geometric_p: float,
) -> tuple[list[list[int]], list[list[float]]]:
    """Per type, the segment lengths it accepts in range and their cumulative draw weights."""
    lengths: list[list[int]] = []
    length_cum: list[list[float]] = []
    for tab in tables:
        ok = [L for L in range(min_len, max_len + 1) if tab.feasible(L)]
        w = [1.0 if length_dist == "uniform" else (1 - geometric_p) ** (L - min_len) for L in ok]
        lengths.append(ok)
        length_cum.append(np.cumsum(w).tolist())
    return lengths, length_cum


def _without_empty_types(top: IntNFA, lengths: Sequence[Sequence[int]]) -> IntNFA:
    """The top NFA without the arcs of types that have no segment length in range.

    Otherwise the top tables would count words whose segments cannot be drawn.
    """
    keep = np.array([s == EPS or bool(lengths[s]) for s in top.sym.tolist()], dtype=bool)
    return IntNFA(
        top.n_states,
        top.symbols,
        top.start,
        top.finals,
        top.src[keep],
        top.sym[keep],
        top.dst[keep],
    )


def _segment_range(n_segments: Any) -> tuple[int, int]:
    """``n_segments`` (an int or a (lo, hi) pair) as the pair (AutomataInputError otherwise)."""
    if isinstance(n_segments, (int, np.integer)) and not isinstance(n_segments, bool):
        return int(n_segments), int(n_segments)
    if isinstance(n_segments, (tuple, list)) and len(n_segments) == 2:
        return n_segments[0], n_segments[1]
    raise AutomataInputError(f"n_segments must be an int or a (lo, hi) pair, got {n_segments!r}")


class HierarchicalSampler:
    """Samples annotated words of a Bi-NFA with a controlled number of segments and lengths."""

    def __init__(
        self,
        binfa: BiNFA,
        n_segments: int | tuple[int, int] = (1, 8),
        min_len: int = 1,
        max_len: int = 12,
        length_dist: str = "uniform",
        geometric_p: float = 0.3,
        seed: int = 0,
        max_dfa_states: int = 100_000,
    ) -> None:
        """Precompute DFA tables; typed errors when no word fits the requested shape."""
        lo_m, hi_m = _segment_range(n_segments)
        _check_shape(lo_m, hi_m, min_len, max_len, length_dist)
        check_int("max_dfa_states", max_dfa_states, 1, MAX_DFA_BUDGET)
        self.binfa = binfa
        self.rng = np.random.default_rng(check_int("seed", seed, 0))
        self.sep = len(binfa.symbols) - 1
        self.bottoms = [
            _WordTables.build(LazyDFA(b, max_dfa_states), max_len) for b in binfa.int_bottoms
        ]
        self.lengths, self.length_cum = _length_choices(
            self.bottoms, min_len, max_len, length_dist, geometric_p
        )
        restricted = _without_empty_types(binfa.int_top, self.lengths)
        self.top = _WordTables.build(LazyDFA(restricted, max_dfa_states), hi_m)
        self.segment_counts = [m for m in range(lo_m, hi_m + 1) if self.top.feasible(m)]
        if not self.segment_counts:
            raise AutomataError(
                f"no accepted word has between {lo_m} and {hi_m} segments with lengths in "
                f"[{min_len}, {max_len}]; widen n_segments or the length range"
            )
        self.flat = LazyDFA(binfa.flatten_arrays()[0], max_dfa_states)
        self._uniforms: list[float] = []
        self._table = np.zeros((0, len(binfa.symbols)), dtype=bool)
        self._accepting = np.zeros(0, dtype=bool)

    def _draw_uniforms(self, k: int) -> list[float]:
        if len(self._uniforms) < k:
            self._uniforms = self.rng.random(max(k, 65536)).tolist() + self._uniforms
        return self._uniforms

    def sample(self) -> Sample:
        """One annotated word (every prefix annotation refers to the flat language)."""
        u = self._draw_uniforms(1)
        m = self.segment_counts[int(u.pop() * len(self.segment_counts))]
        u = self._draw_uniforms(m + 1)  # the top draw takes one uniform per segment
        type_seq, top_states = self.top.draw(m, u)
        ids: list[int] = []
        bots: list[int] = []
        sizes: list[int] = []
        sep = self.sep
        for t in type_seq:
            cum = self.length_cum[t]
            length = self.lengths[t][bisect_right(cum, u.pop() * cum[-1])]
            u = self._draw_uniforms(length + 8)
            tables = self.bottoms[t]
            word, states = tables.draw(length, u)
            ids += word
            ids.append(sep)
            bots += states
            bots.append(states[-1] if states else tables.start)  # the separator keeps the end state
            sizes.append(length + 1)
        # Track the flat DFA inline (a dict hit per token; `step` only on a miss).
        flat = self.flat
        trans, step = flat.trans, flat.step
        s = flat.start
        fstates: list[int] = []
        for a in ids:
            t = trans[s].get(a)
            s = step(s, a) if t is None else t
            fstates.append(s)
        legal_table = self._legal_table(max(fstates, default=0))
        fs = np.array(fstates, dtype=np.int64)
        n_seg = np.array(sizes, dtype=np.int64)
        seg = np.repeat(np.arange(len(sizes)), n_seg)
        starts = np.cumsum(n_seg) - n_seg
        syms = self.binfa.symbols
        return Sample(
            tokens=[syms[a] for a in ids],
            ids=np.array(ids, dtype=np.int64),
            segment=seg,
            intra=np.arange(fs.size) - np.repeat(starts, n_seg),
            type_id=np.repeat(np.array(type_seq, dtype=np.int64), n_seg),
            top_state=np.repeat(
                np.array([self.top.start, *top_states[:-1]], dtype=np.int64)[: len(sizes)], n_seg
            ),
            bottom_state=np.array(bots, dtype=np.int64),
            flat_state=fs,
            legal_next=legal_table[fs],
            accepting=self._accepting[fs],
            segment_types=list(type_seq),
        )

    def _legal_table(self, highest: int) -> np.ndarray:
        """The legal-next table with at least rows 0..highest, extended as flat states appear."""
        table = self._table
        if highest < table.shape[0]:
            return table
        flat = self.flat
        blocks, done = [table], table.shape[0]
        while done < len(flat.sets):  # legal() may discover further states: loop until stable
            n = len(flat.sets)
            block = np.zeros((n - done, table.shape[1]), dtype=bool)
            for s in range(done, n):
                block[s - done, list(flat.legal(s))] = True
            blocks.append(block)
            done = n
        self._table = np.concatenate(blocks)
        self._accepting = np.array(flat.accepting[:done], dtype=bool)
        return self._table

    def initial_legal(self) -> list[Hashable]:
        """Tokens that may open a word (the label before the first token)."""
        return [self.binfa.symbols[a] for a in self.flat.legal(self.flat.start)]


class UniformSampler:
    """Draws words of a given length exactly uniformly from the flat language (exact integer counts)."""

    def __init__(self, binfa: BiNFA, max_len: int, seed: int = 0, max_dfa_states: int = 100_000):
        """Determinise the flattened NFA (within the budget) and count words up to `max_len`."""
        check_int("max_len", max_len, 0, MAX_WORD_TOKENS)
        check_int("max_dfa_states", max_dfa_states, 1, MAX_DFA_BUDGET)
        self.binfa = binfa
        self.random = random.Random(check_int("seed", seed, 0))
        dfa = LazyDFA(binfa.flatten_arrays()[0], max_dfa_states)
        delta = dfa.expand()
        check_table(delta.shape[0], dfa.n_symbols, max_len)
        self.delta = delta.tolist()
        self.start = dfa.start
        final = [int(f) for f in dfa.accepting]
        self.counts: list[list[int]] = [final]
        for _ in range(max_len):
            prev = self.counts[-1]
            self.counts.append([sum(prev[t] for t in row if t >= 0) for row in self.delta])

    def count(self, length: int) -> int:
        """The number of accepted words of exactly `length` symbols (separators included)."""
        self._check(length)
        return self.counts[length][self.start]

    def _check(self, length: int) -> None:
        if not 0 <= length < len(self.counts):
            raise AutomataInputError(f"length must be in [0, {len(self.counts) - 1}], got {length}")

    def sample(self, length: int) -> list[Hashable]:
        """One word of `length` symbols, each accepted word with probability exactly 1/count."""
        total = self.count(length)
        if total == 0:
            ok = [L for L in range(len(self.counts)) if self.counts[L][self.start]]
            raise AutomataError(
                f"no accepted word has length {length}; lengths with words: {ok[:20]}"
            )
        q, word = self.start, []
        for r in range(length, 0, -1):
            x = self.random.randrange(self.counts[r][q])
            for a, t in enumerate(self.delta[q]):
                c = self.counts[r - 1][t] if t >= 0 else 0
                if x < c:
                    word.append(self.binfa.symbols[a])
                    q = t
                    break
                x -= c
        return word
