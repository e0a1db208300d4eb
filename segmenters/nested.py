"""Nesting: several segmentations of one text stacked into one multi-level `Segmentation`.

Level ``k`` of the result has every boundary of the given levels ``0..k`` (coarse to fine), so each
coarser boundary is also a boundary of every finer level, whatever the parts were: a sentence that
runs over a paragraph break is cut there. The finest level is the primary one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segmenters.base import Segmentation
from segmenters.errors import SegmenterInputError
from segmenters.spans import SpanSequence

__all__ = ["nest_segmentations"]


def _ends(seg: Segmentation) -> np.ndarray:
    segments = seg.segments
    if hasattr(segments, "ends"):  # array-backed (SpanSequence)
        return np.asarray(segments.ends, dtype=np.int64)
    return np.fromiter((s.end for s in segments), dtype=np.int64, count=len(segments))


def nest_segmentations(
    parts: Sequence[Segmentation], names: Sequence[str] | None = None, segmenter: str = "nested"
) -> Segmentation:
    """Stack ``parts`` (one text, coarse to fine, each by its primary level) into nested levels.

    ``names`` labels the levels (default ``level0``, ``level1``, ...); they must be distinct.
    """
    if not parts or not all(isinstance(p, Segmentation) for p in parts):
        raise SegmenterInputError("nest_segmentations takes a non-empty list of Segmentations")
    text = parts[0].text
    if any(p.text != text for p in parts[1:]):
        raise SegmenterInputError("nest_segmentations: every part must segment the same text")
    labels = list(names) if names is not None else [f"level{i}" for i in range(len(parts))]
    if len(labels) != len(parts) or len(set(labels)) != len(labels):
        raise SegmenterInputError(
            f"nest_segmentations needs one distinct name per part, got {labels} for {len(parts)}"
        )
    levels: dict[str, SpanSequence] = {}
    cuts = np.zeros(0, dtype=np.int64)
    n = len(text)
    for label, part in zip(labels, parts):
        ends = _ends(part)
        cuts = np.union1d(cuts, ends[(ends > 0) & (ends < n)])
        levels[label] = SpanSequence.from_boundaries(text, cuts, label)
    info = {"parts": [p.segmenter for p in parts]}
    return Segmentation(text, levels[labels[-1]], labels[-1], levels, segmenter, info)
