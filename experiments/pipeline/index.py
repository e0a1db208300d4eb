"""What one pass over a corpus learns: its content fingerprint and the split of every document,
kept on disk for streamed sources so that an unchanged source is not read again to be recognised.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from experiments.corpora import SPLITS, Corpus, Document
from experiments.corpora.documents import SplitPlan, SplitPlanner, fingerprint_documents
from experiments.pipeline.shards import atomic_write, cache_os_error, short_hash, spec_name


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
    path = None
    if corpus.reader is not None:
        key = json.dumps([corpus.reader.change_key, val_frac, test_frac, corpus.reader.max_docs])
        path = base / "index" / f"{spec_name(corpus.name)}-{short_hash(key)}.json"
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            d["plan"] = SplitPlan(**d["plan"])
            return CorpusIndex(**d)
        except (OSError, ValueError, TypeError, KeyError):
            pass
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
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(d)), suffix=".json")
        except OSError as exc:
            raise cache_os_error(base, exc) from None
    return index
