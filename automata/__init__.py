"""Automata: NFA and Bi-NFA instances on networkx, flattening, size and parameter accounting.

Never imports torch.
"""

from automata.exceptions import (
    AlphabetError,
    AutomataError,
    AutomataFormatError,
    AutomataInputError,
    BudgetExceededError,
    EmptyAutomatonError,
    MissingDependencyError,
    SeparatorError,
    UnknownStateError,
)
from automata.nfa import EPSILON, NFA

__all__ = [
    "EPSILON",
    "NFA",
    "AlphabetError",
    "AutomataError",
    "AutomataFormatError",
    "AutomataInputError",
    "BudgetExceededError",
    "EmptyAutomatonError",
    "MissingDependencyError",
    "SeparatorError",
    "UnknownStateError",
]

# H6 (Bi-NFA helper) adds below: `from automata.binfa import BiNFA` and
# `from automata.generators import random_binfa`, and extends __all__ with "BiNFA", "random_binfa".
from automata.binfa import BiNFA
from automata.generators import FAMILIES, make_family, random_binfa
from automata.sizes import SizeReport
from automata.sweep import size_table

__all__ += ["FAMILIES", "BiNFA", "SizeReport", "make_family", "random_binfa", "size_table"]
