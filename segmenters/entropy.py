"""`entropy`: learned boundaries where a small model's next-symbol entropy (or surprise) jumps.

The entropy-patching idea of byte-level models (BLT: a new patch starts where the next byte is
hard to predict), with a character n-gram model trained locally instead of a small LM, so this
module stays torch-free. The model predicts symbol ``x[i]`` from the ``order - 1`` symbols
before it (add-``alpha`` smoothing, backing off to the longest context seen in training); its
score at ``i`` is the entropy of that prediction (``measure="entropy"``) or the surprise
``-log p(x[i])`` (``"surprise"``). A segment starts at ``i > 0`` when the score exceeds the
threshold (``rule="threshold"``) or rises by more than it from ``i - 1`` (``rule="jump"``).
The threshold is given, or set at training time so that segments on the training data have
``mean_length`` symbols on average.

It reads text (symbols are characters), integer symbol codes, and numeric series (quantised
into ``bins`` quantile bins learned at training time). A segmenter that is not trained raises
`NotTrainedError`. It pickles, and `save`/`load` keep it in one ``.npz`` file (no pickle);
``get_segmenter("entropy", train=FILE)`` trains on a UTF-8 file and ``model=PATH`` loads one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segmenters.base import Segmentation, choice_option, positive_int_option
from segmenters.errors import NotTrainedError, SegmenterInputError, SegmenterOptionError
from segmenters.io import read_text_file
from segmenters.sequence import SequenceSegmenter, as_sequence, sequence_segmentation

MEASURES = ("entropy", "surprise")
RULES = ("threshold", "jump")
KINDS = ("text", "codes", "values")
PAD, UNK = 0, 1  # symbol codes before the vocabulary: context padding and unseen symbols
_MAX_ID = 2**62


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


def cut_points(scores: np.ndarray, rule: str, threshold: float) -> np.ndarray:
    """Positions ``i > 0`` where a segment starts under ``rule`` at ``threshold``."""
    if len(scores) < 2:
        return np.zeros(0, np.int64)
    r = scores[1:] if rule == "threshold" else np.diff(scores)
    return np.flatnonzero(r > threshold).astype(np.int64) + 1


def threshold_for(values: np.ndarray, n_cuts: float) -> float:
    """The threshold whose cut count ``#(values > t)`` is closest to ``n_cuts`` (ties-aware)."""
    if len(values) == 0:
        return 0.0
    uniq, counts = np.unique(values, return_counts=True)
    above = len(values) - np.cumsum(counts)  # cuts when the threshold is uniq[i]
    cands = np.concatenate(([len(values)], above))  # first: just below the minimum, cut everywhere
    best = int(np.argmin(np.abs(cands - n_cuts)))
    return float(uniq[0] - 1.0) if best == 0 else float(uniq[best - 1])


def rule_values(scores: np.ndarray, rule: str) -> np.ndarray:
    """The values compared with the threshold at positions ``1..n-1``."""
    return scores[1:] if rule == "threshold" else np.diff(scores)


