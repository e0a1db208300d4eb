"""Corpus options, declared once: each loader's signature names its options, their types (the
annotations), their ranges or choices (`Bounds`, `Choices` in ``Annotated``) and their defaults.

`check_options` reads a spec's option text against that declaration before the loader runs, so
an unknown name, a wrong type (``seed=abc``, ``batch_rows=2.5``, ``own_splits=maybe``) or a value
out of range (``max_depth=5000``) is a `CorpusOptionError` naming the corpus and the option and
listing the options it has. A text option keeps its text as written (``id=007`` stays ``007``).
"""

from __future__ import annotations

import inspect
import math
import typing
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from experiments.errors import ExperimentError
from experiments.specs import parse_value

_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off")
_NONE = ("none", "null")
_WORDS = {type(None): "none", bool: "true or false", int: "an integer", float: "a number",
          str: "text"}  # fmt: skip


class CorpusSourceError(ExperimentError):
    """A corpus or corpus source that cannot be read: bad option, missing path, bad line, ..."""


class CorpusOptionError(CorpusSourceError):
    """A corpus option that is unknown, of the wrong type or out of its declared range."""


@dataclass(frozen=True)
class Bounds:
    """The closed range ``low..high`` of a numeric option (``None``: unbounded on that side)."""

    low: float | None = None
    high: float | None = None

    def words(self) -> str:
        """The range in words: ``between 2 and 12``, ``>= 0``, ``<= 9``."""
        if self.low is not None and self.high is not None:
            return f"between {self.low:,} and {self.high:,}"
        return f">= {self.low:,}" if self.low is not None else f"<= {self.high:,}"

    def holds(self, value: float) -> bool:
        """Whether ``value`` lies in the range."""
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class Choices:
    """The values a text option may take."""

    values: tuple[str, ...]

    def words(self) -> str:
        """The choices in words: ``one of skip, fail``."""
        return "one of " + ", ".join(self.values)

    def holds(self, value: str) -> bool:
        """Whether ``value`` is one of the choices."""
        return value in self.values


@dataclass(frozen=True)
class Option:
    """One declared option: its name, the plain types it takes, its limit and its default."""

    name: str
    kinds: frozenset[type]  # empty: undeclared (a plug-in without annotations), read as parsed
    limit: Bounds | Choices | None
    default: Any

    def words(self) -> str:
        """``max_depth (an integer, between 2 and 12, default 5)``."""
        kinds = " or ".join(sorted(_WORDS[k] for k in self.kinds)) or "any value"
        limit = f", {self.limit.words()}" if self.limit is not None else ""
        return f"{self.name} ({kinds}{limit}, default {self.default!r})"


def declared_options(load: Any) -> list[Option]:
    """The options a corpus loader declares: its keyword parameters other than ``max_docs``."""
    try:
        hints = typing.get_type_hints(load, include_extras=True)
    except Exception:  # a plug-in with unresolvable annotations declares no types
        hints = {}
    out = []
    for p in inspect.signature(load).parameters.values():
        if p.name == "max_docs" or p.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            continue
        kinds, limit = _kinds(hints.get(p.name))
        default = None if p.default is p.empty else p.default
        out.append(Option(p.name, kinds, limit, default))
    return out


def _kinds(hint: Any) -> tuple[frozenset[type], Bounds | Choices | None]:
    """The plain types a hint allows (``int | None`` -> {int, NoneType}) and its limit, if any."""
    limit = None
    if typing.get_origin(hint) is typing.Annotated:
        hint, *extras = typing.get_args(hint)
        limit = next((e for e in extras if isinstance(e, Bounds | Choices)), None)
    if hint is None or hint is object or hint is Any:
        return frozenset(), limit
    args = typing.get_args(hint) or (hint,)
    if not all(isinstance(k, type) and not typing.get_args(k) for k in args):
        return frozenset(), limit  # list[str] | None and the like: the loader checks them
    kinds = {str if isinstance(k, type) and issubclass(k, PurePath) else k for k in args}
    if not kinds <= set(_WORDS):
        return frozenset(), limit
    return frozenset(kinds), limit


def check_options(corpus: str, load: Any, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` (text from a spec, or values) read and checked against ``load``'s declaration."""
    declared = {o.name: o for o in declared_options(load)}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in inspect.signature(load).parameters.values())
    out = {}
    for key, value in options.items():
        option = declared.get(key)
        if option is None and not takes_any:
            raise CorpusOptionError(
                f"corpus {corpus!r} has no option {key!r}; valid: {_listing(declared)}"
            )
        try:
            out[key] = _read(option, value)
        except ValueError as exc:
            raise CorpusOptionError(
                f"corpus {corpus!r}: option {key}={value!r} {exc}; options: {_listing(declared)}"
            ) from None
    return out


def _listing(declared: dict[str, Option]) -> str:
    return ", ".join(o.words() for o in declared.values()) or "none"


def _read(option: Option | None, value: Any) -> Any:
    """One option's value in its declared type and limit; ValueError says what is wrong."""
    if option is None or not option.kinds:
        return parse_value(value) if isinstance(value, str) else value
    out = _convert(value, option.kinds)
    limited = option.limit is not None and out is not None and not isinstance(out, bool)
    if limited and not option.limit.holds(out):
        raise ValueError(f"must be {option.limit.words()}")
    return out


def _convert(value: Any, kinds: frozenset[type]) -> Any:
    """``value`` as one of ``kinds``: text is read by the types it may be, in a fixed order."""
    words = " or ".join(sorted(_WORDS[k] for k in kinds))
    if not isinstance(value, str):
        return _checked_value(value, kinds, words)
    low = value.strip().lower()
    if type(None) in kinds and low in _NONE:
        return None
    if bool in kinds and low in _TRUE + _FALSE:
        return low in _TRUE
    for kind in (int, float):
        if kind in kinds:
            try:
                number = kind(value)
            except ValueError:
                continue
            if math.isfinite(number):
                return number
    if str in kinds:
        if not value.strip():
            raise ValueError("is empty")
        return value.strip()
    raise ValueError(f"must be {words}")


def _checked_value(value: Any, kinds: frozenset[type], words: str) -> Any:
    """A value given as a Python object (not spec text): its type must be declared."""
    if isinstance(value, PurePath) and str in kinds:
        return str(value)
    if isinstance(value, bool):
        ok = bool in kinds
    elif isinstance(value, int):
        ok = bool(kinds & {int, float})
    elif isinstance(value, float):
        ok = float in kinds and math.isfinite(value)
    else:
        ok = isinstance(value, tuple(kinds))
    if not ok:
        raise ValueError(f"must be {words}")
    return value
