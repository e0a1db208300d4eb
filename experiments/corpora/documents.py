"""Documents and their train/val/test split: the data a corpus is made of, in memory or streamed.

The split of a document depends only on a hash of its id, so adding or removing other documents
never moves it (`split_documents`, `SplitPlanner` for streamed corpora). The named corpora and the
registry that loads them by spec live beside this module in `experiments.corpora`.
"""

from __future__ import annotations

import hashlib
import heapq
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from experiments.errors import ExperimentError

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Document:
    """One document: a stable id (used for the split) and its text."""

    id: str
    text: str


@dataclass(frozen=True)
class CorpusInfo:
    """Where a corpus comes from and under which licence it may be used."""

    name: str
    description: str
    source: str
    licence: str
    requires: str


class DocumentReader(Protocol):
    """A streamed document source (see `experiments.corpora.sources`): read again on every pass."""

    change_key: str  # changes whenever the content may have changed (paths, sizes, mtimes)
    own_splits: bool  # True: documents(split) gives the source's own train/val/test splits
    skipped: int  # documents skipped by the last full pass (e.g. undecodable files)

    def documents(self, split: str | None = None) -> Iterator[Document]:
        """Every document in a stable order (or one own split's)."""
        ...


@dataclass
class Corpus:
    """A named sequence of documents with its provenance: in memory, or streamed by a reader."""

    info: CorpusInfo
    documents: list[Document] | None = None  # None for streamed corpora
    options: dict[str, object] = field(default_factory=dict)
    reader: DocumentReader | None = None

    def __post_init__(self) -> None:
        if (self.documents is None) == (self.reader is None):
            raise ExperimentError("a Corpus holds either a list of documents or a reader")

    @property
    def name(self) -> str:
        """The corpus name (registry key, or a short label for a source)."""
        return self.info.name

    @property
    def streamed(self) -> bool:
        """Whether documents are read from disk on every pass instead of held in memory."""
        return self.reader is not None

    def iter_documents(self) -> Iterator[Document]:
        """Every document in corpus order (all own splits in turn for such sources)."""
        if self.documents is not None:
            yield from self.documents
        elif self.reader.own_splits:
            for s in SPLITS:
                yield from self.reader.documents(s)
        else:
            yield from self.reader.documents()

    def n_chars(self) -> int:
        """Total characters over all documents."""
        return sum(len(d.text) for d in self.iter_documents())

    def split_plan(self, val_frac: float = 0.05, test_frac: float = 0.05) -> SplitPlan:
        """The split of every document (one pass over the ids of a streamed corpus)."""
        if self.reader is not None and self.reader.own_splits:
            return SplitPlan(val_frac, test_frac, own=True)
        return split_plan(lambda: (d.id for d in self.iter_documents()), val_frac, test_frac)

    def iter_split(
        self,
        name: str,
        val_frac: float = 0.05,
        test_frac: float = 0.05,
        plan: SplitPlan | None = None,
    ) -> Iterator[Document]:
        """The documents of split ``name`` streamed in corpus order (``plan`` saves a pass)."""
        if name not in SPLITS:
            raise ExperimentError(f"unknown split {name!r}; valid: {', '.join(SPLITS)}")
        plan = plan or self.split_plan(val_frac, test_frac)
        if plan.own:
            yield from self.reader.documents(name)
            return
        for d in self.iter_documents():
            if plan.split_of(d.id) == name:
                yield d

    def split(self, name: str, val_frac: float = 0.05, test_frac: float = 0.05) -> list[Document]:
        """The documents of split ``name`` (train, val or test), in corpus order."""
        return list(self.iter_split(name, val_frac, test_frac))

    def fingerprint(self) -> str:
        """A short hash of the ids and texts, naming caches derived from this exact corpus."""
        return fingerprint_documents(self.iter_documents())


def fingerprint_documents(docs: Iterable[Document]) -> str:
    """A short hash of document ids and texts in order (the content key of every cache)."""
    h = hashlib.sha1()
    for d in docs:
        h.update(d.id.encode("utf-8", "surrogatepass") + b"\0")
        h.update(hashlib.sha1(d.text.encode("utf-8", "surrogatepass")).digest())
    return h.hexdigest()[:12]


