"""The corpus registry: named corpora and corpus sources, each with its provenance and loader.

Built-ins register where they are defined (`experiments.corpora.named`, `.modal`, `.sources`);
`experiments.corpora.catalog` imports them all before it looks a name up, so what is listed never
depends on which module was imported first. Other packages add corpora with `register_corpus`
or through the entry-point group ``bipe.corpora`` (an entry point names a `CorpusEntry`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from experiments.corpora.documents import Corpus, CorpusInfo
from experiments.registry import Registry


class CorpusEntry(NamedTuple):
    """A registry entry: provenance and the loader, called as ``load(max_docs=..., **options)``."""

    info: CorpusInfo
    load: Callable[..., Corpus]


CORPORA = Registry("corpora", "corpus")


def register_corpus(info: CorpusInfo, load: Callable[..., Corpus]) -> CorpusEntry:
    """Add a corpus or corpus source under ``info.name``; accepted wherever a corpus is."""
    entry = CorpusEntry(info, load)
    CORPORA.register(info.name, entry)
    return entry
