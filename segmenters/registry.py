"""One registry of segmenters by name: built-ins, decorated classes, and entry-point plug-ins."""

from __future__ import annotations

import importlib
import inspect
import math
import typing
from collections.abc import Callable
from typing import Any

import catalogue

from segmenters.errors import SegmenterOptionError, UnknownSegmenterError
from segmenters.options import Option, check_declared

ENTRY_POINT_GROUP = "bipe.segmenters"
# Third-party packages add segmenters through the entry-point group "bipe.segmenters" (catalogue reads it).
SEGMENTERS = catalogue.Registry((ENTRY_POINT_GROUP,), entry_points=True)

# Built-ins are named lazily ("module:attr") so that importing `segmenters` never imports spaCy,
# tree-sitter, ruptures, Biopython or markdown-it; each loads only when its segmenter is asked for.
_BUILTINS = {
    "punct": ("segmenters.punct:PunctSegmenter", "punctuation and newline: sentence terminals of many scripts"),
    "fixed": ("segmenters.fixed:FixedSegmenter", "fixed-length segments by characters or by tokens"),
    "sentence": ("segmenters.sentence:SentenceSegmenter", "sentences from spaCy (sentencizer, senter or parser)"),
    "code": ("segmenters.code:CodeSegmenter", "tree-sitter code blocks: file > definition > statement > line"),
    "markdown": ("segmenters.markdown:MarkdownSegmenter", "Markdown (markdown-it-py): section > block > sentence"),
    "changepoint": ("segmenters.changepoint:ChangePointSegmenter", "time series between ruptures change points (numbers, one per line)"),
    "dna": ("segmenters.bio:DnaSegmenter", "DNA (Biopython): open reading frames > codons"),
    "protein": ("segmenters.bio:ProteinSegmenter", "protein (Biopython alphabet): fixed windows or PROSITE motif starts"),
    "entropy": ("segmenters.entropy:EntropySegmenter", "learned: cuts where an n-gram model's next-symbol entropy jumps"),
}  # fmt: skip


def _lazy(target: str, description: str) -> Callable[..., Any]:
    """A factory that imports ``target`` ("module:attr") only when called, and builds it."""

    def factory(**options: Any) -> Any:
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)(**options)

    factory.description = description  # type: ignore[attr-defined]
    factory.target = target  # type: ignore[attr-defined]  # whose signature declares the options
    return factory


for _name, _spec in _BUILTINS.items():
    SEGMENTERS.register(_name, func=_lazy(*_spec))


def register_segmenter(name: str, description: str = "") -> Callable[[type], type]:
    """Class decorator that registers a segmenter factory under ``name``."""

    def deco(cls: type) -> type:
        cls.name = name
        if description:
            cls.description = description
        SEGMENTERS.register(name, func=cls)
        return cls

    return deco


def _entry_points() -> dict[str, str]:
    """Plug-in names mapped to their "module:attr", without loading any of them."""
    group = catalogue.AVAILABLE_ENTRY_POINTS.select(group=SEGMENTERS.entry_point_namespace)
    return {ep.name: ep.value for ep in group}


def _in_process() -> dict[str, Any]:
    """Built-ins and decorated classes: name -> factory."""
    ns = tuple(SEGMENTERS.namespace)
    return {key[-1]: obj for key, obj in catalogue.REGISTRY.items() if key[:-1] == ns}


def _description(obj: Any) -> str:
    """A factory's ``description``, else the first line of its docstring."""
    doc_lines = (obj.__doc__ or "").strip().splitlines()
    return getattr(obj, "description", "") or (doc_lines[0] if doc_lines else "")


def list_segmenters() -> list[str]:
    """Names of every available segmenter (built-in, registered or plug-in), sorted."""
    return sorted(set(_in_process()) | set(_entry_points()))


def describe_segmenters() -> dict[str, str]:
    """Each segmenter's name mapped to its one-line description."""
    out = {name: _description(obj) for name, obj in _in_process().items()}
    for name, value in _entry_points().items():
        out.setdefault(name, f"plug-in {value}")
    return dict(sorted(out.items()))


def declared_options(name: str) -> tuple[Option, ...]:
    """The options segmenter ``name`` takes: its ``OPTIONS``, else read from its signature."""
    declaring = _declaring(_factory(name))
    declared = getattr(declaring, "OPTIONS", None)
    if isinstance(declared, tuple) and all(isinstance(o, Option) for o in declared):
        return declared
    try:
        params = inspect.signature(declaring).parameters.values()
    except (TypeError, ValueError):
        return ()
    return tuple(
        Option(p.name, (), p.default, "(not declared)")
        for p in params
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is not p.empty
    )


