"""Per-symbol transition matrices (scipy sparse) and exact counts of accepted words by length."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np

from automata.dfa import determinize
from automata.exceptions import AutomataInputError
from automata.nfa import NFA
from automata.ops import remove_epsilons

if TYPE_CHECKING:
    import scipy.sparse as sp

# Counts stay exact in int64 while every entry is below this bound; past it we switch to Python ints.
_INT64_SAFE = 2**62


def transition_matrices(nfa: NFA) -> dict[Hashable, sp.csr_matrix]:
    """Per symbol of the alphabet an n x n CSR matrix M with M[i, j] = 1 iff i -symbol-> j.

    Rows and columns follow `nfa.states` order. Epsilon moves, if any, appear under key EPSILON (None).
    """
    # scipy.sparse is imported here, not at the top: it adds about 0.15 s to `import automata`
    import scipy.sparse as sp

    n = nfa.num_states
    rows: dict[Hashable, list[int]] = {a: [] for a in nfa.alphabet}
    cols: dict[Hashable, list[int]] = {a: [] for a in nfa.alphabet}
    for i, d in enumerate(nfa.succ_table()):
        for a, ts in d.items():
            rows.setdefault(a, []).extend([i] * len(ts))
            cols.setdefault(a, []).extend(ts)
    out = {}
    for a in rows:
        data = np.ones(len(rows[a]), dtype=np.int64)
        out[a] = sp.csr_matrix((data, (rows[a], cols[a])), shape=(n, n), dtype=np.int64)
    return out


def count_paths(nfa: NFA, max_len: int) -> list[int]:
    """Accepting PATHS of each length 0..max_len, epsilon moves removed first (see `count_words`).

    Paths, not words: an NFA with two runs on one word counts it twice.
    """
    _check_len(max_len)
    if nfa.has_epsilon:
        nfa = remove_epsilons(nfa)
    return _propagate(nfa, max_len)


def count_words(nfa: NFA, max_len: int, max_states: int = 100_000) -> list[int]:
    """Exact numbers of accepted words of length 0..max_len, from the DFA's transition matrices.

    The NFA is determinised first: in a DFA each word has one run, so path counts are word counts.
    """
    _check_len(max_len)
    dfa = nfa if nfa.is_deterministic() else determinize(nfa, max_states=max_states)
    return _propagate(dfa, max_len)


def _check_len(max_len: int) -> None:
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 0:
        raise AutomataInputError(f"max_len must be a non-negative int, got {max_len!r}")


def _propagate(nfa: NFA, max_len: int) -> list[int]:
    """Paths from the start of each length ending in a final state, via v <- v @ (sum of matrices)."""
    import scipy.sparse as sp

    n = nfa.num_states
    total = sp.csr_matrix((n, n), dtype=np.int64)
    for m in transition_matrices(nfa).values():
        total = total + m
    final = np.zeros(n, dtype=np.int64)
    final[list(nfa.final_indices)] = 1
    v = np.zeros(n, dtype=np.int64)
    v[nfa.start_index] = 1
    counts = [int(v @ final)]
    t = total.T.tocsr()
    row_max = int(total.sum(axis=1).max()) if n else 0
    bound = 1
    for length in range(1, max_len + 1):
        bound *= max(row_max, 1)
        if bound * max(n, 1) >= _INT64_SAFE:
            return counts + _propagate_exact(t, v, final, max_len - length + 1)
        v = t @ v
        counts.append(int(v @ final))
    return counts


def _propagate_exact(t: sp.csr_matrix, v: np.ndarray, final: np.ndarray, steps: int) -> list[int]:
    """The same recurrence with Python ints (no overflow) for long words."""
    indptr, indices = t.indptr, t.indices
    data = [int(x) for x in t.data]
    vec = [int(x) for x in v]
    finals = np.flatnonzero(final).tolist()
    out = []
    for _ in range(steps):
        vec = [
            sum(data[k] * vec[indices[k]] for k in range(indptr[i], indptr[i + 1]))
            for i in range(len(vec))
        ]
        out.append(sum(vec[f] for f in finals))
    return out
