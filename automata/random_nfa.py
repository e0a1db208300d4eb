"""Seeded random NFAs (a Tabakov-Vardi style model) for tests, differential checks and benchmarks."""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence

from automata.exceptions import AutomataInputError
from automata.nfa import EPSILON, NFA


def random_nfa(
    n_states: int,
    alphabet: int | Sequence[Hashable] = 2,
    *,
    density: float = 1.5,
    final_prob: float = 0.3,
    epsilon_density: float = 0.0,
    seed: int = 0,
) -> NFA:
    """A seeded random NFA (state 0 is the start): same arguments, same NFA.

    Per symbol about ``density * n_states`` transitions between uniform random states, each state
    final with ``final_prob``, and about ``epsilon_density * n_states`` epsilon moves. `alphabet` is
    a size (symbols 0..k-1) or symbols.
    """
    if isinstance(n_states, bool) or not isinstance(n_states, int) or n_states < 1:
        raise AutomataInputError(f"n_states must be a positive int, got {n_states!r}")
    symbols = list(range(alphabet)) if isinstance(alphabet, int) else list(alphabet)
    if not symbols:
        raise AutomataInputError("the alphabet of a random NFA needs at least one symbol")
    for name, value in (("density", density), ("epsilon_density", epsilon_density)):
        if not 0 <= value * n_states <= 10_000_000:  # also rejects NaN
            raise AutomataInputError(
                f"{name} must be >= 0 (and density * n_states <= 1e7), got {value!r}"
            )
    if not 0 <= final_prob <= 1:
        raise AutomataInputError(f"final_prob must lie in [0, 1], got {final_prob!r}")
    rng = random.Random(seed)
    n = n_states
    edges = []
    per_symbol = round(density * n)
    for a in symbols:
        for _ in range(per_symbol):
            edges.append((rng.randrange(n), a, rng.randrange(n)))
    for _ in range(round(epsilon_density * n)):
        edges.append((rng.randrange(n), EPSILON, rng.randrange(n)))
    finals = [i for i in range(n) if rng.random() < final_prob]
    return NFA._from_int_edges(n, symbols, edges, 0, finals)
