"""The segmentation contract: `Segmentation`, the invariant checker and `BaseSegmenter`.

`Segment` lives in `segmenters.segment` and is named here too, where segmenters import it.
"""

from __future__ import annotations

import gc
import itertools
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from segmenters.errors import InvariantError, SegmenterInputError, SegmenterOptionError
from segmenters.options import Option, check_declared
from segmenters.segment import Segment, same_source
from segmenters.spans import SpanSequence

_Job = TypeVar("_Job")


@dataclass(frozen=True)
class Segmentation:
    """A text (or 1-D sequence) and an exact partition of it into segments, with nested levels.

    ``text`` is a str, or for sequences that are not text a read-only 1-D numpy array (values
    or symbol codes; spans are then index ranges; `segmenters.sequence` builds and checks it).

    ``segments`` is the primary level (the one BiPE uses as its segments). ``levels`` maps each
    level name, ordered coarse to fine, to its own partition; the primary level is among them.
    Every boundary of a coarser level is also a boundary of each finer level.
    """

    text: Any  # str, or a 1-D numpy array for a sequence
    segments: tuple[Segment, ...]
    level: str = "segment"
    levels: dict[str, tuple[Segment, ...]] = field(default_factory=dict)
    segmenter: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.levels:
            object.__setattr__(self, "levels", {self.level: self.segments})

    def __len__(self) -> int:
        return len(self.segments)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segmentation):
            return NotImplemented
        mine = (self.segments, self.level, self.levels, self.segmenter, self.info)
        theirs = (other.segments, other.level, other.levels, other.segmenter, other.info)
        return same_source(self.text, other.text) and mine == theirs

    __hash__ = None  # type: ignore[assignment]

    @property
    def is_text(self) -> bool:
        """True for a str, False for a sequence (a 1-D array)."""
        return isinstance(self.text, str)

    def __iter__(self) -> Iterator[Segment]:
        return iter(self.segments)

    def __getitem__(self, i: int) -> Segment:
        return self.segments[i]

    @property
    def spans(self) -> list[tuple[int, int]]:
        """The primary level as ``(start, end)`` pairs."""
        if hasattr(self.segments, "ends"):  # array-backed (segmenters.spans.SpanSequence)
            return self.segments.spans  # type: ignore[attr-defined]
        return [(s.start, s.end) for s in self.segments]

    @property
    def boundaries(self) -> list[int]:
        """End offsets of the primary level's segments (the last one is ``len(text)``)."""
        if hasattr(self.segments, "ends"):
            return self.segments.ends.tolist()  # type: ignore[attr-defined]
        return [s.end for s in self.segments]

    def lengths(self) -> list[int]:
        """Segment lengths in characters."""
        if hasattr(self.segments, "ends"):
            seq: Any = self.segments
            return (seq.ends - seq.starts).tolist()
        return [s.end - s.start for s in self.segments]

    def at_level(self, name: str) -> Segmentation:
        """The same text with ``name`` as the primary level."""
        if name not in self.levels:
            raise SegmenterOptionError(
                f"level {name!r} is not in this segmentation; available: {list(self.levels)}"
            )
        return Segmentation(
            self.text, self.levels[name], name, dict(self.levels), self.segmenter, dict(self.info)
        )

    def to_dict(self, with_text: bool = False) -> dict[str, Any]:
        """A JSON-ready dict: spans of the primary level, the other levels, and `info`."""
        segs = []
        for s in self.segments:
            d = s.to_dict()
            if with_text:
                d["text"] = s.text if isinstance(s.text, str) else s.text.tolist()
            segs.append(d)
        out: dict[str, Any] = {"segmenter": self.segmenter, "level": self.level, "segments": segs}
        if len(self.levels) > 1:
            out["levels"] = {k: [[s.start, s.end] for s in v] for k, v in self.levels.items()}
        if self.info:
            out["info"] = self.info
        return out


def make_segmentation(
    text: str,
    spans: Iterable[tuple[int, int] | tuple[int, int, str] | tuple[int, int, str, bool]],
    *,
    level: str = "segment",
    segmenter: str = "",
    info: dict[str, Any] | None = None,
) -> Segmentation:
    """Build a single-level `Segmentation` from ``(start, end[, kind[, has_error]])`` tuples."""
    segs = tuple(_to_segment(text, sp, level) for sp in spans)
    return Segmentation(text, segs, level, {level: segs}, segmenter, dict(info or {}))


_SEGMENT_SLOTS = tuple(Segment.__dataclass_fields__)


