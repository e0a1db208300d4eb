"""What one pass over a corpus learns: its content fingerprint and the split of every document,
kept on disk for streamed sources so that an unchanged source is not read again to be recognised.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from experiments.corpora import SPLITS, Corpus, Document
from experiments.corpora.documents import SplitPlan, SplitPlanner, fingerprint_documents
from experiments.pipeline.shards import atomic_write, cache_os_error, entry_name, key_digest

INDEX_FORMAT = 2  # 2: records carry their key and a checksum


@dataclass
class CorpusIndex:
    """What one pass over a corpus learns: its content fingerprint and every document's split."""

    fingerprint: str
    plan: SplitPlan
    documents: int
    chars: int
    skipped: int = 0  # documents a streamed source skipped (e.g. not UTF-8)


def corpus_index(corpus: Corpus, base: Path, val_frac: float, test_frac: float) -> CorpusIndex:
    """The corpus's index: computed in one pass, kept under ``<base>/index`` for streamed sources.

    A streamed source's index is found again by its change key (paths, sizes, modification
    times, options), so an unchanged source is not re-read just to be recognised.
    """
    path = key = None
    if corpus.reader is not None:
        reader = corpus.reader
        key = key_digest(
            INDEX_FORMAT, corpus.name, reader.change_key, val_frac, test_frac, reader.max_docs
        )
        path = base / "index" / f"{entry_name(corpus.name, key, limit=32)}.json"
        found = _read_index(path, key)
        if found is not None:
            return found
    counts = dict.fromkeys(SPLITS, 0)
    chars = 0
    planner = SplitPlanner(val_frac, test_frac)

    def feed(docs: Iterator[Document], split: str | None = None) -> Iterator[Document]:
        nonlocal chars
        for d in docs:
            chars += len(d.text)
            if split is None:
                planner.add(d.id)
            else:
                counts[split] += 1
            yield d

    if corpus.reader is not None and corpus.reader.own_splits:
        fingerprint = fingerprint_documents(
            itertools.chain.from_iterable(feed(corpus.reader.documents(s), s) for s in SPLITS)
        )
        plan = SplitPlan(val_frac, test_frac, counts=counts, own=True)
    else:
        fingerprint = fingerprint_documents(feed(corpus.iter_documents()))
        plan = planner.finish(lambda: (d.id for d in corpus.iter_documents()))
    skipped = int(getattr(corpus.reader, "skipped", 0))
    index = CorpusIndex(fingerprint, plan, sum(plan.counts.values()), chars, skipped)
    if path is not None:
        d = dataclasses.asdict(index)
        text = json.dumps({"key": key, "index": d, "digest": key_digest(d)})
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda tmp: Path(tmp).write_text(text), suffix=".json")
        except OSError as exc:
            raise cache_os_error(base, exc) from None
    return index


def _read_index(path: Path, key: str) -> CorpusIndex | None:
    """The index recorded at ``path`` for ``key``; None (recomputed) when missing or damaged."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        d = record["index"]
        if record["key"] != key:
            return None
        if record["digest"] != key_digest(d):
            warnings.warn(
                f"cached corpus index {path} does not match its recorded checksum (damaged or "
                "edited); reading the corpus again",
                stacklevel=3,
            )
            return None
        d["plan"] = SplitPlan(**d["plan"])
        return CorpusIndex(**d)
    except (OSError, ValueError, TypeError, KeyError):
        return None  # no index yet, or one of an older format
