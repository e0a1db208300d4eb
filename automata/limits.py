"""The limits every family, sampler and size report keeps, and the checks that refuse more.

The knobs of a family (types, states) grow the flattened automaton, its minimal DFA and the
sampling tables faster than linearly; a value past these limits took minutes and gigabytes
(mod-marked with 1000 types never finished), so it is refused up front, the limit in the message.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from automata.exceptions import AutomataInputError, AutomatonTooLargeError

MAX_TYPES = 64  # segment types of a family instance
MAX_STATES = 256  # the states knob of a family (bottom states, smallest modulus, depth + 2)
MAX_ALPHABET = 256  # token symbols of a generated family
MAX_SEED = 2**32 - 1  # numpy and torch both take it; larger ones overflow torch.manual_seed
# states of the flattened automaton: ~1 s to report or sample at 4 000 on one core, ~5 s at 9 000
MAX_FLAT_STATES = 5_000
MAX_DFA_BUDGET = 100_000  # subset-construction budget of a size report (~3 s at the limit)
# entries of a sampler's word tables (states x symbols x lengths), Python floats: ~160 MB
MAX_TABLE_CELLS = 5_000_000
# A segment count or length beyond this makes words no model here reads (and tables of gigabytes).
MAX_WORD_PART = 10_000
# The longest word a sampler may draw (segments x (length + separator)): its annotations hold a
# legal-next row per token, so a 10^8-token word would take gigabytes per sample.
MAX_WORD_TOKENS = 100_000


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in [low, high]: AutomataInputError for a wrong type or too small a
    value, AutomatonTooLargeError (naming the limit) for too large a one."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise AutomataInputError(f"{name} must be an integer >= {low}, got {value!r}")
    if high is not None and value > high:
        raise AutomatonTooLargeError(f"{name}={value} is over the limit of {high}")
    return int(value)


def check_real(name: str, value: Any, low: float, high: float) -> float:
    """``value`` as a float in [low, high] (AutomataInputError otherwise, naming the range)."""
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    if not ok or not low <= float(value) <= high:
        raise AutomataInputError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def check_flat_size(binfa: Any, what: str = "the Bi-NFA") -> Any:
    """``binfa`` itself when its flattened automaton has at most MAX_FLAT_STATES states (counted
    without building it); AutomatonTooLargeError naming the count and the limit otherwise."""
    states, _ = binfa.flat_size()
    if states > MAX_FLAT_STATES:
        raise AutomatonTooLargeError(
            f"{what} flattens to {states} states, over the limit of {MAX_FLAT_STATES} that keeps "
            "flattening, minimising and sampling it within seconds; use fewer types or states"
        )
    return binfa


def check_table(n_states: int, n_symbols: int, length: int) -> None:
    """Refuse word tables over MAX_TABLE_CELLS floats before they are built (they are lists of
    Python floats: 32 bytes each), naming what makes them large."""
    cells = n_states * max(n_symbols, 1) * max(length, 1)
    if cells > MAX_TABLE_CELLS:
        raise AutomatonTooLargeError(
            f"sampling words of up to {length} symbols from a {n_states}-state DFA over "
            f"{n_symbols} symbols needs {cells:,} table entries, over the limit of "
            f"{MAX_TABLE_CELLS:,}; ask for shorter segments, fewer segments or a smaller automaton"
        )
