"""The registry API of experiments' plug-in points: corpora, position sources, presets, tasks.

Every plug-in point of BiPE Lab is a catalogue registry named ``bipe.<point>`` (segmenters,
schemes and automaton families in their own packages, these here), so a third-party package adds
an entry through the entry-point group of the same name, and an entry registered in-process or by
an entry point is found the same way. An unknown name is an `UnknownNameError` that lists the
choices. Names are listed in registration order (built-ins first), without loading entry points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import catalogue

from experiments.errors import ExperimentError

T = TypeVar("T")


class UnknownNameError(ExperimentError):
    """A name that no registry entry has (the message names the choices)."""


class Registry:
    """One plug-in point: register by name, list the names, look a name up."""

    def __init__(self, point: str, what: str) -> None:
        self.what = what  # how errors name an entry: "corpus", "preset", ...
        self._catalogue = catalogue.Registry((f"bipe.{point}",), entry_points=True)

    @property
    def entry_point_group(self) -> str:
        """The entry-point group through which other packages add entries."""
        return self._catalogue.entry_point_namespace

    def register(self, name: str, obj: T | None = None) -> Any:
        """Add ``obj`` under ``name`` (or decorate it); a different object under a taken name raises."""

        def add(value: T) -> T:
            key = (*self._catalogue.namespace, name)
            if catalogue.REGISTRY.get(key, value) != value:  # the same entry again is harmless
                raise ExperimentError(f"{self.what} {name!r} is already registered")
            self._catalogue.register(name, func=value)
            return value

        return add if obj is None else add(obj)

    def names(self) -> list[str]:
        """Every registered name, in-process ones in registration order, then entry points."""
        ns = tuple(self._catalogue.namespace)
        own = [key[-1] for key in catalogue.REGISTRY if key[:-1] == ns]
        group = catalogue.AVAILABLE_ENTRY_POINTS.select(group=self.entry_point_group)
        return own + [ep.name for ep in group if ep.name not in own]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def get(self, name: str, hint: Callable[[], str] | None = None) -> Any:
        """The entry registered as ``name``; `UnknownNameError` names the choices (``hint`` adds).

        In-process entries come first: an entry point cannot replace a built-in, and a lookup of a
        registered name never scans the installed distributions."""
        key = (*self._catalogue.namespace, name)
        if key in catalogue.REGISTRY:
            return catalogue.REGISTRY[key]
        try:
            return self._catalogue.get(name)
        except catalogue.RegistryError:
            extra = hint() if hint is not None else ""
            raise UnknownNameError(
                f"unknown {self.what} {name!r}; valid: {', '.join(self.names())}{extra}"
            ) from None
