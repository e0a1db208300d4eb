"""Automata: NFA and Bi-NFA instances on networkx, flattening, size and parameter accounting.

Never imports torch.
"""

from importlib import metadata

__bipe__ = True  # marker: this package is BiPE Lab's (experiments.check_packages looks for it)
__version__ = next((d.version for d in metadata.distributions(name="bipe")), "0+unknown")

from automata.binfa import BiNFA
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
from automata.generators import FAMILIES, make_family, random_binfa
from automata.nfa import EPSILON, NFA
from automata.sizes import SizeReport
from automata.sweep import size_table

__all__ = [
    "EPSILON",
    "FAMILIES",
    "NFA",
    "AlphabetError",
    "AutomataError",
    "AutomataFormatError",
    "AutomataInputError",
    "BiNFA",
    "BudgetExceededError",
    "EmptyAutomatonError",
    "MissingDependencyError",
    "SeparatorError",
    "SizeReport",
    "UnknownStateError",
    "make_family",
    "random_binfa",
    "size_table",
]
