"""Declared segmenter options: each segmenter lists its options once, and one check uses the list.

A segmenter class sets ``OPTIONS`` to a tuple of `Option` (name, types, default, range or
choices, one-line meaning). `check_declared` refuses an unknown name (listing every option with
its default and meaning), a value of another type, a non-finite number, and a value out of range
or not among the choices, always as `SegmenterOptionError` naming the segmenter and the option,
before any work. `BaseSegmenter.__init__` runs it on every built-in, and the registry runs it on
any plug-in factory that sets ``OPTIONS`` (one without is checked from its signature).
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from segmenters.errors import SegmenterOptionError

#: the types an option may name; anything else is checked by the segmenter itself
PATH = (str, os.PathLike)


@dataclass(frozen=True)
class Option:
    """One declared option: what it takes, its default, and what it means.

    ``types`` are the accepted Python types (``int`` accepts numpy integers, ``float`` accepts
    ints; ``bool`` is never an int); empty means any value the segmenter checks itself.
    ``optional`` admits None. ``ge``/``gt``/``le`` bound numbers; ``choices`` lists the values.
    ``expect`` overrides the generated "must be ..." wording.
    """

    name: str
    types: tuple[type, ...]
    default: Any
    meaning: str
    choices: tuple[Any, ...] | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    optional: bool = False
    expect: str = ""

    def expected(self) -> str:
        """What a valid value is, in words ("a positive int", "one of 'a', 'b'", ...)."""
        if self.expect:
            words = self.expect
        elif self.choices is not None:
            words = "one of " + ", ".join(map(repr, self.choices))
        else:
            words = _type_words(self)
        none_ok = self.optional or self.default is None
        return f"{words} or None" if none_ok and not self.expect else words

    def check(self, where: str, value: Any) -> Any:
        """Return ``value`` if it fits this option, else raise naming ``where`` and the option."""
        if value is None and (self.optional or self.default is None):
            return None
        if self.choices is not None:
            if not _among(value, self.choices):
                raise SegmenterOptionError(
                    f"{where}: unknown {where} {self.name} {value!r}; {self.name} must be "
                    f"{self.expected()} ({self.meaning})"
                )
            return value
        if (self.types and not _typed(value, self.types)) or not _in_range(self, value):
            raise SegmenterOptionError(
                f"{where}: {self.name} must be {self.expected()}, got {value!r} ({self.meaning})"
            )
        return value

    def describe(self) -> str:
        """One line: ``name = default: meaning (expected)``."""
        return f"{self.name}={self.default!r}: {self.meaning} ({self.expected()})"


def _type_words(opt: Option) -> str:
    kinds = set(opt.types)
    if kinds == {bool}:
        return "True or False"
    if kinds == {int}:
        if opt.ge == 1 and opt.le is None:
            return "a positive int"
        if opt.ge == 0 and opt.le is None:
            return "a non-negative int"
        return "an int" + _range_words(opt)
    if float in kinds:
        if opt.gt == 0 and opt.le is None:
            return "a positive finite number"
        return "a finite number" + _range_words(opt)
    if kinds >= set(PATH):
        return "a file path"
    if kinds == {str}:
        return "text"
    return " or ".join(sorted(t.__name__ for t in kinds)) or "a value"


def _range_words(opt: Option) -> str:
    low = f"greater than {opt.gt:g}" if opt.gt is not None else None
    if opt.ge is not None:
        low = f"at least {opt.ge:g}"
    if opt.ge is not None and opt.le is not None:
        return f" from {opt.ge:g} to {opt.le:g}"
    if low and opt.le is not None:
        return f" {low} and at most {opt.le:g}"
    if opt.le is not None:
        return f" at most {opt.le:g}"
    return f" {low}" if low else ""


def _among(value: Any, choices: Sequence[Any]) -> bool:
    # True == 1 in Python: a bool is never a choice unless bools are the choices
    return any(type(value) is type(c) and value == c for c in choices) or (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and any(type(c) is int and value == c for c in choices)
    )


def _typed(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, numbers.Integral):
        return int in types or float in types
    if isinstance(value, numbers.Real):
        return float in types and math.isfinite(value)
    return isinstance(value, tuple(t for t in types if t not in (int, float, bool)))


def _in_range(opt: Option, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return True
    return not (
        (opt.ge is not None and value < opt.ge)
        or (opt.gt is not None and value <= opt.gt)
        or (opt.le is not None and value > opt.le)
    )


def check_declared(
    where: str, declared: Iterable[Option], options: Mapping[str, Any]
) -> dict[str, Any]:
    """Check ``options`` against ``declared``; return every declared option's value (defaults filled)."""
    table = {opt.name: opt for opt in declared}
    if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
        raise SegmenterOptionError(f"{where}: options must be a mapping of names to values")
    unknown = sorted(set(options) - set(table))
    if unknown:
        raise SegmenterOptionError(
            f"{where}: unknown option(s) {', '.join(unknown)}; valid options: "
            f"{', '.join(table) or 'none'} ({'; '.join(o.describe() for o in table.values())})"
        )
    return {
        name: opt.check(where, options[name]) if name in options else opt.default
        for name, opt in table.items()
    }


def describe_options(declared: Iterable[Option]) -> str:
    """One line per option (default, meaning, what it takes), indented, for messages and help."""
    return "\n".join(f"  {opt.describe()}" for opt in declared)
