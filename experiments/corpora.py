"""Corpora read from local files only: one registry of named corpora and corpus sources.

A corpus is named by a spec (`experiments.specs`): a registered name such as ``kjv`` or
``arith:seed=3``, or a source with its options such as ``jsonl:path=data.jsonl,text=body``
(the file sources live in `experiments.sources`). Each corpus is a sequence of documents with stable
ids, held in memory (`Corpus.documents`) or streamed from disk (`Corpus.reader`); the
train/val/test split of a document depends only on a hash of its id, so adding or removing other
documents never moves it.
"""

from __future__ import annotations

import hashlib
import heapq
import inspect
import os
import random
import re
import shutil
import subprocess
import sys
import sysconfig
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import NamedTuple, Protocol

from experiments.errors import ExperimentError
from experiments.specs import parse_spec

SPLITS = ("train", "val", "test")
PYDOC_ROOT = Path("/usr/share/doc/python3.11/html/_sources")
SAMPLE_FILE = "kjv_genesis.txt"


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
    """A streamed document source (see `experiments.sources`): read again on every pass."""

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


# ---------------------------------------------------------------------------------------- KJV

KJV = CorpusInfo(
    name="kjv",
    description="King James Bible, one document per chapter (1,189), one verse per line",
    source="Debian package bible-kjv (+ bible-kjv-text): `bible -l 100000 gen1:1-rev22:21`",
    licence="public domain (1611 translation; Debian copyright file: copyright expired)",
    requires="apt-get install bible-kjv bible-kjv-text",
)

_CHAPTER = re.compile(r"^(?P<book>(?:[123] )?[A-Z][A-Za-z ]*?) (?P<ch>\d+)$")
_VERSE = re.compile(r"^\s+\d+ (?P<text>.*)$")


def parse_kjv_dump(dump: str) -> list[Document]:
    """Split the `bible` program's dump into chapters with verse numbers removed."""
    docs: list[Document] = []
    current: str | None = None
    verses: list[str] = []
    for line in dump.splitlines():
        m = _CHAPTER.match(line)
        if m:
            if current is not None and verses:
                docs.append(Document(f"kjv/{current}", "\n".join(verses) + "\n"))
            current, verses = f"{m['book']} {m['ch']}", []
            continue
        v = _VERSE.match(line)
        if v and current is not None:
            verses.append(v["text"].strip())
    if current is not None and verses:
        docs.append(Document(f"kjv/{current}", "\n".join(verses) + "\n"))
    return docs


