"""Corpora of the modalities beyond prose and code: time series, DNA, protein and Markdown.

Each reads data that an installed package ships (no download at run time) and registers itself,
with source and licence, in the corpus registry (`experiments.corpora.registry`). Documents are text: a series is one value
per line (the format `segmenters.sequence.parse_values` reads), a DNA or protein record is its
bare sequence (what the ``dna`` and ``protein`` segmenters read), a Markdown file is itself.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from experiments.corpora.documents import Corpus, CorpusInfo, Document, limit_documents
from experiments.corpora.registry import register_corpus
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
    return Corpus(SERIES_INFO, limit_documents(docs, max_docs), {"max_docs": max_docs})


def _emboss_records(info: CorpusInfo, files: list[Path], fmt: str, max_docs: int | None) -> Corpus:
    kind = info.name
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
    return Corpus(info, limit_documents(docs, max_docs), {"max_docs": max_docs})


def load_genbank_dna(max_docs: int | None = None) -> Corpus:
    """DNA records of the GenBank files in Debian's emboss-test, one document per record."""
    files = [EMBOSS_TEST / "genbank" / f"{name}.seq" for name in GENBANK_FILES]
    return _emboss_records(GENBANK_INFO, files, "genbank", max_docs)


def load_swissprot(max_docs: int | None = None) -> Corpus:
    """The 100 Swiss-Prot protein entries in Debian's emboss-test, one document per protein."""
    return _emboss_records(SWISSPROT_INFO, [EMBOSS_TEST / "swiss" / "seq.dat"], "swiss", max_docs)


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
    options = {"max_docs": max_docs, "root": str(root)}
    return Corpus(MARKDOWN_INFO, limit_documents(docs, max_docs), options)


for _info, _load in (
    (SERIES_INFO, load_series),
    (GENBANK_INFO, load_genbank_dna),
    (SWISSPROT_INFO, load_swissprot),
    (MARKDOWN_INFO, load_markdown_docs),
):
    register_corpus(_info, _load)
