"""The `sentence` segmenter: sentences from spaCy, as an exact partition of the text.

Modes: ``sentencizer`` (spaCy's rule-based splitter: a token in its punctuation list ends a
sentence at the next token that is not punctuation), ``senter`` (the statistical sentence
recogniser of ``en_core_web_sm``) and ``parser`` (sentences from the dependency parse).
Whitespace between sentences belongs to the segment before it; leading whitespace to the first.

In ``sentencizer`` mode the text is tokenised in pieces cut where whitespace ends (spaCy's
tokenizer never joins across whitespace, so the tokens are those of the whole text) and the
sentencizer's rule runs once over all tokens, so pieces never change the result. Statistical
modes run on the whole text when it fits ``max_length`` and otherwise in windows that restart at
a sentence boundary well before each window's end (see docs/parsers.md).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np

from segmenters.base import (
    BaseSegmenter,
    Segmentation,
    check_text,
)
from segmenters.errors import SegmenterOptionError
from segmenters.options import Option
from segmenters.spacy_pipelines import MODES, load_pipeline, warn_fallback
from segmenters.spans import SpanSequence
from segmenters.textmaps import ascii_whitespace, code_points

_PIECE_CHARS = (
    50_000  # tokenizer pieces in sentencizer mode: big enough to amortise, small for cache
)


def _word_starts(text: str) -> np.ndarray:
    """Offsets where a non-whitespace run starts after whitespace: safe places to cut for spaCy."""
    ws = ascii_whitespace(code_points(text))
    return np.flatnonzero(ws[:-1] & ~ws[1:]) + 1


def _cut_points(text: str, size: int) -> list[int]:
    """Cut offsets at word starts so that pieces are about ``size`` characters (never longer if possible)."""
    if len(text) <= size:
        return []
    starts = _word_starts(text)
    cuts, pos = [], 0
    while len(text) - pos > size:
        i = np.searchsorted(starts, pos + size, side="right") - 1
        if i < 0 or starts[i] <= pos:  # no whitespace in range: take the next one, however far
            j = np.searchsorted(starts, pos, side="right")
            if j >= len(starts):
                break
            i = j
        pos = int(starts[i])
        cuts.append(pos)
    return cuts


def _attach(starts_tok: np.ndarray, idx: np.ndarray, is_space: np.ndarray) -> np.ndarray:
    """Boundaries at the first non-space token of each sentence (whitespace joins the one before)."""
    sent_id = np.cumsum(starts_tok) - 1
    keep = ~is_space
    ids, offs = sent_id[keep], idx[keep]
    if not len(ids):
        return np.zeros(0, np.int64)
    new = np.concatenate(([False], ids[1:] != ids[:-1]))
    return offs[new]


def sentencizer_starts(orth: np.ndarray, is_punct: np.ndarray, punct_ids: np.ndarray) -> np.ndarray:
    """spaCy's `Sentencizer.predict` rule, vectorised over a whole token stream.

    A token starts a sentence when it is neither punctuation nor a sentence terminal and a
    terminal occurred after the previous such token (the rule's only state is "seen a period").
    """
    n = len(orth)
    terminal = np.zeros(n, dtype=bool)
    for pid in punct_ids.tolist():  # a few dozen ids: cheaper than the sort inside np.isin
        terminal |= orth == np.uint64(pid)
    plain = ~is_punct & ~terminal
    pos = np.arange(n)
    last_t = np.maximum.accumulate(np.where(terminal, pos, -1))
    last_p = np.maximum.accumulate(np.where(plain, pos, -1))
    before_t = np.concatenate(([-1], last_t[:-1]))
    before_p = np.concatenate(([-1], last_p[:-1]))
    starts = plain & (before_t > before_p)
    if n:
        starts[0] = True
    return starts


class SentenceSegmenter(BaseSegmenter):
    """Sentences from spaCy: modes sentencizer, senter and parser; exact character spans."""

    name = "sentence"
    description = "sentences from spaCy (sentencizer, senter or parser)"
    chunks_per_worker = 4  # spaCy batches within a chunk, so fewer, larger chunks pay off
    OPTIONS = (
        Option(
            "mode", (str,), "sentencizer", "the spaCy component that finds sentences", choices=MODES
        ),
        Option("language", (str,), "en", "a spaCy language code"),
        Option("model", (str,), None, "a spaCy pipeline name (None: the mode's default)"),
        Option("max_length", (int,), None, "longest text in characters (None: spaCy's)", ge=1),
        Option("batch_size", (int,), 64, "texts per spaCy batch", ge=1, optional=True),
        Option("piece_chars", (int,), _PIECE_CHARS, "characters per tokenizer piece", ge=1),
    )

    def __init__(
        self,
        mode: str = "sentencizer",
        language: str = "en",
        model: str | None = None,
        max_length: int | None = None,
        batch_size: int = 64,
        piece_chars: int = _PIECE_CHARS,
    ) -> None:
        super().__init__(
            mode=mode,
            language=language,
            model=model,
            max_length=max_length,
            batch_size=batch_size,
            piece_chars=piece_chars,
        )
        if not language.strip():
            raise SegmenterOptionError(f"language must be a spaCy language code, got {language!r}")
        language = language.strip().lower()
        self.loaded = load_pipeline(language, mode, model)
        warn_fallback(self.loaded)
        self.mode = self.loaded.mode
        self.max_length = max_length or self.loaded.nlp.max_length
        if self.max_length > self.loaded.nlp.max_length:
            self.loaded.nlp.max_length = self.max_length
        self.batch_size = batch_size
        self.piece_chars = min(piece_chars, self.max_length)
        self.info = {
            "mode": self.loaded.mode,
            "requested_mode": mode,
            "model": self.loaded.model,
            "fallback": self.loaded.fallback,
            "language": language,
        }
        if self.mode == "sentencizer":
            nlp = self.loaded.nlp
            sz = nlp.get_pipe("sentencizer") if "sentencizer" in nlp.pipe_names else None
            chars = sz.punct_chars if sz is not None else _default_punct_chars()
            self._punct_ids = np.array(
                sorted(nlp.vocab.strings.add(c) for c in chars), dtype=np.uint64
            )

    def segment(self, text: str) -> Segmentation:
        """Split one text into sentences."""
        return self._segment_batch([check_text(text)])[0]

    # -- internals --
    def _segment_batch(self, texts: list[str]) -> list[Segmentation]:
        # spaCy's string store encodes to UTF-8, which refuses lone surrogates; U+FFFD keeps
        # every offset, so the cuts still fit the original text.
        safe = [_SURROGATE.sub("\ufffd", t) for t in texts]
        if self.mode == "sentencizer":
            cuts = self._rule_cuts(safe)
        else:
            cuts = self._model_cuts(safe)
        return [self._build(t, c) for t, c in zip(texts, cuts)]

    def _build(self, text: str, cuts: np.ndarray) -> Segmentation:
        cuts = cuts[(cuts > 0) & (cuts < len(text))]
        seq = SpanSequence.from_boundaries(text, cuts, "sentence", "sentence")
        return Segmentation(text, seq, "sentence", {"sentence": seq}, self.name, dict(self.info))

    def _rule_cuts(self, texts: list[str]) -> list[np.ndarray]:
        from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, ORTH

        pieces, owner = [], []
        for k, text in enumerate(texts):
            bounds = [0, *_cut_points(text, self.piece_chars), len(text)]
            for a, b in itertools.pairwise(bounds):
                if b > a:
                    pieces.append((a, text[a:b]))
                    owner.append(k)
        arrays: list[list[np.ndarray]] = [[] for _ in texts]
        docs = self.loaded.nlp.tokenizer.pipe((p for _, p in pieces), batch_size=self.batch_size)
        for (offset, _), k, doc in zip(pieces, owner, docs):
            arr = doc.to_array([ORTH, IS_PUNCT, IS_SPACE, IDX])
            arr[:, 3] += offset
            arrays[k].append(arr)
        out = []
        for parts in arrays:
            if not parts:
                out.append(np.zeros(0, np.int64))
                continue
            arr = np.concatenate(parts)
            starts = sentencizer_starts(arr[:, 0], arr[:, 1].astype(bool), self._punct_ids)
            out.append(_attach(starts, arr[:, 3].astype(np.int64), arr[:, 2].astype(bool)))
        return out

    def _model_cuts(self, texts: list[str]) -> list[np.ndarray]:
        out: list[np.ndarray | None] = [None] * len(texts)
        short = [k for k, t in enumerate(texts) if len(t) <= self.max_length]
        docs = self.loaded.nlp.pipe((texts[k] for k in short), batch_size=self.batch_size)
        for k, doc in zip(short, docs):
            out[k] = _doc_cuts(doc, 0)
        for k, t in enumerate(texts):
            if out[k] is None:
                out[k] = self._windowed_cuts(t)
        return out  # type: ignore[return-value]

    def _windowed_cuts(self, text: str) -> np.ndarray:
        """Statistical modes on a text over ``max_length``: overlapping windows.

        Each window restarts at a committed sentence boundary at least ``margin`` characters
        before the last decision and commits only boundaries at least ``margin`` before its
        own end, so every committed decision saw ``margin`` characters of context each side.
        """
        limit, margin = self.max_length, max(self.max_length // 6, 1)
        nlp, committed, done = self.loaded.nlp, [0], 0
        words = _word_starts(text)
        while True:
            start = _restart(committed, done, margin, words)
            if len(text) - start <= limit:
                break
            end = start + (_cut_points(text[start : start + limit], limit) or [limit])[0]
            found = _doc_cuts(nlp(text[start:end]), start)
            # Decided: every boundary, and every non-boundary, up to `end - margin`.
            committed.extend(found[(found > done) & (found <= end - margin)].tolist())
            done = max(end - margin, done + 1)
        found = _doc_cuts(nlp(text[start:]), start)
        committed.extend(found[found > done].tolist())
        return np.unique(np.array(committed[1:], dtype=np.int64))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _restart(committed: list[int], done: int, margin: int, words: np.ndarray) -> int:
    """Where the next window starts: a committed boundary after whitespace ``margin`` to
    ``2 * margin`` before ``done``, else a word start about ``margin`` before it."""
    if done == 0:
        return 0
    ws = set(
        words[np.searchsorted(words, done - 2 * margin) : np.searchsorted(words, done)].tolist()
    )
    for c in reversed(committed):
        if c < done - 2 * margin:
            break
        if c <= done - margin and c in ws:
            return c
    i = np.searchsorted(words, done - margin, side="right") - 1
    if i >= 0 and words[i] >= done - 2 * margin:
        return int(words[i])
    return max(done - margin, 0)  # no whitespace nearby: start mid-word, inside the margin


def _doc_cuts(doc: Any, offset: int) -> np.ndarray:
    """Sentence boundaries of a processed Doc, shifted by ``offset``."""
    from spacy.attrs import IDX, IS_SPACE, SENT_START

    if not len(doc):
        return np.zeros(0, np.int64)
    arr = doc.to_array([SENT_START, IDX, IS_SPACE]).view(np.int64)
    starts = arr[:, 0] == 1
    starts[0] = True
    return _attach(starts, arr[:, 1] + offset, arr[:, 2].astype(bool))


def _default_punct_chars() -> list[str]:
    from spacy.pipeline.sentencizer import Sentencizer

    return list(Sentencizer.default_punct_chars)