def load_kjv(max_docs: int | None = None) -> Corpus:
    """The KJV Bible dumped by Debian's `bible` program (package bible-kjv)."""
    exe = shutil.which("bible")
    if exe is None:
        raise ExperimentError(
            "corpus 'kjv' needs the `bible` program: install the Debian packages bible-kjv and "
            "bible-kjv-text (apt-get install bible-kjv bible-kjv-text), or use corpus 'sample'"
        )
    try:
        res = subprocess.run(
            [exe, "-l", "100000", "gen1:1-rev22:21"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        raise ExperimentError(
            f"`bible` failed ({exc}); reinstall bible-kjv and bible-kjv-text"
        ) from exc
    docs = parse_kjv_dump(res.stdout)
    if len(docs) < 1000:
        raise ExperimentError(
            f"`bible` produced only {len(docs)} chapters (expected 1,189): is bible-kjv-text installed?"
        )
    return Corpus(KJV, _limit(docs, max_docs), {"max_docs": max_docs})


# -------------------------------------------------------------------------------- CPython code

CPYTHON = CorpusInfo(
    name="cpython",
    description="the Python standard library's .py files, one document per file, tests excluded",
    source="the running interpreter's stdlib directory (sysconfig 'stdlib'), without "
    "site-packages, test/tests/idle_test directories and test_*.py files",
    licence="PSF License Agreement v2 (Python Software Foundation)",
    requires="a CPython installation with its standard library sources (.py files)",
)

_SKIP_DIRS = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}


def load_cpython(max_docs: int | None = None, root: Path | None = None) -> Corpus:
    """CPython standard-library sources (tests excluded), one document per file."""
    root = Path(root or sysconfig.get_paths()["stdlib"])
    if not root.is_dir():
        raise ExperimentError(f"corpus 'cpython': stdlib directory {root} not found")
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        # prune in place: site-packages alone can hold far more files than the stdlib
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        paths.extend(
            Path(dirpath) / f for f in filenames if f.endswith(".py") and not f.startswith("test_")
        )
    paths = _limit(sorted(paths), max_docs)
    docs: list[Document] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # a few stdlib files are latin-1 test fixtures; skip rather than mangle
        if text.strip():
            docs.append(Document(f"cpython/{path.relative_to(root).as_posix()}", text))
    if not docs:
        raise ExperimentError(f"corpus 'cpython': no .py files under {root}")
    return Corpus(CPYTHON, docs, {"max_docs": max_docs, "root": str(root)})


# --------------------------------------------------------------------------------- Python docs

PYDOCS = CorpusInfo(
    name="pydocs",
    description="Python 3.11 documentation sources (.rst.txt): technical prose mixed with code",
    source=f"Debian package python3.11-doc: {PYDOC_ROOT}/**/*.rst.txt",
    licence="PSF License Agreement v2 (documentation of Python 3.11)",
    requires="apt-get install python3.11-doc",
)


def load_pydocs(max_docs: int | None = None, root: Path | None = None) -> Corpus:
    """The reStructuredText sources of the Python 3.11 docs (Debian python3.11-doc)."""
    root = Path(root or PYDOC_ROOT)
    files = sorted(root.rglob("*.rst.txt")) if root.is_dir() else []
    if not files:
        raise ExperimentError(
            f"corpus 'pydocs' needs {root}: install the Debian package python3.11-doc "
            "(apt-get install python3.11-doc)"
        )
    docs = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.strip():
            docs.append(Document(f"pydocs/{path.relative_to(root).as_posix()}", text))
    return Corpus(PYDOCS, _limit(docs, max_docs), {"max_docs": max_docs, "root": str(root)})


# --------------------------------------------------------------------------- synthetic arithmetic

ARITH = CorpusInfo(
    name="arith",
    description="synthetic arithmetic: nested expressions reduced one operation per line "
    "(each step a segment), several problems per document",
    source="generated by experiments.corpora.make_arith_corpus(seed) (Python's random.Random)",
    licence="generated by this project (MIT, like the code)",
    requires="nothing",
)


def _expr(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.25:
        return str(rng.randint(0, 99))
    op = rng.choice("+-*")
    return f"({_expr(rng, depth - 1)}{op}{_expr(rng, depth - 1)})"


_INNER = re.compile(r"\((-?\d+)([+\-*])(-?\d+)\)")


def arith_steps(expr: str) -> list[str]:
    """The expression after each step, reducing the leftmost innermost bracket (values mod 1000)."""
    steps = [expr]
    while True:
        m = _INNER.search(expr)
        if m is None:
            return steps
        a, op, b = int(m[1]), m[2], int(m[3])
        val = (a + b if op == "+" else a - b if op == "-" else a * b) % 1000
        expr = expr[: m.start()] + str(val) + expr[m.end() :]
        steps.append(expr)


def make_arith_corpus(n_docs: int = 2000, seed: int = 0, max_depth: int = 5) -> Corpus:
    """Generate the arithmetic corpus: each problem is a question line then one line per step."""
    if n_docs < 1:
        raise ExperimentError(f"arith corpus needs n_docs >= 1, got {n_docs}")
    rng = random.Random(seed)
    docs = []
    for i in range(n_docs):
        lines = []
        for _ in range(rng.randint(1, 12)):  # varied problem counts give varied document lengths
            expr = _expr(rng, rng.randint(2, max_depth))
            while "(" not in expr:
                expr = _expr(rng, max_depth)
            steps = arith_steps(expr)
            lines.append(f"Q: {steps[0]}")
            lines.extend(f"= {s}" for s in steps[1:])
            lines.append(f"A: {steps[-1]}")
        docs.append(Document(f"arith/{seed}/{i}", "\n".join(lines) + "\n"))
    return Corpus(ARITH, docs, {"n_docs": n_docs, "seed": seed, "max_depth": max_depth})


# ----------------------------------------------------------------------------- embedded sample

SAMPLE = CorpusInfo(
    name="sample",
    description="the Book of Genesis (KJV), one document per chapter, shipped inside the package",
    source=f"experiments/data/{SAMPLE_FILE}, extracted once from Debian bible-kjv",
    licence="public domain (KJV 1611)",
    requires="nothing (embedded)",
)


def load_sample(max_docs: int | None = None) -> Corpus:
    """The embedded Genesis sample: lets the demo and tests run with no system packages."""
    try:
        text = resources.files("experiments").joinpath("data", SAMPLE_FILE).read_text("utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise ExperimentError(f"embedded sample experiments/data/{SAMPLE_FILE} is missing") from exc
    docs = parse_kjv_dump(text)
    return Corpus(SAMPLE, _limit(docs, max_docs), {"max_docs": max_docs})


# ------------------------------------------------- other modalities (experiments.modal_corpora)

SERIES_INFO = CorpusInfo(
    name="series",
    description="23 real time series (sunspots, Nile, Mauna Loa CO2, El Nino, US macro, Danish "
    "money, strikes), one document per series, one value per line",
    source="statsmodels' bundled data sets (statsmodels.datasets.*.load_pandas)",
    licence="public domain (each data set's COPYRIGHT note); statsmodels itself BSD-3",
    requires="pip install 'bipe[series]' (statsmodels)",
)
GENBANK_INFO = CorpusInfo(
    name="genbank-dna",
    description="DNA records (bacteria, primates incl. a 2.2 Mbp human contig, plants, rodents, "
    "viruses), one document per record, the bare sequence",
    source="Debian package emboss-test: /usr/share/EMBOSS/test/genbank/*.seq, parsed by Bio.SeqIO",
    licence="GenBank/EMBL records (public, no use restrictions by NCBI); packaged under the "
    "EMBOSS licence (GPL), see /usr/share/doc/emboss-test/copyright",
    requires="apt-get install emboss-test; pip install 'bipe[bio]'",
)
SWISSPROT_INFO = CorpusInfo(
    name="swissprot",
    description="100 Swiss-Prot protein entries, one document per protein, the bare sequence",
    source="Debian package emboss-test: /usr/share/EMBOSS/test/swiss/seq.dat, parsed by Bio.SeqIO",
    licence="UniProtKB/Swiss-Prot entries (UniProt: CC BY 4.0); packaged under the EMBOSS "
    "licence (GPL), see /usr/share/doc/emboss-test/copyright",
    requires="apt-get install emboss-test; pip install 'bipe[bio]'",
)
MARKDOWN_INFO = CorpusInfo(
    name="markdown",
    description="the Node.js API reference, about 60 Markdown files (headings, lists, code fences, "
    "tables), one document per file",
    source="Debian package nodejs-doc: /usr/share/doc/nodejs/api/*.md.gz (or *.md)",
    licence="MIT (Node.js documentation), see /usr/share/doc/nodejs-doc/copyright",
    requires="apt-get install nodejs-doc",
)


def _modal(loader: str) -> Callable[..., Corpus]:
    """A loader from experiments.modal_corpora, imported when first called (it imports this module)."""

    def load(max_docs: int | None = None) -> Corpus:
        from experiments import modal_corpora

        return getattr(modal_corpora, loader)(max_docs=max_docs)

    return load


# ---------------------------------------------------------------------------------- registry


class CorpusEntry(NamedTuple):
    """A registry entry: provenance and the loader, called as ``load(max_docs=..., **options)``."""

    info: CorpusInfo
    load: Callable[..., Corpus]


def _load_arith(max_docs: int | None = None, seed: int = 0, max_depth: int = 5) -> Corpus:
    """The arithmetic corpus (``max_docs`` documents, default 2000)."""
    return make_arith_corpus(max_docs or 2000, seed, max_depth)


# One registry for named corpora and corpus sources. An entry is (CorpusInfo, loader); the loader
# takes ``max_docs`` and the spec's options as keywords. Add one with `register_corpus` or a line
# here; the file sources (folder, jsonl, parquet, hf) register themselves in experiments.sources.
CORPORA: dict[str, CorpusEntry | tuple[CorpusInfo, Callable[..., Corpus]]] = {
    "kjv": (KJV, load_kjv),
    "cpython": (CPYTHON, load_cpython),
    "pydocs": (PYDOCS, load_pydocs),
    "arith": (ARITH, _load_arith),
    "sample": (SAMPLE, load_sample),
    "series": (SERIES_INFO, _modal("load_series")),
    "genbank-dna": (GENBANK_INFO, _modal("load_genbank_dna")),
    "swissprot": (SWISSPROT_INFO, _modal("load_swissprot")),
    "markdown": (MARKDOWN_INFO, _modal("load_markdown_docs")),
}


def register_corpus(info: CorpusInfo, load: Callable[..., Corpus]) -> CorpusEntry:
    """Add a corpus or corpus source under ``info.name``; accepted wherever a corpus is."""
    entry = CorpusEntry(info, load)
    CORPORA[info.name] = entry
    return entry


def _entries() -> dict[str, CorpusEntry]:
    import experiments.sources  # noqa: F401  (registers the file sources)

    return {k: CorpusEntry(*v) for k, v in CORPORA.items()}


def list_corpora() -> list[str]:
    """Names of every corpus and corpus source."""
    return list(_entries())


def load_corpus(spec: str, max_docs: int | None = None) -> Corpus:
    """Load the corpus a spec names: ``sample``, ``arith:seed=3``, ``jsonl:path=a.jsonl``, ...

    A bare path to a folder, ``.jsonl`` or ``.parquet`` file is shorthand for that source.
    ``max_docs`` keeps only that many documents (spread over an in-memory corpus, the first
    ones of a streamed source).
    """
    entries = _entries()
    name, options = parse_spec(spec)
    if name not in entries:
        from experiments.sources import source_for_path

        inferred = source_for_path(spec)
        if inferred is None:
            raise ExperimentError(f"unknown corpus {name!r}; valid: {', '.join(entries)}")
        name, options = inferred
    if max_docs is not None and (not isinstance(max_docs, int) or max_docs < 1):
        raise ExperimentError(f"max_docs must be a positive int or None, got {max_docs!r}")
    load = entries[name].load
    params = inspect.signature(load).parameters.values()
    accepted = [
        p.name
        for p in params
        if p.kind is p.KEYWORD_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "max_docs")
    ]
    bad = sorted(set(options) - set(accepted))
    if bad and not any(p.kind is p.VAR_KEYWORD for p in params):
        raise ExperimentError(
            f"corpus {name!r} has no option {bad[0]!r}; valid: {', '.join(accepted) or 'none'}"
        )
    return load(max_docs=max_docs, **options)


def _limit(docs: list, max_docs: int | None) -> list:
    if max_docs is None or max_docs >= len(docs):
        return docs
    # Take documents spread over the whole corpus (not the first n) so a small budget still
    # covers every book / package; the choice is deterministic.
    step = len(docs) / max_docs
    return [docs[int(i * step)] for i in range(max_docs)]


def corpus_table() -> str:
    """A Markdown table of every corpus with source and licence (for docs and `bipe corpus list`)."""
    rows = ["| corpus | description | source | licence | needs |", "|---|---|---|---|---|"]
    for info, _ in _entries().values():
        rows.append(
            f"| {info.name} | {info.description} | {info.source} | {info.licence} | {info.requires} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(corpus_table(), file=sys.stdout)
