"""Corpora read from local files only: KJV prose, CPython code, Python docs, synthetic arithmetic.

Each corpus is a list of documents with stable ids; the train/val/test split of a document depends
only on a hash of its id, so adding or removing other documents never moves it.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from experiments.errors import ExperimentError

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


@dataclass
class Corpus:
    """A named list of documents with its provenance."""

    info: CorpusInfo
    documents: list[Document]
    options: dict[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The corpus name (registry key)."""
        return self.info.name

    def n_chars(self) -> int:
        """Total characters over all documents."""
        return sum(len(d.text) for d in self.documents)

    def split(self, name: str, val_frac: float = 0.05, test_frac: float = 0.05) -> list[Document]:
        """The documents of split ``name`` (train, val or test), in corpus order."""
        if name not in SPLITS:
            raise ExperimentError(f"unknown split {name!r}; valid: {', '.join(SPLITS)}")
        return split_documents(self.documents, val_frac, test_frac)[name]

    def fingerprint(self) -> str:
        """A short hash of the ids and texts, naming caches derived from this exact corpus."""
        h = hashlib.sha1()
        for d in self.documents:
            h.update(d.id.encode("utf-8", "surrogatepass") + b"\0")
            h.update(hashlib.sha1(d.text.encode("utf-8", "surrogatepass")).digest())
        return h.hexdigest()[:12]


def doc_hash(doc_id: str) -> float:
    """A uniform number in [0, 1) derived from a document id (stable across runs and machines)."""
    digest = hashlib.sha256(doc_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_documents(
    docs: list[Document], val_frac: float = 0.05, test_frac: float = 0.05
) -> dict[str, list[Document]]:
    """Assign each document to train/val/test by the hash of its id.

    A document goes to test when its hash is below ``test_frac``, to val when below
    ``test_frac + val_frac``. With three or more documents no split is left empty: the train
    document with the lowest hash moves to an empty test (then val) split, so tiny corpora work.
    """
    if not (0 <= val_frac < 1 and 0 <= test_frac < 1 and val_frac + test_frac < 1):
        raise ExperimentError(
            f"split fractions must be in [0, 1) and sum below 1, got val={val_frac}, test={test_frac}"
        )
    ids = [d.id for d in docs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ExperimentError(f"duplicate document id {dup!r}: ids must be unique for the split")
    out: dict[str, list[Document]] = {s: [] for s in SPLITS}
    hashes = {d.id: doc_hash(d.id) for d in docs}
    for d in docs:
        h = hashes[d.id]
        out["test" if h < test_frac else "val" if h < test_frac + val_frac else "train"].append(d)
    if len(docs) >= 3:
        for name in ("test", "val"):
            if not out[name] and len(out["train"]) > 1:
                moved = min(out["train"], key=lambda d: hashes[d.id])
                out["train"].remove(moved)
                out[name].append(moved)
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

CORPORA: dict[str, tuple[CorpusInfo, Callable[..., Corpus]]] = {
    "kjv": (KJV, load_kjv),
    "cpython": (CPYTHON, load_cpython),
    "pydocs": (PYDOCS, load_pydocs),
    "arith": (ARITH, lambda max_docs=None: make_arith_corpus(max_docs or 2000)),
    "sample": (SAMPLE, load_sample),
    "series": (SERIES_INFO, _modal("load_series")),
    "genbank-dna": (GENBANK_INFO, _modal("load_genbank_dna")),
    "swissprot": (SWISSPROT_INFO, _modal("load_swissprot")),
    "markdown": (MARKDOWN_INFO, _modal("load_markdown_docs")),
}


def list_corpora() -> list[str]:
    """Names of every corpus."""
    return list(CORPORA)


def load_corpus(name: str, max_docs: int | None = None) -> Corpus:
    """Load corpus ``name`` (optionally only its first ``max_docs`` documents)."""
    if name not in CORPORA:
        raise ExperimentError(f"unknown corpus {name!r}; valid: {', '.join(CORPORA)}")
    if max_docs is not None and (not isinstance(max_docs, int) or max_docs < 1):
        raise ExperimentError(f"max_docs must be a positive int or None, got {max_docs!r}")
    return CORPORA[name][1](max_docs=max_docs)


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
    for info, _ in CORPORA.values():
        rows.append(
            f"| {info.name} | {info.description} | {info.source} | {info.licence} | {info.requires} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(corpus_table(), file=sys.stdout)
