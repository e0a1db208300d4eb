"""The named corpora of prose, code and arithmetic, read from local files only (or generated):
``kjv``, ``cpython``, ``pydocs``, ``arith`` and the embedded ``sample``; each registers itself in
the corpus registry (`experiments.corpora.registry`) with its source and licence.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sysconfig
from importlib import resources
from pathlib import Path
from typing import Annotated

from experiments.corpora.documents import Corpus, CorpusInfo, Document, limit_documents
from experiments.corpora.options import Bounds
from experiments.corpora.registry import register_corpus
from experiments.errors import ExperimentError

PYDOC_ROOT = Path("/usr/share/doc/python3.11/html/_sources")
SAMPLE_FILE = "kjv_genesis.txt"


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
    return Corpus(KJV, limit_documents(docs, max_docs), {"max_docs": max_docs})


# -------------------------------------------------------------------------------- CPython code

CPYTHON = CorpusInfo(
    name="cpython",
    description="the Python standard library's .py files, one document per file, tests excluded",
    source="the running interpreter's stdlib directory (sysconfig 'stdlib'), without "
    "site-packages, test/tests/idle_test directories and test_*.py files",
    licence="PSF License Agreement v2 (Python Software Foundation)",
    requires="a CPython installation with its standard library sources (.py files)",
)

MAX_STDLIB_DIRS = 50_000
_SKIP_DIRS = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}


def load_cpython(max_docs: int | None = None, root: Path | None = None) -> Corpus:
    """CPython standard-library sources (tests excluded), one document per file."""
    root = Path(root or sysconfig.get_paths()["stdlib"])
    if not root.is_dir():
        raise ExperimentError(f"corpus 'cpython': stdlib directory {root} not found")
    paths = []
    for n, (dirpath, dirnames, filenames) in enumerate(os.walk(root)):
        if n >= MAX_STDLIB_DIRS:  # root=/ would walk the whole disk
            raise ExperimentError(
                f"corpus 'cpython': root {root} holds more than {MAX_STDLIB_DIRS:,} directories; "
                "give the standard library's directory (a stdlib has about 1,000)"
            )
        # prune in place: site-packages alone can hold far more files than the stdlib
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        paths.extend(
            Path(dirpath) / f for f in filenames if f.endswith(".py") and not f.startswith("test_")
        )
    paths = limit_documents(sorted(paths), max_docs)
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


def _bounded_files(root: Path, suffix: str, kind: str) -> list[Path]:
    """Every file under ``root`` ending in ``suffix``, sorted; a tree too big to be ``kind``'s is
    refused before it is walked whole (root=/ would walk the whole disk)."""
    files = []
    for n, (dirpath, _, filenames) in enumerate(os.walk(root)):
        if n >= MAX_STDLIB_DIRS:
            raise ExperimentError(
                f"corpus {kind!r}: root {root} holds more than {MAX_STDLIB_DIRS:,} directories; "
                f"give the directory of the {kind} sources"
            )
        files.extend(Path(dirpath) / f for f in filenames if f.endswith(suffix))
    return sorted(files)


def load_pydocs(max_docs: int | None = None, root: Path | None = None) -> Corpus:
    """The reStructuredText sources of the Python 3.11 docs (Debian python3.11-doc)."""
    root = Path(root or PYDOC_ROOT)
    files = _bounded_files(root, ".rst.txt", "pydocs") if root.is_dir() else []
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
    return Corpus(
        PYDOCS, limit_documents(docs, max_docs), {"max_docs": max_docs, "root": str(root)}
    )


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


# a tree of depth d has up to 2**d numbers: deeper ones exhaust the stack and the memory
MAX_ARITH_DEPTH = 12
# held in memory: a document averages about 2.4 KB at depth 5 and 2.2 times that at each level
# deeper (measured: 25 KB at depth 8, 108 KB at 10, 562 KB at 12)
ARITH_TEXT_LIMIT = 2_000_000_000
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
    _check_arith(n_docs, seed, max_depth)
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
    return Corpus(SAMPLE, limit_documents(docs, max_docs), {"max_docs": max_docs})


# ---------------------------------------------------------------------------------- registry


def _check_arith(n_docs: int, seed: int, max_depth: int) -> None:
    """Refuse what `make_arith_corpus` cannot make: a negative seed reads as its absolute value
    (so seeds -1 and 1 would be one corpus), a deep tree exhausts the stack or the memory."""
    for name, value, low, high in (
        ("n_docs", n_docs, 1, ARITH_TEXT_LIMIT),
        ("seed", seed, 0, None),
        ("max_depth", max_depth, 2, MAX_ARITH_DEPTH),
    ):
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not Bounds(low, high).holds(value)
        ):
            raise ExperimentError(
                f"arith corpus: {name} must be an integer {Bounds(low, high).words()}, got {value!r}"
            )
    size = n_docs * 2400 * 2.2 ** (max_depth - 5)
    if size > ARITH_TEXT_LIMIT:
        raise ExperimentError(
            f"arith corpus: {n_docs:,} documents of depth {max_depth} would hold about "
            f"{size / 1e9:,.1f} GB of text in memory (limit {ARITH_TEXT_LIMIT / 1e9:.0f} GB); "
            "ask for fewer documents (max_docs) or a smaller max_depth"
        )


def _load_arith(
    max_docs: int | None = None,
    seed: Annotated[int, Bounds(0)] = 0,
    max_depth: Annotated[int, Bounds(2, MAX_ARITH_DEPTH)] = 5,
) -> Corpus:
    """The arithmetic corpus (``max_docs`` documents, default 2000)."""
    return make_arith_corpus(max_docs or 2000, seed, max_depth)


for _info, _load in (
    (KJV, load_kjv),
    (CPYTHON, load_cpython),
    (PYDOCS, load_pydocs),
    (ARITH, _load_arith),
    (SAMPLE, load_sample),
):
    register_corpus(_info, _load)
