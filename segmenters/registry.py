"""One registry of segmenters by name: built-ins, decorated classes, and entry-point plug-ins."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import catalogue

from segmenters.errors import UnknownSegmenterError

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


def get_segmenter(name: str, **options: Any) -> Any:
    """Create the segmenter registered as ``name`` with ``options`` (validated by the segmenter)."""
    if not isinstance(name, str):
        raise UnknownSegmenterError(
            f"segmenter name must be a str, got {type(name).__name__}; available: {', '.join(list_segmenters())}"
        )
    seg = _factory(name)(**options)
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
