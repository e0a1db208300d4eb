"""Looking corpora up: load the corpus a spec names, list the corpora, describe them in a table.

Importing this module imports every module that registers a built-in corpus, so the names
listed and found never depend on which module a caller imported first.
"""

from __future__ import annotations

# importing them registers the built-ins, in the order `bipe corpus list` shows them
from experiments.corpora import named  # noqa: F401

# isort: split
from experiments.corpora import modal, sources, sources_hf  # noqa: F401
from experiments.corpora.documents import Corpus, CorpusInfo
from experiments.corpora.options import check_options
from experiments.corpora.registry import CORPORA, CorpusEntry
from experiments.errors import ExperimentError
from experiments.specs import spec_texts


def list_corpora() -> list[str]:
    """Names of every corpus and corpus source, built-ins first."""
    return CORPORA.names()


def corpus_entry(name: str) -> CorpusEntry:
    """The registry entry of ``name`` (an unknown name raises, listing the valid ones)."""
    return CorpusEntry(*CORPORA.get(name))


def corpus_infos() -> list[CorpusInfo]:
    """Provenance of every corpus and corpus source (for `bipe corpus list --json`)."""
    return [corpus_entry(name).info for name in list_corpora()]


def load_corpus(spec: str, max_docs: int | None = None) -> Corpus:
    """Load the corpus a spec names: ``sample``, ``arith:seed=3``, ``jsonl:path=a.jsonl``, ...

    A bare path to a folder, ``.jsonl`` or ``.parquet`` file is shorthand for that source.
    ``max_docs`` keeps only that many documents (spread over an in-memory corpus, the first
    ones of a streamed source). Options are checked against the loader's declaration
    (`experiments.corpora.options`) before it runs.
    """
    name, options = spec_texts(spec)
    if name not in CORPORA:
        inferred = sources.source_for_path(spec)
        if inferred is None:
            corpus_entry(name)  # raises: unknown, with the valid names
        name, options = inferred
    if max_docs is not None and (
        not isinstance(max_docs, int) or isinstance(max_docs, bool) or max_docs < 1
    ):
        raise ExperimentError(f"max_docs must be a positive int or None, got {max_docs!r}")
    load = corpus_entry(name).load
    return load(max_docs=max_docs, **check_options(name, load, options))


def corpus_table() -> str:
    """A Markdown table of every corpus with source and licence (for docs and `bipe corpus list`)."""
    rows = ["| corpus | description | source | licence | needs |", "|---|---|---|---|---|"]
    for info in corpus_infos():
        rows.append(
            f"| {info.name} | {info.description} | {info.source} | {info.licence} | {info.requires} |"
        )
    return "\n".join(rows)
