"""Tokenising documents of any length in bounded memory, with the same ids as one whole encode.

The byte-level BPE (GPT-2 pre-tokenizer) never lets a token cross the point between a
non-whitespace character and a following space or newline, so a document cut at such points and
encoded piece by piece gives exactly the ids (and, shifted, the offsets) of the whole document.
Encoding a 6 MB single-line document whole made the tokenizers library hold about 140 bytes per
character (an ``Encoding`` with tokens, offsets, masks and word ids, then Python lists of them);
pieces of `PIECE_CHARS`, encoded `BATCH_CHARS` at a time, bound that at a few tens of MB. Training
reads the same pieces: the trainer counts pre-tokens, which the cuts leave whole.

A run of text with no such point (a DNA sequence, text without spaces) stays one piece: cutting
it would change its tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

PIECE_CHARS = 1 << 16  # characters per piece (at least; a piece ends at the next safe cut)
BATCH_CHARS = 1 << 16  # characters handed to one encode_batch call (more: more memory, no faster)
# Python's \S excludes every character Python calls whitespace, a superset of Unicode White_Space
# (the pre-tokenizer's \s), so the character before the cut is never part of a whitespace run.
_CUT = re.compile(r"(?<=\S)[ \n]")


def pieces(text: str, size: int = PIECE_CHARS) -> Iterator[tuple[int, str]]:
    """``(start, piece)`` of ``text`` cut after about ``size`` characters where no token spans."""
    start = 0
    while len(text) - start > size:
        cut = _CUT.search(text, start + size)
        if cut is None:
            break
        yield start, text[start : cut.start()]
        start = cut.start()
    yield start, text[start:]


def training_texts(texts: Iterable[str]) -> Iterator[str]:
    """``texts`` as bounded pieces, for `train_from_iterator` (the same pre-token counts)."""
    for text in texts:
        for _, piece in pieces(text):
            yield piece


def _batches(texts: list[str]) -> Iterator[list[tuple[int, int, str]]]:
    """``(document, start, piece)`` of every text, grouped about `BATCH_CHARS` at a time."""
    batch: list[tuple[int, int, str]] = []
    size = 0
    for i, text in enumerate(texts):
        for start, piece in pieces(text):
            batch.append((i, start, piece))
            size += len(piece)
            if size >= BATCH_CHARS:
                yield batch
                batch, size = [], 0
    if batch:
        yield batch


def encode_documents(
    tokenizer: Any, texts: list[str], offsets: bool = False
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Per text: its token ids (int32) and, if asked, its character offsets (int64, (n, 2)).

    The same values as ``tokenizer.encode_batch(texts)``, in memory bounded by `BATCH_CHARS`
    rather than by the longest document.
    """
    ids: list[list[np.ndarray]] = [[] for _ in texts]
    offs: list[list[np.ndarray]] = [[] for _ in texts]
    for batch in _batches(texts):
        encs = tokenizer.encode_batch([piece for _, _, piece in batch])
        for (i, start, _), enc in zip(batch, encs):
            ids[i].append(np.asarray(enc.ids, dtype=np.int32))
            if offsets:
                off = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
                offs[i].append(off + start)
    out = []
    for i in range(len(texts)):
        off = np.concatenate(offs[i]) if offsets else None
        out.append((np.concatenate(ids[i]), off))
    return out