def _id_key(doc_id: str) -> int:
    digest = hashlib.sha256(doc_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big")


def doc_hash(doc_id: str) -> float:
    """A uniform number in [0, 1) derived from a document id (stable across runs and machines)."""
    return _id_key(doc_id) / 2**64


def _check_fractions(val_frac: float, test_frac: float) -> None:
    if not (0 <= val_frac < 1 and 0 <= test_frac < 1 and val_frac + test_frac < 1):
        raise ExperimentError(
            f"split fractions must be in [0, 1) and sum below 1, got val={val_frac}, test={test_frac}"
        )


def _rule_split(h: float, val_frac: float, test_frac: float) -> str:
    return "test" if h < test_frac else "val" if h < test_frac + val_frac else "train"


@dataclass
class SplitPlan:
    """The split of every document: the hash rule plus the few documents moved out of train.

    ``own`` marks a source that ships its own splits (the rule is not used then).
    """

    val_frac: float
    test_frac: float
    moved: dict[str, str] = field(default_factory=dict)  # id -> split, for moved documents
    counts: dict[str, int] = field(default_factory=dict)
    own: bool = False

    def split_of(self, doc_id: str) -> str:
        """The split of the document with id ``doc_id``."""
        return self.moved.get(doc_id) or _rule_split(
            doc_hash(doc_id), self.val_frac, self.test_frac
        )


class SplitPlanner:
    """Builds a `SplitPlan` from ids seen one at a time (memory: 8 bytes per document)."""

    def __init__(self, val_frac: float, test_frac: float) -> None:
        _check_fractions(val_frac, test_frac)
        self.val_frac, self.test_frac = val_frac, test_frac
        self.counts = dict.fromkeys(SPLITS, 0)
        self.lowest: list[tuple[float, str]] = []  # max-heap (negated) of the 2 lowest train hashes
        self.keys = array("Q")  # 8 bytes per document, not a Python int each

    def add(self, doc_id: str) -> None:
        """Count one document."""
        key = _id_key(doc_id)
        self.keys.append(key)
        h = key / 2**64
        split = _rule_split(h, self.val_frac, self.test_frac)
        self.counts[split] += 1
        if split == "train":
            heapq.heappush(self.lowest, (-h, doc_id))
            if len(self.lowest) > 2:
                heapq.heappop(self.lowest)

    def finish(self, ids_again: Callable[[], Iterable[str]]) -> SplitPlan:
        """The plan; ``ids_again`` re-reads the ids only to name a duplicate."""
        import numpy as np

        keys = np.sort(np.frombuffer(self.keys, dtype=np.uint64))
        dup_keys = set(keys[1:][keys[1:] == keys[:-1]].tolist())
        if dup_keys:
            seen: set[str] = set()
            for i in ids_again():
                if _id_key(i) in dup_keys:
                    if i in seen:
                        raise ExperimentError(
                            f"duplicate document id {i!r}: ids must be unique for the split"
                        )
                    seen.add(i)
        counts = dict(self.counts)
        moved: dict[str, str] = {}
        lowest = sorted((-h, i) for h, i in self.lowest)
        if sum(counts.values()) >= 3:
            for name in ("test", "val"):
                if not counts[name] and counts["train"] > 1 and lowest:
                    _, doc_id = lowest.pop(0)
                    moved[doc_id] = name
                    counts["train"] -= 1
                    counts[name] += 1
        return SplitPlan(self.val_frac, self.test_frac, moved, counts)


def split_plan(ids: Callable[[], Iterable[str]], val_frac: float, test_frac: float) -> SplitPlan:
    """The split plan of the documents whose ids ``ids()`` yields (read once, twice on a duplicate)."""
    planner = SplitPlanner(val_frac, test_frac)
    for i in ids():
        planner.add(i)
    return planner.finish(ids)


def split_documents(
    docs: list[Document], val_frac: float = 0.05, test_frac: float = 0.05
) -> dict[str, list[Document]]:
    """Assign each document to train/val/test by the hash of its id.

    A document goes to test when its hash is below ``test_frac``, to val when below
    ``test_frac + val_frac``. With three or more documents no split is left empty: the train
    document with the lowest hash moves to an empty test (then val) split, so tiny corpora work.
    """
    plan = split_plan(lambda: (d.id for d in docs), val_frac, test_frac)
    out: dict[str, list[Document]] = {s: [] for s in SPLITS}
    for d in docs:
        out[plan.split_of(d.id)].append(d)
    return out


def limit_documents(docs: list, max_docs: int | None) -> list:
    """At most ``max_docs`` of ``docs``, spread over the whole list (all of them for None)."""
    if max_docs is None or max_docs >= len(docs):
        return docs
    # Take documents spread over the whole corpus (not the first n) so a small budget still
    # covers every book / package; the choice is deterministic.
    step = len(docs) / max_docs
    return [docs[int(i * step)] for i in range(max_docs)]
