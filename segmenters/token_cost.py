"""Measure spans in tokens: turn a tokenizer's character offsets into a span-cost function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from segmenters.errors import SegmenterOptionError


def check_tokenizer(tokenizer: Any, optional: bool = True) -> None:
    """Refuse a ``tokenizer`` that is not a callable or has no ``.encode`` (None if ``optional``)."""
    if (tokenizer is not None or not optional) and (
        isinstance(tokenizer, (str, bytes))
        or not (callable(tokenizer) or hasattr(tokenizer, "encode"))
    ):
        raise SegmenterOptionError(
            "tokenizer must be a callable text -> [(start, end), ...] or have "
            f".encode(text).offsets, got {type(tokenizer).__name__}"
        )


def token_starts(tokenizer: Any, text: str) -> np.ndarray:
    """Sorted start offsets of the non-empty tokens of ``text``.

    ``tokenizer`` is a callable returning ``[(start, end), ...]`` character offsets, or an object
    with ``encode(text).offsets`` (a `tokenizers.Tokenizer`).
    """
    check_tokenizer(tokenizer, optional=False)
    if hasattr(tokenizer, "encode") and not callable(getattr(tokenizer, "offsets", None)):
        enc = tokenizer.encode(text)
        offsets = getattr(enc, "offsets", enc)
    else:
        offsets = tokenizer(text)
    try:
        arr = np.asarray([(int(s), int(e)) for s, e in offsets], dtype=np.int64).reshape(-1, 2)
    except (TypeError, ValueError) as exc:
        raise SegmenterOptionError(
            "tokenizer must give (start, end) character offsets for each token"
        ) from exc
    arr = arr[arr[:, 1] > arr[:, 0]]
    return np.sort(arr[:, 0])


def token_cost(tokenizer: Any, text: str) -> Callable[[int, int], int]:
    """A function ``(start, end) -> number of tokens starting in text[start:end]``."""
    starts = token_starts(tokenizer, text)

    def cost(start: int, end: int) -> int:
        return int(np.searchsorted(starts, end) - np.searchsorted(starts, start))

    return cost
