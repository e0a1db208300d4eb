"""Corpora of the modalities beyond prose and code: time series, DNA, protein and Markdown.

Each reads data that an installed package ships (no download at run time); the registry entries,
with source and licence, are in `experiments.corpora`. Documents are text: a series is one value
per line (the format `segmenters.sequence.parse_values` reads), a DNA or protein record is its
bare sequence (what the ``dna`` and ``protein`` segmenters read), a Markdown file is itself.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from experiments.corpora import CORPORA
from experiments.documents import Corpus, Document, limit_documents
from experiments.errors import ExperimentError

EMBOSS_TEST = Path("/usr/share/EMBOSS/test")
NODE_API_DOCS = Path("/usr/share/doc/nodejs/api")
# statsmodels' bundled data sets whose COPYRIGHT says public domain, and their series columns
# (elnino is one monthly series read row by row; co2 has 59 missing weeks, which are dropped).
SERIES = {
    "sunspots": ["SUNACTIVITY"],
    "nile": ["volume"],
    "co2": ["co2"],
    "elnino": ["monthly"],
    "macrodata": ["realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1",
                  "tbilrate", "unemp", "pop", "infl", "realint"],
    "danish_data": ["lrm", "lry", "lpy", "ibo", "ide"],
    "strikes": ["duration", "iprod"],
}  # fmt: skip
GENBANK_FILES = ("gbbct1", "gbinv1", "gbpln1", "gbpln2", "gbpri1", "gbrod1", "gbvrl1", "gbvrt")


def values_text(values: list[float]) -> str:
    """One value per line (10 significant digits), the numeric text format of `segmenters`."""
    return "".join(f"{v:.10g}\n" for v in values)


def load_series(max_docs: int | None = None) -> Corpus:
    """statsmodels' public-domain time series, one document per series column."""
    try:
        import statsmodels.datasets as smd
    except ImportError as exc:
        raise ExperimentError(
            "corpus 'series' needs statsmodels: pip install 'bipe[series]'"
        ) from exc
    docs = []
    for name, columns in SERIES.items():
        frame = getattr(smd, name).load_pandas().data
        for col in columns:
            if col == "monthly":
                values = frame.drop(columns=["YEAR"]).to_numpy().ravel()
            else:
                values = frame[col].to_numpy()
            values = [float(v) for v in values if v == v]  # v != v only for NaN
            docs.append(Document(f"series/{name}/{col}", values_text(values)))
    return Corpus(CORPORA["series"][0], limit_documents(docs, max_docs), {"max_docs": max_docs})


def _emboss_records(kind: str, files: list[Path], fmt: str, max_docs: int | None) -> Corpus:
    try:
        from Bio import SeqIO
    except ImportError as exc:
        raise ExperimentError(f"corpus '{kind}' needs Biopython: pip install 'bipe[bio]'") from exc
    present = [f for f in files if f.is_file()]
    if not present:
        raise ExperimentError(
            f"corpus '{kind}' needs the EMBOSS test data ({files[0].parent}): "
            "apt-get install emboss-test"
        )
    docs, seen = [], set()
    for path in present:
        for rec in SeqIO.parse(path, fmt):
            doc_id = f"{kind}/{path.stem}/{rec.id}"
            if doc_id not in seen and len(rec.seq):
                seen.add(doc_id)
                docs.append(Document(doc_id, str(rec.seq)))
    return Corpus(CORPORA[kind][0], limit_documents(docs, max_docs), {"max_docs": max_docs})


def load_genbank_dna(max_docs: int | None = None) -> Corpus:
    """DNA records of the GenBank files in Debian's emboss-test, one document per record."""
    files = [EMBOSS_TEST / "genbank" / f"{name}.seq" for name in GENBANK_FILES]
    return _emboss_records("genbank-dna", files, "genbank", max_docs)


def load_swissprot(max_docs: int | None = None) -> Corpus:
    """The 100 Swiss-Prot protein entries in Debian's emboss-test, one document per protein."""
    return _emboss_records("swissprot", [EMBOSS_TEST / "swiss" / "seq.dat"], "swiss", max_docs)


def load_markdown_docs(max_docs: int | None = None, root: Path | None = None) -> Corpus:
    """The Node.js API reference in Markdown (Debian nodejs-doc: ``*.md.gz``; or plain ``*.md``)."""
    root = Path(root or NODE_API_DOCS)
    files = sorted([*root.glob("*.md"), *root.glob("*.md.gz")]) if root.is_dir() else []
    if not files:
        raise ExperimentError(
            f"corpus 'markdown' needs Markdown files in {root}: apt-get install nodejs-doc"
        )
    docs, seen = [], set()
    for path in files:
        stem = path.name.removesuffix(".gz").removesuffix(".md")
        if stem in seen:  # both foo.md and foo.md.gz: one document
            continue
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        text = data.decode("utf-8", errors="replace")
        if text.strip():
            seen.add(stem)
            docs.append(Document(f"markdown/nodejs/{stem}", text))
    return Corpus(
        CORPORA["markdown"][0], limit_documents(docs, max_docs), {"max_docs": max_docs, "root": str(root)}
    )
