"""Subset construction with a state budget, Hopcroft minimisation, minimal DFA sizes, equivalence.

Subsets are Python ints used as bitsets over NFA state indices. A subset's image under a symbol is
the OR of per-state images, taken byte by byte from lazily filled 256-entry tables when the subset
is dense, or state by state when it is sparse: this keeps the hot loop in C-level int operations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

from automata.exceptions import AutomataInputError, BudgetExceededError
from automata.nfa import EPSILON, NFA, bits_of, sorted_symbols

DEFAULT_BUDGET = 100_000


class _Stepper:
    """Per-symbol images of epsilon-closed subsets of one NFA, as bitsets."""

    def __init__(self, nfa: NFA, symbols: list[Hashable]) -> None:
        succ = nfa.succ_table()
        n = nfa.num_states
        closure = nfa._closure_masks() if nfa.has_epsilon else None
        self.nbytes = max(1, (n + 7) // 8)
        self.images: list[list[int]] = []
        for a in symbols:
            img = [0] * n
            for p in range(n):
                ts = succ[p].get(a)
                if ts:
                    m = 0
                    if closure is None:
                        for q in ts:
                            m |= 1 << q
                    else:
                        for q in ts:
                            m |= closure[q]
                    img[p] = m
            self.images.append(img)
        self.tables: list[list[list[int] | None]] = [[None] * self.nbytes for _ in symbols]
        start = closure[nfa.start_index] if closure is not None else 1 << nfa.start_index
        self.start = start
        fmask = 0
        for f in nfa.final_indices:
            fmask |= 1 << f
        self.final_mask = fmask

    def _table(self, a: int, c: int) -> list[int]:
        """The 256-entry table of byte `c` for symbol index `a` (filled on first use)."""
        img = self.images[a]
        base = 8 * c
        part = [img[base + k] if base + k < len(img) else 0 for k in range(8)]
        tab = [0] * 256
        for byte in range(1, 256):
            low = byte & -byte
            tab[byte] = tab[byte ^ low] | part[low.bit_length() - 1]
        self.tables[a][c] = tab
        return tab

    def step_all(self, mask: int) -> list[int]:
        """The image of subset `mask` under every symbol, in symbol order."""
        out = []
        # Byte tables pay off for dense subsets of small NFAs; past 1024 states their memory
        # (256 masks per byte per symbol) would grow quadratically, so large NFAs go state by state.
        if mask.bit_count() * 4 < self.nbytes or not 2 < self.nbytes <= 128:
            members = bits_of(mask)
            for img in self.images:
                m = 0
                for p in members:
                    m |= img[p]
                out.append(m)
            return out
        data = mask.to_bytes(self.nbytes, "little")
        for a, tabs in enumerate(self.tables):
            m = 0
            for c, byte in enumerate(data):
                if byte:
                    tab = tabs[c]
                    if tab is None:
                        tab = self._table(a, c)
                    m |= tab[byte]
            out.append(m)
        return out

    def step(self, mask: int, a: int) -> int:
        """The image of subset `mask` under symbol index `a`."""
        img = self.images[a]
        m = 0
        for p in bits_of(mask):
            m |= img[p]
        return m


def _check_budget(max_states: int) -> None:
    if isinstance(max_states, bool) or not isinstance(max_states, int) or max_states < 1:
        raise AutomataInputError(f"max_states must be a positive int, got {max_states!r}")


def subset_construction(
    nfa: NFA, max_states: int = DEFAULT_BUDGET
) -> tuple[list[Hashable], list[list[int]], list[int]]:
    """Reachable subsets as a DFA table: (symbols, ``delta[state][symbol]`` with -1 = none, finals)."""
    _check_budget(max_states)
    symbols = sorted_symbols(nfa.alphabet)
    st = _Stepper(nfa, symbols)
    index = {st.start: 0}
    masks = [st.start]
    delta: list[list[int]] = []
    k = 0
    while k < len(masks):
        row = []
        for t in st.step_all(masks[k]):
            if not t:
                row.append(-1)
                continue
            j = index.get(t)
            if j is None:
                j = len(masks)
                if j >= max_states:
                    raise BudgetExceededError(
                        f"subset construction exceeds its budget of {max_states} DFA states "
                        f"(NFA has {nfa.num_states} states); raise max_states or shrink the NFA",
                        operation="determinize",
                        budget=max_states,
                    )
                index[t] = j
                masks.append(t)
            row.append(j)
        delta.append(row)
        k += 1
    fmask = st.final_mask
    finals = [i for i, m in enumerate(masks) if m & fmask]
    return symbols, delta, finals


def _table_to_nfa(
    alphabet: frozenset,
    symbols: list[Hashable],
    delta: list[list[int]],
    finals: list[int],
    complete: bool,
) -> NFA:
    n = len(delta)
    if complete and any(t < 0 for row in delta for t in row):
        delta = [[t if t >= 0 else n for t in row] for row in delta] + [[n] * len(symbols)]
        n += 1
    succ = [{a: (t,) for a, t in zip(symbols, row) if t >= 0} for row in delta]
    return NFA._from_succ(n, alphabet, succ, 0, finals)


def determinize(nfa: NFA, max_states: int = DEFAULT_BUDGET, *, complete: bool = False) -> NFA:
    """A DFA (deterministic NFA, int states, start 0) for the same language, by subset construction.

    Partial by default (the empty subset is not a state); ``complete=True`` adds a sink when needed.
    """
    symbols, delta, finals = subset_construction(nfa, max_states)
    return _table_to_nfa(nfa.alphabet, symbols, delta, finals, complete)


def _dfa_table(nfa: NFA, max_states: int) -> tuple[list[Hashable], list[list[int]], list[int]]:
    """The reachable DFA table of `nfa`, reusing its transitions when it is already deterministic."""
    if not nfa.is_deterministic():
        return subset_construction(nfa, max_states)
    symbols = sorted_symbols(nfa.alphabet)
    succ = nfa.succ_table()
    index = {nfa.start_index: 0}
    order = [nfa.start_index]
    delta = []
    k = 0
    while k < len(order):
        d = succ[order[k]]
        row = []
        for a in symbols:
            ts = d.get(a)
            if not ts:
                row.append(-1)
                continue
            j = index.get(ts[0])
            if j is None:
                j = index[ts[0]] = len(order)
                order.append(ts[0])
            row.append(j)
        delta.append(row)
        k += 1
    finals = [index[f] for f in nfa.final_indices if f in index]
    return symbols, delta, finals


def hopcroft(delta: list[list[int]], finals: list[int], n_symbols: int) -> list[int]:
    """Hopcroft's partition refinement on a complete DFA table; returns each state's block id."""
    n = len(delta)
    fset = set(finals)
    inv: list[list[list[int]]] = [[[] for _ in range(n)] for _ in range(n_symbols)]
    for q, row in enumerate(delta):
        for a, t in enumerate(row):
            inv[a][t].append(q)
    accepting = set(fset)
    rejecting = set(range(n)) - accepting
    blocks = [b for b in (accepting, rejecting) if b]
    block_of = [0] * n
    for b, members in enumerate(blocks):
        for q in members:
            block_of[q] = b
    smaller = min(range(len(blocks)), key=lambda b: len(blocks[b]))
    work = {(smaller, a) for a in range(n_symbols)} if len(blocks) == 2 else set()
    while work:
        b, a = work.pop()
        inv_a = inv[a]
        touched: defaultdict[int, list[int]] = defaultdict(list)
        for q in blocks[b]:
            for p in inv_a[q]:
                touched[block_of[p]].append(p)
        for y, members in touched.items():
            block = blocks[y]
            if len(members) == len(block):  # members are distinct: a DFA has one a-move per state
                continue
            inside = set(members)
            # Both branches cost O(|inside|): never walk a big block for a small splitter.
            if 2 * len(inside) <= len(block):
                block -= inside
                small = inside
            else:
                small = block - inside
                blocks[y] = inside
            new = len(blocks)
            blocks.append(small)
            for q in small:
                block_of[q] = new
            for c in range(n_symbols):
                work.add((new, c))
    return block_of


def _minimal_table(
    nfa: NFA, max_states: int
) -> tuple[list[Hashable], list[list[int]], list[int], int]:
    """The minimal complete DFA (BFS-numbered, start 0) and the id of its sink (-1 if none)."""
    symbols, delta, finals = _dfa_table(nfa, max_states)
    n, k = len(delta), len(symbols)
    if any(t < 0 for row in delta for t in row):
        delta = [[t if t >= 0 else n for t in row] for row in delta] + [[n] * k]
    block_of = hopcroft(delta, finals, k)
    fset = set(finals)
    # Renumber blocks in BFS order from the start so equal languages give equal tables.
    rep: dict[int, int] = {}
    for q in range(len(delta)):
        rep.setdefault(block_of[q], q)
    new_id = {block_of[0]: 0}
    order = [block_of[0]]
    out: list[list[int]] = []
    i = 0
    while i < len(order):
        row = []
        for t in delta[rep[order[i]]]:
            b = block_of[t]
            j = new_id.get(b)
            if j is None:
                j = new_id[b] = len(order)
                order.append(b)
            row.append(j)
        out.append(row)
        i += 1
    new_finals = [new_id[b] for b in order if rep[b] in fset]
    final_set = set(new_finals)
    dead = [j for j, row in enumerate(out) if j not in final_set and all(t == j for t in row)]
    return symbols, out, new_finals, dead[0] if dead else -1


def minimize(nfa: NFA, max_states: int = DEFAULT_BUDGET, *, complete: bool = False) -> NFA:
    """The minimal DFA (Hopcroft) of `nfa`'s language, int states in BFS order from start 0.

    Partial by default: the dead (sink) state and every move into it are dropped; for the empty
    language that leaves a single non-final start state. ``complete=True`` keeps the sink.
    """
    symbols, table, finals, sink = _minimal_table(nfa, max_states)
    if complete or sink < 0:
        return _table_to_nfa(nfa.alphabet, symbols, table, finals, complete=False)
    if sink == 0:
        return NFA._from_succ(1, nfa.alphabet, [{}], 0, [])
    keep = [j for j in range(len(table)) if j != sink]
    new = {old: i for i, old in enumerate(keep)}
    succ = [{a: (new[t],) for a, t in zip(symbols, table[j]) if t != sink} for j in keep]
    return NFA._from_succ(len(keep), nfa.alphabet, succ, 0, [new[f] for f in finals])


def minimal_dfa_size(nfa: NFA, *, count_sink: bool = True, max_states: int = DEFAULT_BUDGET) -> int:
    """States of the minimal DFA over the NFA's alphabet, with or without the dead (sink) state.

    count_sink=True: the complete DFA (sink included when needed); count_sink=False: the trimmed
    DFA (no dead state, 0 for the empty language; pynini's count).
    """
    _, table, _, sink = _minimal_table(nfa, max_states)
    return len(table) - (0 if count_sink or sink < 0 else 1)


def equivalent(a: NFA, b: NFA, max_states: int = DEFAULT_BUDGET) -> bool:
    """Whether two NFAs accept the same language (Hopcroft-Karp union-find on subset pairs)."""
    if not isinstance(a, NFA) or not isinstance(b, NFA):
        raise AutomataInputError("equivalent() compares two NFA objects")
    _check_budget(max_states)
    symbols = sorted_symbols(a.alphabet | b.alphabet)
    sa, sb = _Stepper(a, symbols), _Stepper(b, symbols)
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(x: tuple[int, int]) -> tuple[int, int]:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:
            parent[x], x = root, parent.get(x, x)
        return root

    first = ((0, sa.start), (1, sb.start))
    parent[first[0]] = first[1]
    stack = [(sa.start, sb.start)]
    while stack:
        s, t = stack.pop()
        if bool(s & sa.final_mask) != bool(t & sb.final_mask):
            return False
        for s2, t2 in zip(sa.step_all(s), sb.step_all(t)):
            r1, r2 = find((0, s2)), find((1, t2))
            if r1 != r2:
                parent[r1] = r2
                if len(parent) > 2 * max_states:
                    raise BudgetExceededError(
                        f"equivalence check exceeds its budget of {max_states} subset pairs",
                        operation="equivalent",
                        budget=max_states,
                    )
                stack.append((s2, t2))
    return True


def moore_size(nfa: NFA, max_states: int = DEFAULT_BUDGET) -> int:
    """States of the minimal complete DFA by Moore's refinement (an independent check of Hopcroft)."""
    symbols, delta, finals = _dfa_table(nfa, max_states)
    n = len(delta)
    if any(t < 0 for row in delta for t in row):
        delta = [[t if t >= 0 else n for t in row] for row in delta] + [[n] * len(symbols)]
    fset = set(finals)
    cls = [int(q in fset) for q in range(len(delta))]
    count = len(set(cls))
    while True:
        sigs: dict[tuple, int] = {}
        cls = [
            sigs.setdefault((cls[q], *(cls[t] for t in delta[q])), len(sigs))
            for q in range(len(delta))
        ]
        if len(sigs) == count:
            return count
        count = len(sigs)


__all__ = [
    "EPSILON",
    "determinize",
    "equivalent",
    "hopcroft",
    "minimal_dfa_size",
    "minimize",
    "moore_size",
    "subset_construction",
]
