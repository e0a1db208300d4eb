"""`changepoint`: segments of a 1-D time series between change points found by `ruptures`.

Input is a numeric sequence (index spans) or a one-value-per-line text (character spans; see
`segmenters.sequence`). NaN or infinite values raise `SegmenterInputError` naming the first.
The default method is binary segmentation (``binseg``): ruptures' exact ``pelt`` runs a
Python loop per point and takes about a minute on 2,000 points (``jump=5`` makes it ~20x
faster, at a coarser resolution). A series too short for two segments of ``min_size`` is one segment; ``n_segments`` larger
than the series allows gives as many segments as fit (``info["n_segments"]`` says how many).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from segmenters.errors import MissingDependencyError, SegmenterOptionError
from segmenters.options import Option
from segmenters.sequence import SequenceSegmenter

METHODS = {
    "pelt": "Pelt",
    "binseg": "Binseg",
    "bottomup": "BottomUp",
    "window": "Window",
    "dynp": "Dynp",
}
MODELS = ("l2", "l1", "rbf", "normal", "rank")
PENALTY_METHODS = ("pelt", "binseg", "bottomup", "window")
COUNT_METHODS = ("binseg", "bottomup", "window", "dynp")


def load_ruptures() -> Any:
    """Import `ruptures` or raise `MissingDependencyError` naming the extra to install."""
    try:
        import ruptures
    except ImportError as exc:
        raise MissingDependencyError(
            "the changepoint segmenter needs ruptures: pip install 'bipe[series]' (or ruptures)"
        ) from exc
    return ruptures


def default_penalty(values: np.ndarray) -> float:
    """A BIC-style penalty for mean shifts: ``2 * var(x) * log(n)`` (at least 1e-12)."""
    n = len(values)
    return max(2.0 * float(np.var(values)) * float(np.log(max(n, 2))), 1e-12)


class ChangePointSegmenter(SequenceSegmenter):
    """Time-series segments between change points (ruptures), by penalty or target segment count."""

    name = "changepoint"
    description = "time-series segments between ruptures change points (penalty or n_segments)"

    OPTIONS = (
        Option("method", (str,), "binseg", "the ruptures search method", choices=tuple(METHODS)),
        Option("model", (str,), "l2", "the cost model of a segment", choices=MODELS),
        Option("penalty", (float,), None, "cost of one more change point (None: BIC-style)", gt=0),
        Option(
            "n_segments", (int,), None, "the number of segments wanted, instead of a penalty", ge=1
        ),
        Option("min_size", (int,), 2, "fewest values in a segment", ge=1),
        Option("jump", (int,), 1, "change points only at multiples of this index", ge=1),
    )

    def __init__(
        self,
        method: str = "binseg",
        model: str = "l2",
        penalty: float | None = None,
        n_segments: int | None = None,
        min_size: int = 2,
        jump: int = 1,
    ) -> None:
        super().__init__(
            method=method, model=model, penalty=penalty, n_segments=n_segments,
            min_size=min_size, jump=jump,
        )  # fmt: skip
        self.method, self.model, self.n_segments = method, model, n_segments
        self.min_size, self.jump = min_size, jump
        if penalty is not None and n_segments is not None:
            raise SegmenterOptionError("give penalty or n_segments, not both")
        if n_segments is not None and self.method not in COUNT_METHODS:
            raise SegmenterOptionError(
                f"n_segments needs method in {list(COUNT_METHODS)}; {self.method} takes a penalty"
            )
        if n_segments is None and self.method not in PENALTY_METHODS:
            raise SegmenterOptionError(f"method {self.method} needs n_segments")
        self.penalty = None if penalty is None else float(penalty)
        self._rpt = load_ruptures()

    def _info(self) -> dict[str, Any]:
        return {"method": self.method, "model": self.model}

    def algorithm(self) -> Any:
        """The configured ruptures estimator (not yet fitted)."""
        cls = getattr(self._rpt, METHODS[self.method])
        return cls(model=self.model, min_size=self.min_size, jump=self.jump)

    def _cuts(self, values: np.ndarray) -> dict[str, np.ndarray]:
        n = len(values)
        if n < 2 * self.min_size:
            return {"segment": np.zeros(0, np.int64)}
        signal = values.astype(np.float64)
        algo = self.algorithm().fit(signal)
        bad = self._rpt.exceptions.BadSegmentationParameters
        try:
            if self.n_segments is not None:
                k = min(self.n_segments - 1, n // self.min_size - 1)
                ends = algo.predict(n_bkps=k) if k > 0 else [n]
            else:
                pen = self.penalty if self.penalty is not None else default_penalty(signal)
                ends = algo.predict(pen=pen)
        except bad:  # too few points for the requested segments at this min_size/jump
            ends = [n]
        cuts = np.asarray(sorted(set(ends)), dtype=np.int64)
        return {"segment": cuts[(cuts > 0) & (cuts < n)]}
