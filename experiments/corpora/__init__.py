"""Corpora: documents and their hash split, the corpus registry, the named corpora (prose, code,
arithmetic, the embedded sample, series, DNA, protein, Markdown) and corpus sources (folder,
JSON Lines, Parquet, Hugging Face datasets), all read from local files.

A corpus is named by a spec (`experiments.specs`): a registered name such as ``kjv`` or
``arith:seed=3``, or a source with its options such as ``jsonl:path=data.jsonl,text=body``.
Each corpus is a sequence of documents with stable ids, held in memory (`Corpus.documents`) or
streamed from disk (`Corpus.reader`); a document's split depends only on a hash of its id.
"""

from experiments.corpora.catalog import (
    corpus_entry,
    corpus_infos,
    corpus_table,
    list_corpora,
    load_corpus,
)
from experiments.corpora.documents import (
    SPLITS,
    Corpus,
    CorpusInfo,
    Document,
    doc_hash,
    limit_documents,
    split_documents,
)
from experiments.corpora.named import (
    arith_steps,
    load_cpython,
    load_kjv,
    load_pydocs,
    load_sample,
    make_arith_corpus,
    parse_kjv_dump,
)
from experiments.corpora.options import Bounds, Choices, CorpusOptionError, CorpusSourceError
from experiments.corpora.registry import CorpusEntry, register_corpus

__all__ = [
    "SPLITS",
    "Bounds",
    "Choices",
    "Corpus",
    "CorpusEntry",
    "CorpusInfo",
    "CorpusOptionError",
    "CorpusSourceError",
    "Document",
    "arith_steps",
    "corpus_entry",
    "corpus_infos",
    "corpus_table",
    "doc_hash",
    "limit_documents",
    "list_corpora",
    "load_corpus",
    "load_cpython",
    "load_kjv",
    "load_pydocs",
    "load_sample",
    "make_arith_corpus",
    "parse_kjv_dump",
    "register_corpus",
    "split_documents",
]
