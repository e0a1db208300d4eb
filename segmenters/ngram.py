"""The character n-gram model behind `entropy`: counting, scoring, and reading it from a file.

The model predicts symbol ``x[i]`` from the ``order - 1`` symbols before it, with add-``alpha``
smoothing, backing off to the longest context seen in training (see `segmenters.entropy`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segmenters.errors import SegmenterInputError, SegmenterOptionError
from segmenters.sequence import as_sequence

MEASURES = ("entropy", "surprise")
RULES = ("threshold", "jump")
KINDS = ("text", "codes", "values")
PAD, UNK = 0, 1  # symbol codes before the vocabulary: context padding and unseen symbols
_MAX_ID = 2**62
MAX_ORDER = 64  # longer contexts overflow the context ids for any vocabulary anyway
MAX_BINS = 65_536
FORMAT = "bipe-entropy-2"  # 2: with a SHA-256 of the metadata and arrays; 1 is still read
TABLE_FIELDS = ("ctx", "total", "entropy", "pair", "count")


@dataclass
class NGramTables:
    """Counts of one context length: sorted context ids with totals and entropies, and pairs."""

    ctx: np.ndarray
    total: np.ndarray
    entropy: np.ndarray
    pair: np.ndarray  # sorted ids ctx * base + symbol
    count: np.ndarray


@dataclass
class NGramModel:
    """A smoothed n-gram model over symbol codes (``PAD``, ``UNK``, then the vocabulary)."""

    order: int
    alpha: float
    kind: str
    vocab: np.ndarray  # text: code points; codes: the symbol ints; values: bin indices
    edges: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tables: list[NGramTables] = field(default_factory=list)

    @property
    def base(self) -> int:
        """Number of codes (padding, unknown and the vocabulary): the radix of context ids."""
        return len(self.vocab) + 2

    def encode(self, data: Any) -> np.ndarray:
        """Symbol codes of a text, a code sequence or a numeric series (by the model's kind)."""
        if self.kind == "text":
            if not isinstance(data, str):
                raise SegmenterInputError(
                    f"this entropy model was trained on text, got {type(data).__name__}"
                )
            keys = np.frombuffer(data.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(
                np.int64
            )
        else:
            if isinstance(data, str):
                raise SegmenterInputError(
                    f"this entropy model was trained on {self.kind}, got text"
                )
            arr = as_sequence(data)
            if self.kind == "values":
                return (
                    np.searchsorted(self.edges, arr.astype(np.float64), side="right").astype(
                        np.int64
                    )
                    + 2
                )
            if arr.dtype.kind == "f":
                raise SegmenterInputError(
                    "this entropy model was trained on integer codes, got floats"
                )
            keys = arr.astype(np.int64)
        idx = np.searchsorted(self.vocab, keys)
        idx = np.minimum(idx, max(len(self.vocab) - 1, 0))
        known = (self.vocab[idx] == keys) if len(self.vocab) else np.zeros(len(keys), bool)
        return np.where(known, idx + 2, UNK).astype(np.int64)

    def contexts(self, codes: np.ndarray) -> list[np.ndarray]:
        """For each context length j = 0..order-1, the id of the j symbols before each position."""
        n, k = len(codes), self.order - 1
        padded = np.concatenate((np.full(k, PAD, np.int64), codes))
        out = [np.zeros(n, np.int64)]
        for j in range(1, k + 1):
            out.append(out[-1] + padded[k - j : k - j + n] * self.base ** (j - 1))
        return out

    def scores(self, codes: np.ndarray, measure: str) -> np.ndarray:
        """Entropy of the prediction of each symbol, or its surprise, in nats (backing off)."""
        n = len(codes)
        out = np.zeros(n)
        done = np.zeros(n, dtype=bool)
        v = self.base - 1  # predictable symbols: UNK and the vocabulary
        for j in range(self.order - 1, -1, -1):
            t = self.tables[j]
            ctx = self.contexts(codes)[j] if j else np.zeros(n, np.int64)
            i = np.minimum(np.searchsorted(t.ctx, ctx), len(t.ctx) - 1)
            hit = ~done & (t.ctx[i] == ctx)
            if measure == "entropy":
                out[hit] = t.entropy[i[hit]]
            else:
                pair = ctx * self.base + codes
                p = np.minimum(np.searchsorted(t.pair, pair), len(t.pair) - 1)
                c = np.where(t.pair[p] == pair, t.count[p], 0)
                prob = (c[hit] + self.alpha) / (t.total[i[hit]] + self.alpha * v)
                out[hit] = -np.log(prob)
            done |= hit
        return out


def model_from_file(name: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> NGramModel:
    """An `NGramModel` from a model file's metadata and arrays, refusing any that do not fit."""

    def bad(what: str) -> SegmenterInputError:
        return SegmenterInputError(f"{name}: not a consistent entropy model ({what})")

    order, alpha = meta.get("order"), meta.get("alpha")
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise bad(f"order {order!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < np.inf:
        raise bad(f"alpha {alpha!r}")
    for key, valid in (("kind", KINDS), ("measure", MEASURES), ("rule", RULES)):
        if meta.get(key) not in valid:
            raise bad(f"{key} {meta.get(key)!r}")
    for key in ("threshold", "train_mean_length"):
        value = meta.get(key)
        if value is not None and (not isinstance(value, (int, float)) or not np.isfinite(value)):
            raise bad(f"{key} {value!r}")
    names = ["vocab", "edges", *(f"{f}{j}" for j in range(order) for f in TABLE_FIELDS)]
    missing = [k for k in names if k not in arrays or arrays[k].ndim != 1]
    if missing:
        raise bad(f"array {missing[0]} missing or not 1-D")
    tables = [NGramTables(*(arrays[f"{f}{j}"] for f in TABLE_FIELDS)) for j in range(order)]
    for j, t in enumerate(tables):
        rows, pairs = {len(t.ctx), len(t.total), len(t.entropy)}, {len(t.pair), len(t.count)}
        if len(rows) > 1 or len(pairs) > 1 or 0 in rows | pairs:
            raise bad(f"table {j} has arrays of different or zero lengths")
        if np.any(np.diff(t.ctx) <= 0) or np.any(np.diff(t.pair) <= 0):
            raise bad(f"table {j} is not sorted")
    model = NGramModel(order, float(alpha), meta["kind"], arrays["vocab"], arrays["edges"], tables)
    if model.base ** max(order - 1, 1) * model.base >= _MAX_ID:
        raise bad(f"order {order} overflows the context ids of {len(model.vocab)} symbols")
    return model


def fit_ngram(docs: list[Any], kind: str, order: int, alpha: float, bins: int) -> NGramModel:
    """Count contexts and pairs over ``docs`` (texts, code arrays or series) into a model."""
    edges = np.zeros(0)
    if kind == "text":
        keys = [
            np.frombuffer(d.encode("utf-32-le", "surrogatepass"), dtype=np.uint32) for d in docs
        ]
        vocab = np.unique(np.concatenate(keys)).astype(np.int64) if keys else np.zeros(0, np.int64)
    elif kind == "codes":
        vocab = np.unique(np.concatenate(docs)).astype(np.int64)
    else:
        allv = np.concatenate(docs).astype(np.float64)
        edges = np.unique(np.quantile(allv, np.linspace(0, 1, bins + 1)[1:-1]))
        vocab = np.arange(len(edges) + 1, dtype=np.int64)
    model = NGramModel(order, alpha, kind, vocab, edges)
    if model.base ** max(order - 1, 1) * model.base >= _MAX_ID:
        raise SegmenterOptionError(
            f"order {order} is too long for {len(vocab)} symbols (context ids overflow); lower order"
        )
    codes = [model.encode(d) for d in docs]
    ctx_all = [np.concatenate(c) for c in zip(*(model.contexts(x) for x in codes))]
    sym = np.concatenate(codes)
    v = model.base - 1
    for j in range(order):
        pairs, count = np.unique(ctx_all[j] * model.base + sym, return_counts=True)
        ctx_of = pairs // model.base
        ctx, first = np.unique(ctx_of, return_index=True)
        total = np.add.reduceat(count, first)
        seen = np.diff(np.append(first, len(pairs)))
        denom = np.repeat(total + alpha * v, seen)
        p = (count + alpha) / denom
        h = np.add.reduceat(-p * np.log(p), first)
        p0 = alpha / (total + alpha * v)
        h += (v - seen) * (-p0 * np.log(p0)) if alpha > 0 else 0.0
        model.tables.append(NGramTables(ctx, total, h, pairs, count))
    return model
