"""The exception hierarchy of `automata`: every bad input raises one of these, never a bare crash."""

from __future__ import annotations


class AutomataError(Exception):
    """Base class of every error raised by `automata`."""


class UnknownStateError(AutomataError, KeyError):
    """A state that the automaton does not have (a transition end, the start, a final state)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class AlphabetError(AutomataError, ValueError):
    """A symbol outside the declared alphabet, or an alphabet that cannot be used as declared."""


class SeparatorError(AlphabetError):
    """A Bi-NFA separator that lies inside the token alphabet (or is the epsilon marker)."""


class EmptyAutomatonError(AutomataError, ValueError):
    """An automaton with no states (every automaton needs at least its start state)."""


class BudgetExceededError(AutomataError, RuntimeError):
    """A construction (subset construction, product, flattening) that would exceed its state budget."""

    def __init__(self, message: str, *, operation: str = "", budget: int = 0) -> None:
        super().__init__(message)
        self.operation = operation
        self.budget = budget


class AutomataFormatError(AutomataError, ValueError):
    """A serialised automaton (JSON, networkx graph) that is malformed; names the offending part."""


class AutomataInputError(AutomataError, TypeError):
    """An argument of the wrong Python type (a word that is not a sequence, an unhashable state)."""


class MissingDependencyError(AutomataError, ImportError):
    """An optional dependency (pynini, graphviz tools) is not installed; names what to install."""


class AutomatonTooLargeError(AutomataError, ValueError):
    """A size knob (types, states, alphabet, budget) or a built automaton over its stated limit:
    refused before the work whose time grows faster than the knob (flattening, minimising,
    sampling tables)."""