def get_segmenter(name: str, **options: Any) -> Any:
    """Create the segmenter registered as ``name`` with ``options`` (validated by the segmenter)."""
    if not isinstance(name, str):
        raise UnknownSegmenterError(
            f"segmenter name must be a str, got {type(name).__name__}; available: {', '.join(list_segmenters())}"
        )
    factory = _factory(name)
    check_options(name, _declaring(factory), options)
    seg = factory(**options)
    # Recorded so worker processes in `segment_many` can rebuild the same segmenter by name.
    seg.name = name
    seg.options = dict(options)
    return seg


def _factory(name: str) -> Callable[..., Any]:
    # In-process names win, as the docs promise: catalogue alone would let a plug-in's entry
    # point shadow a built-in of the same name.
    key = (*SEGMENTERS.namespace, name)
    if key in catalogue.REGISTRY:
        return catalogue.REGISTRY[key]
    try:
        return SEGMENTERS.get(name)
    except catalogue.RegistryError:
        raise UnknownSegmenterError(
            f"unknown segmenter {name!r}; available: {', '.join(list_segmenters())}"
        ) from None


def _declaring(factory: Callable[..., Any]) -> Callable[..., Any]:
    """The callable whose signature declares a segmenter's options (a lazy built-in's class)."""
    target = getattr(factory, "target", None)
    if target is None:
        return factory
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def check_options(name: str, declaring: Callable[..., Any], options: dict[str, Any]) -> None:
    """Refuse options a segmenter does not declare, or of another type or range than declared.

    A segmenter declares its options in ``OPTIONS`` (`segmenters.options.Option`: type, range
    or choices, default, meaning), as every built-in does. A plug-in without ``OPTIONS`` is
    checked from its constructor's keyword parameters (names, annotations, defaults); one that
    takes ``**options`` then checks them itself.
    """
    declared = getattr(declaring, "OPTIONS", None)
    if isinstance(declared, tuple) and all(isinstance(o, Option) for o in declared):
        check_declared(name, declared, options)
        return
    try:
        params = inspect.signature(declaring).parameters
    except (TypeError, ValueError):  # a builtin or C callable: nothing to read
        return
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    declared = {
        k: p for k, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    unknown = sorted(set(options) - set(declared))
    if unknown:
        valid = ", ".join(f"{k}={p.default!r}" for k, p in declared.items()) or "none"
        raise SegmenterOptionError(
            f"{name}: unknown option(s) {', '.join(unknown)}; valid options (defaults): {valid}"
        )
    try:
        hints = typing.get_type_hints(
            declaring.__init__ if inspect.isclass(declaring) else declaring
        )
    except Exception:  # unresolvable annotations declare no types
        return
    for key, value in options.items():
        allowed = _plain_types(hints.get(key))
        if allowed and not _fits(value, allowed):
            words = " or ".join(sorted(_WORDS.get(t, t.__name__) for t in allowed))
            raise SegmenterOptionError(f"{name}: option {key}={value!r} must be {words}")


_WORDS = {
    type(None): "none",
    bool: "true or false",
    int: "an integer",
    float: "a number",
    str: "text",
}


def _plain_types(hint: Any) -> set[type]:
    """The plain types a hint allows (``int | None`` -> {int, NoneType}); empty for Any/object."""
    if hint is None or hint is Any or hint is object:
        return set()
    args = typing.get_args(hint) or (hint,)
    if not all(isinstance(k, type) and not typing.get_args(k) for k in args):
        return set()  # list[str] | None and the like: the constructor checks them
    kinds = set(args)
    if object in kinds or not kinds <= {int, float, bool, str, type(None)}:
        return set()  # containers, paths, callables: the constructor checks them
    return kinds


def _fits(value: Any, allowed: set[type]) -> bool:
    """True when ``value`` is one of ``allowed`` (an int is a float, text is never a number)."""
    if value is None:
        return type(None) in allowed
    if isinstance(value, bool):
        return bool in allowed
    if isinstance(value, int):
        return bool(allowed & {int, float}) or str in allowed
    if isinstance(value, float):
        return (float in allowed and math.isfinite(value)) or str in allowed
    return isinstance(value, tuple(allowed))
