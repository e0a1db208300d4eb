"""Segmentation comparison: segment lengths in tokens grouped by document length, tests, throughput.

The paper's Figure 1 shows that the share of segments under 50 tokens stays high as documents
grow, i.e. segment length does not scale with document length. For each segmenter we group the
documents of a split into length bins (quantiles of document length in tokens) and report, per
bin, the share of segments under ``short`` tokens and the median segment length; a two-sample
test (Kolmogorov-Smirnov and Mann-Whitney U, scipy) compares the segment lengths of the shortest
and the longest documents.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from experiments.errors import ExperimentError
from experiments.pipeline import (
    DEFAULT_ALIGN_BOUNDARY,
    DEFAULT_SEPARATOR_CHARS,
    CorpusTokens,
    position_source,
)
from experiments.pipeline.segmenting import DocumentSegmenters
from experiments.specs import parse_spec


@dataclass
class LengthBin:
    """Segment statistics of the documents whose token length falls in [lo, hi]."""

    lo: int
    hi: int
    documents: int
    segments: int
    share_short: float
    median: float
    mean: float
    p90: float


@dataclass
class SegStats:
    """Everything measured for one corpus and segmenter."""

    corpus: str
    segmenter: str
    split: str
    short: int
    documents: int
    segments: int
    tokens: int
    share_short: float
    mean_len: float
    median_len: float
    segments_per_window: dict[str, float]
    bins: list[LengthBin]
    ks_stat: float | None
    ks_p: float | None
    mw_p: float | None
    chars_per_s: float | None
    lengths: list[int] = field(default_factory=list, repr=False)  # for histograms

    def to_dict(self, with_lengths: bool = False) -> dict[str, Any]:
        """JSON-ready dict (segment lengths left out unless asked for)."""
        out = asdict(self)
        if not with_lengths:
            out.pop("lengths")
        return out


def per_document_lengths(segment: np.ndarray, doc_starts: np.ndarray) -> list[np.ndarray]:
    """Token length of every segment, one array per document."""
    bounds = [*doc_starts.tolist(), len(segment)]
    out = []
    for a, b in itertools.pairwise(bounds):
        if b > a:
            seg = segment[a:b]
            out.append(np.bincount(seg - seg[0]))
    return out


def segment_stats(
    tokens: CorpusTokens,
    segmenter: str,
    split: str = "train",
    short: int = 50,
    n_bins: int = 4,
    windows: tuple[int, ...] = (128, 256, 1024),
    throughput_chars: int = 200_000,
    separator_chars: str = DEFAULT_SEPARATOR_CHARS,
    boundary: str = DEFAULT_ALIGN_BOUNDARY,
) -> SegStats:
    """Segment-length distribution of ``segmenter`` on ``split``, by document-length bin."""
    from scipy import stats

    stream = tokens.stream(split, segmenter, None, separator_chars, boundary)
    per_doc = per_document_lengths(stream.segment, stream.doc_starts)
    if not per_doc:
        raise ExperimentError(f"{tokens.corpus.name}/{split} has no documents to segment")
    doc_len = np.array([int(x.sum()) for x in per_doc])
    all_lengths = np.concatenate(per_doc)
    bins, groups = _length_bins(per_doc, doc_len, n_bins, short)
    ks_stat = ks_p = mw_p = None
    if len(groups) >= 2 and groups[0].size and groups[-1].size:
        ks = stats.ks_2samp(groups[0], groups[-1])
        ks_stat, ks_p = float(ks.statistic), float(ks.pvalue)
        mw_p = float(stats.mannwhitneyu(groups[0], groups[-1]).pvalue)
    mean = float(all_lengths.mean())
    return SegStats(
        corpus=tokens.corpus.name,
        segmenter=segmenter,
        split=split,
        short=short,
        documents=len(per_doc),
        segments=int(all_lengths.size),
        tokens=int(all_lengths.sum()),
        share_short=float((all_lengths < short).mean()),
        mean_len=mean,
        median_len=float(np.median(all_lengths)),
        segments_per_window={str(w): _segments_per_window(stream.segment, w) for w in windows},
        bins=bins,
        ks_stat=ks_stat,
        ks_p=ks_p,
        mw_p=mw_p,
        chars_per_s=throughput(tokens, segmenter, split, throughput_chars),
        lengths=all_lengths.tolist(),
    )


def _length_bins(
    per_doc: list[np.ndarray], doc_len: np.ndarray, n_bins: int, short: int
) -> tuple[list[LengthBin], list[np.ndarray]]:
    """Documents grouped into quantile bins of their token length: each bin's statistics and
    segment lengths."""
    edges = np.unique(np.quantile(doc_len, np.linspace(0, 1, n_bins + 1)).astype(int))
    bins: list[LengthBin] = []
    groups: list[np.ndarray] = []
    for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
        last = i == len(edges) - 2
        mask = (doc_len >= lo) & ((doc_len <= hi) if last else (doc_len < hi))
        if not mask.any():
            continue
        seg = np.concatenate([per_doc[j] for j in np.flatnonzero(mask)])
        groups.append(seg)
        bins.append(
            LengthBin(
                int(lo),
                int(hi),
                int(mask.sum()),
                int(seg.size),
                float((seg < short).mean()),
                float(np.median(seg)),
                float(seg.mean()),
                float(np.quantile(seg, 0.9)),
            )
        )
    return bins, groups


def _segments_per_window(segment: np.ndarray, window: int, n: int = 200) -> float:
    """Mean number of distinct segments in a window of ``window`` tokens (evenly spaced windows)."""
    if len(segment) <= window:
        return float(np.unique(segment).size)
    starts = np.linspace(0, len(segment) - window, num=n).astype(int)
    return float(np.mean([segment[s + window - 1] - segment[s] + 1 for s in starts]))


def throughput(tokens: CorpusTokens, segmenter: str, split: str, max_chars: int) -> float | None:
    """Characters per second of the segmenter on the first documents of ``split``."""
    source = position_source(segmenter)
    if not source.segments_text or source.levels:
        return None  # positions from token ids, or several segmenters: no one speed to time
    segmenters = DocumentSegmenters(*parse_spec(segmenter))
    docs, size = [], 0
    for d in tokens.documents(split):
        docs.append((segmenters.for_document(d.id), d.text))
        size += len(d.text)
        if size >= max_chars:
            break
    if not size:
        return None
    for seg, text in docs:
        seg.segment(text[:1000])  # load models / parsers outside the timing
    t0 = time.perf_counter()
    for seg, text in docs:
        seg.segment(text)
    return size / max(time.perf_counter() - t0, 1e-9)


def format_stats(rows: list[SegStats]) -> str:
    """A Markdown table: one row per corpus x segmenter x document-length bin."""
    out = [
        "| corpus | segmenter | doc tokens | docs | segments | share < short | median | p90 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for b in r.bins:
            out.append(
                f"| {r.corpus} | {r.segmenter} | {b.lo}-{b.hi} | {b.documents} | {b.segments} "
                f"| {b.share_short:.3f} | {b.median:.0f} | {b.p90:.0f} |"
            )
    out += [
        "",
        "| corpus | segmenter | segments/256 tok | KS stat | KS p | MWU p | chars/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        spw = r.segments_per_window.get("256", float("nan"))
        out.append(
            f"| {r.corpus} | {r.segmenter} | {spw:.1f} | {_f(r.ks_stat)} | {_f(r.ks_p)} "
            f"| {_f(r.mw_p)} | {_f(r.chars_per_s, '.0f')} |"
        )
    return "\n".join(out)


def _f(x: float | None, fmt: str = ".3g") -> str:
    return "n/a" if x is None else format(x, fmt)
