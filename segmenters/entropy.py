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

import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from segmenters.base import Segmentation
from segmenters.errors import NotTrainedError, SegmenterInputError, SegmenterOptionError
from segmenters.io import read_text_file
from segmenters.model_file import load_model, save_model
from segmenters.ngram import (
    FORMAT,
    MAX_BINS,
    MAX_ORDER,
    MEASURES,
    RULES,
    TABLE_FIELDS,
    NGramModel,
    fit_ngram,
    model_from_file,
)
from segmenters.options import PATH, Option
from segmenters.sequence import SequenceSegmenter, as_sequence, sequence_segmentation


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

    OPTIONS = (
        Option(
            "order",
            (int,),
            None,
            "context symbols + 1 (None: 3, or the model's)",
            ge=1,
            le=MAX_ORDER,
        ),
        Option(
            "measure",
            (str,),
            None,
            "score: next-symbol entropy or surprise (None: entropy, or the model's)",
            choices=MEASURES,
        ),
        Option(
            "rule",
            (str,),
            None,
            "cut where the score is above the threshold, or jumps by it (None: threshold, or the model's)",
            choices=RULES,
        ),
        Option(
            "threshold",
            (float,),
            None,
            "the score threshold (None: set at training from mean_length)",
        ),
        Option(
            "mean_length",
            (float,),
            None,
            "mean segment length on the training data (None: 8)",
            gt=1,
        ),
        Option("alpha", (float,), None, "add-alpha smoothing (None: 0.1, or the model's)", gt=0),
        Option(
            "bins",
            (int,),
            None,
            "quantile bins of a numeric series, at training (None: 16)",
            ge=1,
            le=MAX_BINS,
        ),
        Option("train", PATH, None, "a UTF-8 text file to train on"),
        Option("model", PATH, None, "a model file written by save"),
    )

    def __init__(
        self,
        order: int | None = None,
        measure: str | None = None,
        rule: str | None = None,
        threshold: float | None = None,
        mean_length: float | None = None,
        alpha: float | None = None,
        bins: int | None = None,
        train: str | os.PathLike[str] | None = None,
        model: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(
            order=order, measure=measure, rule=rule, threshold=threshold, mean_length=mean_length,
            alpha=alpha, bins=bins, train=train, model=model,
        )  # fmt: skip
        if threshold is not None and mean_length is not None:
            raise SegmenterOptionError("give threshold or mean_length, not both")
        if model is not None and train is not None:
            raise SegmenterOptionError("give train=FILE or model=PATH, not both")
        self.order, self.alpha = order or 3, float(alpha or 0.1)
        self.measure, self.rule, self.bins = measure or "entropy", rule or "threshold", bins or 16
        self.threshold = None if threshold is None else float(threshold)
        self.mean_length = (
            float(mean_length) if mean_length is not None else (8.0 if threshold is None else None)
        )
        self.model: NGramModel | None = None
        self.fitted_threshold: float | None = self.threshold
        self.train_mean_length: float | None = None
        if model is not None:
            self._load_state(model, self._given_for_training())
        elif train is not None:
            self.fit([read_text_file(train)])

    def _given_for_training(self) -> dict[str, Any]:
        """The options given that a loaded model fixes: they must agree with it."""
        given = {k: self.options.get(k) for k in ("order", "measure", "rule", "alpha", "bins")}
        given["mean_length"] = self.options.get("mean_length")
        return {k: v for k, v in given.items() if v is not None}

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
        """Write the trained model and threshold to one ``.npz`` file (arrays, JSON, checksum)."""
        model = self._model()
        meta = {
            "format": FORMAT, "order": model.order, "alpha": model.alpha,
            "kind": model.kind, "measure": self.measure, "rule": self.rule,
            "threshold": self.fitted_threshold, "train_mean_length": self.train_mean_length,
        }  # fmt: skip
        arrays: dict[str, np.ndarray] = {"vocab": model.vocab, "edges": model.edges}
        for j, t in enumerate(model.tables):
            for f in TABLE_FIELDS:
                arrays[f"{f}{j}"] = getattr(t, f)
        save_model(path, meta, arrays)

    def _load_state(self, path: str | os.PathLike[str], given: dict[str, Any]) -> None:
        meta, arrays = load_model(path, (FORMAT, "bipe-entropy-1"), "entropy model")
        model = model_from_file(os.fspath(path), meta, arrays)
        for key, value in given.items():
            fixed = {"alpha": model.alpha, "order": model.order}.get(key, meta.get(key))
            if key in ("bins", "mean_length") or value != fixed:
                raise SegmenterOptionError(
                    f"entropy: {key}={value!r} does not apply to the trained model "
                    f"{os.fspath(path)} (it has order={model.order}, measure={meta['measure']!r}, "
                    f"rule={meta['rule']!r}, alpha={model.alpha}); leave {key} out, give "
                    "threshold= to move the cuts, or train a new model"
                )
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
