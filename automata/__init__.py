"""Automata: NFA and Bi-NFA instances on networkx, flattening, size and parameter accounting.

The names below are the public API: the `NFA` and `BiNFA` classes, the algorithms over an NFA as
plain functions (networkx style), the named families, samplers and accounting. Never imports torch.
"""

from importlib import metadata

__bipe__ = True  # marker: this package is BiPE Lab's (experiments.check_packages looks for it)
__version__ = next((d.version for d in metadata.distributions(name="bipe")), "0+unknown")

from automata.accounting import best_fit, fit_growth, model_bounds, table_params
from automata.binfa import BiNFA, worked_example
from automata.dfa import determinize, equivalent, minimal_dfa_size, minimize
from automata.exceptions import (
    AlphabetError,
    AutomataError,
    AutomataFormatError,
    AutomataInputError,
    AutomatonTooLargeError,
    BudgetExceededError,
    EmptyAutomatonError,
    MissingDependencyError,
    SeparatorError,
    UnknownStateError,
)
from automata.generators import (
    FAMILIES,
    family_builder,
    list_families,
    make_family,
    random_binfa,
    register_family,
)
from automata.io import from_json, from_networkx, to_dot, to_json, to_networkx
from automata.matrices import count_paths, count_words, transition_matrices
from automata.negatives import one_edit_negatives, wrong_type_negatives
from automata.nfa import EPSILON, NFA
from automata.ops import concatenate, intersect, remove_epsilons, reverse, star, trim, union
from automata.random_nfa import random_nfa
from automata.samplers import HierarchicalSampler, Sample, UniformSampler
from automata.sizes import SizeReport, size_report
from automata.sweep import growth_fits, size_table

__all__ = [
    "EPSILON",
    "FAMILIES",
    "NFA",
    "AlphabetError",
    "AutomataError",
    "AutomataFormatError",
    "AutomataInputError",
    "AutomatonTooLargeError",
    "BiNFA",
    "BudgetExceededError",
    "EmptyAutomatonError",
    "HierarchicalSampler",
    "MissingDependencyError",
    "Sample",
    "SeparatorError",
    "SizeReport",
    "UniformSampler",
    "UnknownStateError",
    "best_fit",
    "concatenate",
    "count_paths",
    "count_words",
    "determinize",
    "equivalent",
    "family_builder",
    "fit_growth",
    "from_json",
    "from_networkx",
    "growth_fits",
    "intersect",
    "list_families",
    "make_family",
    "minimal_dfa_size",
    "minimize",
    "model_bounds",
    "one_edit_negatives",
    "random_binfa",
    "random_nfa",
    "register_family",
    "remove_epsilons",
    "reverse",
    "size_report",
    "size_table",
    "star",
    "table_params",
    "to_dot",
    "to_json",
    "to_networkx",
    "transition_matrices",
    "trim",
    "union",
    "worked_example",
    "wrong_type_negatives",
]