class EntropySegmenter(SequenceSegmenter):
    """Learned boundaries: cuts where an n-gram model's next-symbol entropy or surprise jumps."""

    name = "entropy"
    description = "learned: cuts where an n-gram model's next-symbol entropy jumps (train first)"
    ship_state = True

    def __init__(
        self,
        order: int = 3,
        measure: str = "entropy",
        rule: str = "threshold",
        threshold: float | None = None,
        mean_length: float | None = None,
        alpha: float = 0.1,
        bins: int = 16,
        train: str | os.PathLike[str] | None = None,
        model: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(
            order=order, measure=measure, rule=rule, threshold=threshold, mean_length=mean_length,
            alpha=alpha, bins=bins, train=train, model=model,
        )  # fmt: skip
        self.order = positive_int_option("order", order)
        self.measure = choice_option("entropy measure", measure, MEASURES)
        self.rule = choice_option("entropy rule", rule, RULES)
        self.bins = positive_int_option("bins", bins)
        if threshold is not None and mean_length is not None:
            raise SegmenterOptionError("give threshold or mean_length, not both")
        for opt, val, low in (("threshold", threshold, None), ("mean_length", mean_length, 1.0)):
            if val is not None and (
                isinstance(val, bool)
                or not isinstance(val, (int, float))
                or not np.isfinite(val)
                or (low is not None and val <= low)
            ):
                more = " greater than 1" if low is not None else ""
                raise SegmenterOptionError(f"{opt} must be a finite number{more}, got {val!r}")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
            raise SegmenterOptionError(f"alpha must be a positive number, got {alpha!r}")
        self.alpha = float(alpha)
        self.threshold = None if threshold is None else float(threshold)
        self.mean_length = (
            float(mean_length) if mean_length is not None else (8.0 if threshold is None else None)
        )
        self.model: NGramModel | None = None
        self.fitted_threshold: float | None = self.threshold
        self.train_mean_length: float | None = None
        if model is not None and train is not None:
            raise SegmenterOptionError("give train=FILE or model=PATH, not both")
        if model is not None:
            self._load_state(model)
        elif train is not None:
            self.fit([read_text_file(train)])

    # -- training --
    def fit(self, data: Iterable[Any]) -> EntropySegmenter:
        """Train the n-gram model (and the threshold, for ``mean_length``) on texts or sequences."""
        if isinstance(data, (str, np.ndarray)):
            data = [data]
        docs = [d if isinstance(d, str) else as_sequence(d) for d in data]
        docs = [d for d in docs if len(d)]
        if not docs:
            raise SegmenterInputError(
                "entropy: nothing to train on (no non-empty text or sequence)"
            )
        texts = sum(isinstance(d, str) for d in docs)
        if 0 < texts < len(docs):
            raise SegmenterInputError("entropy: train on texts or on sequences, not a mix")
        if texts:
            kind = "text"
        else:
            kind = "values" if any(d.dtype.kind == "f" for d in docs) else "codes"
        self.model = fit_ngram(docs, kind, self.order, self.alpha, self.bins)
        values = [
            rule_values(self.model.scores(self.model.encode(d), self.measure), self.rule)
            for d in docs
        ]
        allv = np.concatenate(values)
        if self.threshold is None:
            total = sum(len(d) for d in docs)
            target = max(total / float(self.mean_length or 8.0) - len(docs), 0.0)
            self.fitted_threshold = threshold_for(allv, target)
        n_cuts = int((allv > self.fitted_threshold).sum())
        self.train_mean_length = sum(len(d) for d in docs) / (len(docs) + n_cuts)
        return self

    @property
    def trained(self) -> bool:
        """True once `fit` (or `load`) has given the segmenter a model."""
        return self.model is not None

    def scores(self, data: Any) -> np.ndarray:
        """The model's score (entropy or surprise, nats) at each position of ``data``."""
        model = self._model()
        return model.scores(model.encode(data), self.measure)

    def _model(self) -> NGramModel:
        if self.model is None:
            raise NotTrainedError(
                "the entropy segmenter is not trained: call .fit(texts) first, or create it with "
                "train=FILE (a UTF-8 text) or model=PATH (a file written by .save)"
            )
        return self.model

    # -- segmenting --
    def _check_input(self, item: Any) -> Any:
        if isinstance(item, str):
            return item
        if self.model is not None and self.model.kind == "text":
            return _reject_non_text(item)
        return as_sequence(item)  # untrained: `segment` then says so

    def _info(self) -> dict[str, Any]:
        return {"threshold": self.fitted_threshold, "measure": self.measure, "rule": self.rule}

    def segment(self, data: Any) -> Segmentation:
        """Cut ``data`` (text, codes or series, as trained) where the score crosses the threshold."""
        model = self._model()
        if model.kind == "text":
            data = data if isinstance(data, str) else _reject_non_text(data)
            cuts = cut_points(self.scores(data), self.rule, float(self.fitted_threshold or 0.0))
            return sequence_segmentation(
                data, {"segment": cuts}, "segment", self.name, self._info()
            )
        return super().segment(data)

    def _cuts(self, values: np.ndarray) -> dict[str, np.ndarray]:
        scores = self.scores(values)
        return {"segment": cut_points(scores, self.rule, float(self.fitted_threshold or 0.0))}

    # -- persistence --
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the trained model and threshold to one ``.npz`` file (arrays and JSON, no pickle)."""
        model = self._model()
        meta = {
            "format": "bipe-entropy-1", "order": model.order, "alpha": model.alpha,
            "kind": model.kind, "measure": self.measure, "rule": self.rule,
            "threshold": self.fitted_threshold, "train_mean_length": self.train_mean_length,
        }  # fmt: skip
        arrays: dict[str, np.ndarray] = {
            "meta": np.array(json.dumps(meta)),
            "vocab": model.vocab,
            "edges": model.edges,
        }
        for j, t in enumerate(model.tables):
            for f in ("ctx", "total", "entropy", "pair", "count"):
                arrays[f"{f}{j}"] = getattr(t, f)
        # through a temporary file and a rename: a reader never meets half a model
        target = Path(os.fspath(path))
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def _load_state(self, path: str | os.PathLike[str]) -> None:
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("format") != "bipe-entropy-1":
                    raise SegmenterInputError(f"{os.fspath(path)}: not an entropy model file")
                tables = [
                    NGramTables(
                        *(z[f"{f}{j}"] for f in ("ctx", "total", "entropy", "pair", "count"))
                    )
                    for j in range(meta["order"])
                ]
                model = NGramModel(
                    meta["order"], meta["alpha"], meta["kind"], z["vocab"], z["edges"], tables
                )
        except SegmenterInputError:
            raise
        except Exception as exc:
            # every member carries the zip's CRC-32, so a flipped bit or a cut file lands here
            raise SegmenterInputError(
                f"{os.fspath(path)}: not a readable entropy model (damaged or truncated: "
                f"{type(exc).__name__}: {exc}); train it again with train=FILE and save it"
            ) from None
        self.order, self.alpha, self.model = model.order, model.alpha, model
        self.measure, self.rule = meta["measure"], meta["rule"]
        self.fitted_threshold = meta["threshold"] if self.threshold is None else self.threshold
        self.train_mean_length = meta["train_mean_length"]

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EntropySegmenter:
        """A trained segmenter from a file written by `save`."""
        return cls(model=path)


def _reject_non_text(item: Any) -> str:
    from segmenters.base import check_text

    return check_text(item)
