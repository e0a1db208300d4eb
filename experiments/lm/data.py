"""A run's data: the cached tokens of its corpus under the config's data settings, and the token
streams of each split as the run sees them (with segment positions when it has a segmenter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from experiments.corpora import load_corpus
from experiments.errors import ExperimentError
from experiments.lm.config import ExperimentConfig, RunSpec, model_config
from experiments.pipeline import CorpusTokens, TokenStream


@dataclass
class RunData:
    """Token streams of one run with the vocabulary they were made with."""

    tokens: CorpusTokens
    train: TokenStream | None
    val: TokenStream | None
    vocab_size: int
    streams: dict[str, TokenStream] = field(default_factory=dict)


def corpus_tokens(cfg: ExperimentConfig, corpus: str, cache_dir: str | Path | None) -> CorpusTokens:
    """The cached tokens of ``corpus`` with the config's data settings."""
    d = cfg.data
    return CorpusTokens(
        load_corpus(corpus, d.max_docs),
        d.vocab_size,
        cache_dir,
        d.val_frac,
        d.test_frac,
        workers=d.prep_workers,
    )


def prepare_data(
    cfg: ExperimentConfig,
    spec: RunSpec,
    cache_dir: str | Path | None = None,
    splits: tuple[str, ...] = ("train", "val"),
) -> RunData:
    """Load the corpus, train/load the tokenizer and cached streams (with positions if needed)."""
    tokens = corpus_tokens(cfg, spec.corpus, cache_dir)
    streams = {s: run_stream(cfg, spec, tokens, s) for s in splits}
    return RunData(
        tokens, streams.get("train"), streams.get("val"), tokens.actual_vocab_size(), streams
    )


def run_stream(
    cfg: ExperimentConfig, spec: RunSpec, tokens: CorpusTokens, split: str
) -> TokenStream:
    """The stream of ``split`` as run ``spec`` sees it: with positions when it has a segmenter."""
    if not spec.segmenter:
        return tokens.stream(split)
    max_intra = model_config(cfg, spec.scheme).max_intra
    d = cfg.data
    return tokens.stream(split, spec.segmenter, max_intra, d.separator_chars, d.align_boundary)


class DataChangedError(ExperimentError):
    """A trained model is asked to continue or be evaluated on data other than its own."""


def data_fingerprints(cfg: ExperimentConfig, spec: RunSpec, tokens: CorpusTokens) -> dict[str, str]:
    """Digests of the corpus, tokenizer and position source a run of ``spec`` is trained on."""
    if not spec.segmenter:
        return tokens.fingerprints()
    d = cfg.data
    max_intra = model_config(cfg, spec.scheme).max_intra
    return tokens.fingerprints(spec.segmenter, max_intra, d.separator_chars, d.align_boundary)


def data_changes(recorded: dict[str, str] | None, now: dict[str, str]) -> list[str]:
    """``what old -> new`` for each of corpus, tokenizer and positions whose digest differs from
    the one a run recorded (nothing for runs made before the record)."""
    return [
        f"{what} {recorded[what]} -> {now.get(what)}"
        for what in ("corpus", "tokenizer", "positions")
        if recorded and what in recorded and recorded[what] != now.get(what)
    ]


def check_same_data(
    where: str | Path, recorded: dict[str, str] | None, now: dict[str, str]
) -> None:
    """Refuse a model trained on other data: the corpus, tokenizer or positions it recorded differ.

    A model whose token ids mean other strings gives a perplexity that looks like a number and is
    not one (36.6 became 80.7 after a corpus edit); runs made before the record are not checked.
    """
    changed = data_changes(recorded, now)
    if changed:
        raise DataChangedError(
            f"{where} was trained on other data than the cache gives now ({'; '.join(changed)}): "
            "the corpus, its tokenizer or its positions changed, so its token ids or positions "
            "would mean something else. Restore that data (the same corpus, --cache-dir and data "
            "settings) or train a new run"
        )