def segments_from_ends(
    text: str, ends: Sequence[int], kinds: str | Sequence[str] = "segment", level: str | None = None
) -> tuple[Segment, ...]:
    """Build contiguous segments ending at ``ends`` (increasing, last == len(text)) in bulk.

    A fast path for segmenters that emit many segments: it fills the slots of each frozen
    `Segment` through C-level ``map`` calls, about 5x faster than calling the constructor.
    ``kinds`` is one kind for all segments or one kind per segment.
    """
    if not isinstance(ends, list):
        ends = [int(e) for e in ends]
    n = len(ends)
    if n == 0:
        return ()
    starts = [0, *ends[:-1]]
    kind_it = itertools.repeat(kinds, n) if isinstance(kinds, str) else kinds
    columns = {
        "start": starts,
        "end": ends,
        "kind": kind_it,
        "has_error": itertools.repeat(False, n),
        "level": itertools.repeat(level, n),
        "source": itertools.repeat(text, n),
    }
    gc_was_enabled = gc.isenabled()
    gc.disable()  # these objects hold no cycles; young-generation sweeps would only slow the fill
    try:
        objs = list(map(object.__new__, itertools.repeat(Segment, n)))
        for name in _SEGMENT_SLOTS:
            setter = getattr(Segment, name).__set__  # the slot descriptor skips frozen __setattr__
            for _ in map(setter, objs, columns[name]):
                pass
    finally:
        if gc_was_enabled:
            gc.enable()
    return tuple(objs)


def spans_from_ends(
    text: str, ends: Sequence[int], kinds: str | Sequence[str] = "segment", level: str | None = None
) -> Sequence[Segment]:
    """Like `segments_from_ends`, but array-backed (`segmenters.spans.SpanSequence`).

    No `Segment` is built until one is read, and the level pickles as one int32 array, which
    is what makes `segment_many(workers=2)` pay off for fast segmenters.
    """
    end_arr = np.asarray(ends, dtype=np.int64)
    starts = np.zeros(len(end_arr), dtype=np.int64)
    starts[1:] = end_arr[:-1]
    return SpanSequence(
        text, starts, end_arr, level, kinds if isinstance(kinds, str) else tuple(kinds)
    )


def _to_segment(text: str, sp: Sequence[Any], level: str) -> Segment:
    kind = sp[2] if len(sp) > 2 else "segment"
    err = bool(sp[3]) if len(sp) > 3 else False
    return Segment(int(sp[0]), int(sp[1]), kind, err, level, text)


def check_segments(text: Any, segments: Sequence[Segment], where: str = "segments") -> None:
    """Raise `InvariantError` unless ``segments`` are non-empty, sorted, contiguous and cover ``text``."""
    if len(text) == 0:
        if segments:
            raise InvariantError(
                f"{where}: empty text must give zero segments, got {len(segments)}"
            )
        return
    if not segments:
        raise InvariantError(f"{where}: non-empty text (len {len(text)}) gave zero segments")
    pos = 0
    for i, s in enumerate(segments):
        if s.start != pos:
            raise InvariantError(
                f"{where}[{i}] starts at {s.start}, expected {pos} (gap or overlap)"
            )
        if s.end <= s.start:
            raise InvariantError(f"{where}[{i}] is empty or reversed: [{s.start}, {s.end})")
        pos = s.end
    if pos != len(text):
        raise InvariantError(f"{where}: segments end at {pos}, text has length {len(text)}")


def check_segmentation(seg: Segmentation) -> None:
    """Enforce the partition contract on every level and that coarse boundaries are fine boundaries."""
    if not isinstance(seg.text, str) and not _is_sequence(seg.text):
        raise InvariantError(
            "Segmentation.text must be str or a 1-D numpy array (a sequence), got "
            f"{type(seg.text).__name__}"
        )
    check_segments(seg.text, seg.segments, f"{seg.segmenter or 'segmentation'}.{seg.level}")
    if isinstance(seg.text, str):
        joined_ok = "".join(s.text for s in seg.segments) == seg.text
    else:
        joined_ok = all(s.source is seg.text for s in seg.segments)
    if not joined_ok:
        raise InvariantError(
            "joined segment texts differ from the text (segment.source is not the text)"
        )
    names = list(seg.levels)
    if seg.level not in seg.levels:
        raise InvariantError(f"primary level {seg.level!r} missing from levels {names}")
    for name in names:
        check_segments(seg.text, seg.levels[name], f"{seg.segmenter or 'segmentation'}.{name}")
    for coarse, fine in itertools.pairwise(names):
        fine_b = {s.end for s in seg.levels[fine]}
        missing = [s.end for s in seg.levels[coarse] if s.end not in fine_b]
        if missing:
            raise InvariantError(
                f"level {coarse!r} boundary at {missing[0]} is not a boundary of finer level {fine!r}"
            )


def _is_sequence(obj: Any) -> bool:
    """True for a 1-D numpy array of numbers or symbol codes (a non-text segmentation source)."""
    ndim = getattr(obj, "ndim", None)
    kind = getattr(getattr(obj, "dtype", None), "kind", "")
    return ndim == 1 and kind in "biuf" and kind != ""


@runtime_checkable
class Segmenter(Protocol):
    """What every segmenter offers: one text, or many in order (optionally in worker processes)."""

    name: str

    def segment(self, text: str) -> Segmentation:
        """Split one text into exact character spans."""

    def segment_many(self, texts: Iterable[str], workers: int = 1) -> list[Segmentation]:
        """Segment many texts, in input order."""


