"""Looking corpora up: load the corpus a spec names, list the corpora, describe them in a table.

Importing this module imports every module that registers a built-in corpus, so the names
listed and found never depend on which module a caller imported first.
"""

from __future__ import annotations

import inspect
import math
import typing
from pathlib import Path, PurePath
from typing import Any

# importing them registers the built-ins, in the order `bipe corpus list` shows them
from experiments.corpora import named  # noqa: F401

# isort: split
from experiments.corpora import modal, sources, sources_hf  # noqa: F401
from experiments.corpora.documents import Corpus, CorpusInfo
from experiments.corpora.registry import CORPORA, CorpusEntry
from experiments.errors import ExperimentError
from experiments.specs import parse_spec


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
    ones of a streamed source).
    """
    name, options = parse_spec(spec)
    if name not in CORPORA:
        inferred = sources.source_for_path(spec)
        if inferred is None:
            corpus_entry(name)  # raises: unknown, with the valid names
        name, options = inferred
    if max_docs is not None and (not isinstance(max_docs, int) or max_docs < 1):
        raise ExperimentError(f"max_docs must be a positive int or None, got {max_docs!r}")
    load = corpus_entry(name).load
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
    return load(max_docs=max_docs, **typed_options(name, load, options))


def typed_options(name: str, load: Any, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` checked against the loader's annotations: the one declaration of a corpus's
    option types (an int option given ``abc`` or ``2.5``, a bool given ``maybe``, is refused)."""
    try:
        hints = typing.get_type_hints(load)
    except Exception:  # a plug-in with unresolvable annotations declares nothing checkable
        return options
    out = {}
    for key, value in options.items():
        allowed = _types(hints.get(key))
        if allowed and not _fits(value, allowed):
            words = " or ".join(sorted({_WORDS.get(t, t.__name__) for t in allowed}))
            raise ExperimentError(f"corpus {name!r}: option {key}={value!r} must be {words}")
        if str in allowed and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # text options such as a column name "2019" parse as numbers
        out[key] = value
    return out


_WORDS = {type(None): "none", bool: "true or false", int: "an integer", float: "a number"}


def _types(hint: Any) -> set[type]:
    """The plain types a hint allows (``int | None`` -> {int, NoneType}); empty for ``object``."""
    if hint is None or hint is object or hint is Any:
        return set()
    args = typing.get_args(hint) or (hint,)
    if not all(isinstance(k, type) and not typing.get_args(k) for k in args):
        return set()  # list[str] | None and the like: the loader checks them
    kinds = set(args)
    if Path in kinds or PurePath in kinds:
        kinds = (kinds - {Path, PurePath}) | {str}
    return set() if object in kinds else kinds


def _fits(value: Any, allowed: set[type]) -> bool:
    """True when ``value`` (as `parse_value` read it) is one of the ``allowed`` types."""
    if isinstance(value, bool):
        return bool in allowed or str in allowed
    if isinstance(value, int):
        return bool(allowed & {int, float, str})
    if isinstance(value, float):
        return math.isfinite(value) and bool(allowed & {float, str})
    if value is None:
        return type(None) in allowed
    return isinstance(value, tuple(allowed))


def corpus_table() -> str:
    """A Markdown table of every corpus with source and licence (for docs and `bipe corpus list`)."""
    rows = ["| corpus | description | source | licence | needs |", "|---|---|---|---|---|"]
    for info in corpus_infos():
        rows.append(
            f"| {info.name} | {info.description} | {info.source} | {info.licence} | {info.requires} |"
        )
    return "\n".join(rows)
