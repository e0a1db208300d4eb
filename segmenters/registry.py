"""One registry of segmenters by name: built-ins, decorated classes, and entry-point plug-ins."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from segmenters.errors import UnknownSegmenterError

ENTRY_POINT_GROUP = "bipe.segmenters"

# Built-ins are named lazily ("module:attr") so that importing `segmenters` never imports spaCy
# or tree-sitter; a segmenter's heavy dependency loads only when it is asked for.
_BUILTINS: dict[str, tuple[str, str]] = {
    "punct": ("segmenters.punct:PunctSegmenter", "punctuation and newline: sentence terminals of many scripts"),
    "fixed": ("segmenters.fixed:FixedSegmenter", "fixed-length segments by characters or by tokens"),
    "sentence": ("segmenters.sentence:SentenceSegmenter", "sentences from spaCy (sentencizer, senter or parser)"),
    "code": ("segmenters.code:CodeSegmenter", "tree-sitter code blocks: file > definition > statement > line"),
    "markdown": ("segmenters.markdown:MarkdownSegmenter", "Markdown (markdown-it-py): section > block > sentence"),
    "changepoint": ("segmenters.changepoint:ChangePointSegmenter", "time series between ruptures change points (numbers, one per line)"),
    "dna": ("segmenters.bio:DnaSegmenter", "DNA (Biopython): open reading frames > codons"),
    "protein": ("segmenters.bio:ProteinSegmenter", "protein (Biopython alphabet): fixed windows or PROSITE motif starts"),
    "entropy": ("segmenters.entropy:EntropySegmenter", "learned: cuts where an n-gram model's next-symbol entropy jumps"),
}

_registered: dict[str, tuple[Callable[..., Any], str]] = {}


def register_segmenter(name: str, description: str = "") -> Callable[[type], type]:
    """Class decorator that registers a segmenter factory under ``name``."""

    def deco(cls: type) -> type:
        cls.name = name
        if description:
            cls.description = description
        doc_lines = (cls.__doc__ or "").strip().splitlines()
        _registered[name] = (cls, description or (doc_lines[0] if doc_lines else ""))
        return cls

    return deco


def _plugins() -> dict[str, Any]:
    try:
        return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    except Exception:  # a broken third-party distribution must not break the registry
        return {}


def list_segmenters() -> list[str]:
    """Names of every available segmenter (built-in, registered or plug-in), sorted."""
    return sorted(set(_BUILTINS) | set(_registered) | set(_plugins()))


def describe_segmenters() -> dict[str, str]:
    """Each segmenter's name mapped to its one-line description."""
    out = {name: desc for name, (_, desc) in _BUILTINS.items()}
    out.update({name: desc for name, (_, desc) in _registered.items()})
    for name, ep in _plugins().items():
        out.setdefault(name, f"plug-in {ep.value}")
    return dict(sorted(out.items()))


def _resolve(name: str) -> Callable[..., Any]:
    if name in _registered:
        return _registered[name][0]
    if name in _BUILTINS:
        mod, attr = _BUILTINS[name][0].split(":")
        return getattr(importlib.import_module(mod), attr)
    plugins = _plugins()
    if name in plugins:
        return plugins[name].load()
    raise UnknownSegmenterError(
        f"unknown segmenter {name!r}; available: {', '.join(list_segmenters())}"
    )


def get_segmenter(name: str, **options: Any) -> Any:
    """Create the segmenter registered as ``name`` with ``options`` (validated by the segmenter)."""
    if not isinstance(name, str):
        raise UnknownSegmenterError(
            f"segmenter name must be a str, got {type(name).__name__}; available: {', '.join(list_segmenters())}"
        )
    factory = _resolve(name)
    seg = factory(**options)
    # Recorded so worker processes in `segment_many` can rebuild the same segmenter by name.
    seg.name = name
    seg.options = dict(options)
    return seg