def check_text(text: object) -> str:
    """Return ``text`` if it is a str, else raise `SegmenterInputError` naming what was given."""
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        raise SegmenterInputError(
            "segmenters take str, got bytes: decode first (e.g. data.decode('utf-8'))"
        )
    raise SegmenterInputError(f"segmenters take str, got {type(text).__name__}")


def positive_int_option(name: str, value: Any, *, optional: bool = False) -> Any:
    """Return ``value`` if it is a positive int (or None when ``optional``), else raise."""
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        allowed = "a positive int or None" if optional else "a positive int"
        raise SegmenterOptionError(f"{name} must be {allowed}, got {value!r}")
    return value


def choice_option(what: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming the valid ones."""
    valid = list(choices)
    if not isinstance(value, str) or value not in valid:
        raise SegmenterOptionError(f"unknown {what} {value!r}; choose one of {valid}")
    return value


def chunk_by_chars(
    items: list[str], workers: int, chunk_size: int | None, per_worker: int = 8
) -> list[list[str]]:
    """Ordered chunks of ``items``: ``chunk_size`` texts each, else about equal in characters."""
    if chunk_size is not None:
        chunk_size = positive_int_option("chunk_size", chunk_size)
        return [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    # Several chunks per worker keep all busy to the end; bigger ones amortise pickling.
    total = sum(len(t) for t in items) or 1
    target = max(total // (workers * per_worker), 1)
    chunks: list[list[str]] = []
    cur: list[str] = []
    size = 0
    for t in items:
        cur.append(t)
        size += len(t)
        if size >= target:
            chunks.append(cur)
            cur, size = [], 0
    if cur:
        chunks.append(cur)
    return chunks


def run_in_workers(
    fn: Callable[[_Job], list[Segmentation]], jobs: Iterable[_Job], workers: int
) -> list[Segmentation]:
    """Run ``fn`` on each job in ``workers`` processes; concatenate the results in job order."""
    out: list[Segmentation] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(fn, jobs):
            out.extend(part)
    return out


def _worker_segment(args: tuple[str, dict[str, Any], list[str]]) -> list[Segmentation]:
    from segmenters.registry import get_segmenter  # late: runs inside a worker process

    name, options, texts = args
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the parent built the same segmenter and already warned
        seg = get_segmenter(name, **options)
    return seg._segment_batch(texts)


def _worker_segment_state(args: tuple[Any, list[Any]]) -> list[Segmentation]:
    seg, items = args
    return seg._segment_batch(items)


class BaseSegmenter:
    """Shared machinery: input checks, `segment_many` with ordered process parallelism.

    Subclasses implement `segment`. The registry sets ``name`` and ``options`` so that worker
    processes can rebuild an identical segmenter instead of pickling parser state.
    """

    name: str = "base"
    description: str = ""
    #: chunks per worker when balancing by characters: more keep all busy, fewer pickle less
    chunks_per_worker: int = 8
    #: True when the segmenter holds state its options cannot rebuild (a trained model): worker
    #: processes then get the pickled segmenter instead of its name and options
    ship_state: bool = False
    #: the declared options (`segmenters.options.Option`): every constructor call is checked
    #: against them before any work, so no option is ever silently ignored or a TypeError
    OPTIONS: tuple[Option, ...] | None = None

    def __init__(self, **options: Any) -> None:
        # every declared option's value, defaults filled in; `options` keeps what was given
        self.settings: dict[str, Any] = (
            dict(options)
            if self.OPTIONS is None
            else check_declared(self.name, self.OPTIONS, options)
        )
        self.options: dict[str, Any] = dict(options)

    def segment(self, text: str) -> Segmentation:  # pragma: no cover - abstract
        """Split one text into exact character spans (each subclass implements this)."""
        raise NotImplementedError

    def segment_many(
        self, texts: Iterable[str], workers: int = 1, chunk_size: int | None = None
    ) -> list[Segmentation]:
        """Segment many texts, in input order; ``workers > 1`` uses that many processes."""
        items = [self._check_input(t) for t in texts]
        workers = positive_int_option("workers", workers)
        if workers == 1 or len(items) <= 1:
            return self._segment_batch(items)
        chunks = chunk_by_chars(items, workers, chunk_size, self.chunks_per_worker)
        if self.ship_state:  # trained state is not in the options: send the segmenter itself
            return run_in_workers(_worker_segment_state, [(self, c) for c in chunks], workers)
        jobs = [(self.name, self.options, c) for c in chunks]
        return run_in_workers(_worker_segment, jobs, workers)

    def _check_input(self, item: Any) -> Any:
        # What `segment_many` accepts per item; sequence segmenters also take 1-D arrays.
        return check_text(item)

    def _segment_batch(self, texts: list[str]) -> list[Segmentation]:
        # Checked texts, in this process; segmenters that batch (spaCy) override this.
        return [self.segment(t) for t in texts]

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"
