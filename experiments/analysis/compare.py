"""Side-by-side comparison of segmenters on one text: segment counts, lengths and speed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "SegmenterConfig",
    "compare_segmenters",
    "default_configs",
    "format_table",
    "length_stats",
]


@dataclass(frozen=True)
class SegmenterConfig:
    """One row of a comparison: a label, a registered name and its options."""

    label: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)


def default_configs(names: Iterable[str] | None = None) -> list[SegmenterConfig]:
    """The built-in configurations worth comparing, then every other registered segmenter."""
    from experiments.specs import parse_spec
    from segmenters import list_segmenters

    registered = list_segmenters()
    wanted = list(registered) if names is None else list(names)
    # a spec with options ("fixed:size=10") is its own row, labelled by the spec
    specs = [(w, *parse_spec(w)) for w in wanted]
    wanted = [name for _, name, options in specs if not options]
    known = [
        SegmenterConfig("punct", "punct"),
        SegmenterConfig("punct paper", "punct", {"preset": "paper"}),
        SegmenterConfig("fixed 64", "fixed", {"size": 64}),
        SegmenterConfig("sentence", "sentence"),
        SegmenterConfig("code", "code"),
    ]
    out = [c for c in known if c.name in wanted]
    out += [SegmenterConfig(n, n) for n in wanted if n not in {c.name for c in known}]
    out += [SegmenterConfig(spec, name, options) for spec, name, options in specs if options]
    return out


def length_stats(lengths: Sequence[int] | np.ndarray) -> dict[str, float | int]:
    """Count, mean, median, 95th percentile and max of segment lengths (zeros when empty)."""
    arr = np.asarray(lengths, dtype=np.float64)
    if arr.size == 0:
        return {"count": 0, "mean": 0.0, "p50": 0.0, "p95": 0.0, "max": 0}
    return {
        "count": int(arr.size),
        "mean": round(float(arr.mean()), 2),
        "p50": round(float(np.percentile(arr, 50)), 2),
        "p95": round(float(np.percentile(arr, 95)), 2),
        "max": int(arr.max()),
    }


def _time_segment(seg: Any, text: str, min_seconds: float) -> tuple[Any, float]:
    """Segment ``text`` repeatedly for at least ``min_seconds``; the best time of one call."""
    out = seg.segment(text)  # warm-up: lazy model loading must not count as segmenting
    best, spent = float("inf"), 0.0
    while spent < min_seconds or best == float("inf"):
        t0 = time.perf_counter()
        out = seg.segment(text)
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
    return out, best


def compare_segmenters(
    text: str,
    names: Iterable[str] | None = None,
    *,
    options: dict[str, dict[str, Any]] | None = None,
    configs: Sequence[SegmenterConfig] | None = None,
    min_seconds: float = 0.05,
    status: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """One row per segmenter configuration: count, mean/p50/p95/max length (chars), MB/s.

    ``names`` picks registered segmenters (default: all); ``options`` adds options by name (for
    example ``{"code": {"language": "python"}}``). A segmenter that cannot be built here (a
    missing optional dependency, or options it needs) gives a row with ``status`` other than
    ``"ok"`` and a ``detail`` message instead of raising. MB/s counts UTF-8 megabytes.
    """
    from segmenters import SegmenterError, check_text, get_segmenter
    from segmenters.errors import UnknownSegmenterError

    text = check_text(text)
    mb = len(text.encode("utf-8", "surrogatepass")) / 1e6
    rows = []
    todo = list(configs if configs is not None else default_configs(names))
    for i, cfg in enumerate(todo):
        if status is not None:
            status(f"segmenting {mb:.1f} MB with {cfg.label} ({i + 1}/{len(todo)})")
        opts = {**cfg.options, **(options or {}).get(cfg.name, {})}
        row: dict[str, Any] = {"segmenter": cfg.label, "name": cfg.name, "options": opts}
        try:
            seg = get_segmenter(cfg.name, **opts)
            out, seconds = _time_segment(seg, text, min_seconds)
        except UnknownSegmenterError:
            raise  # a misspelt name is the caller's error, not a row
        except (ImportError, OSError, SegmenterError) as exc:
            # spaCy reports a missing model as OSError; treat it like a missing package
            missing = isinstance(exc, (ImportError, OSError))
            row.update(status="unavailable" if missing else "needs options", detail=str(exc))
            rows.append(row)
            continue
        row.update(status="ok", detail="", **length_stats(out.lengths()))
        row["levels"] = list(out.levels)
        row["seconds"] = seconds
        row["mb_per_s"] = round(mb / seconds, 2) if seconds > 0 else float("inf")
        rows.append(row)
    return rows


_COLUMNS = (
    ("segmenter", "segmenter", "<"),
    ("count", "segments", ">"),
    ("mean", "mean", ">"),
    ("p50", "p50", ">"),
    ("p95", "p95", ">"),
    ("max", "max", ">"),
    ("mb_per_s", "MB/s", ">"),
)


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text table of `compare_segmenters` rows (lengths in characters)."""
    header = [title for _, title, _ in _COLUMNS]
    body = []
    notes = []
    for r in rows:
        if r.get("status") != "ok":
            body.append([r["segmenter"], *["-"] * (len(_COLUMNS) - 1)])
            notes.append(f"{r['segmenter']}: {r.get('status')}: {_first_line(r.get('detail', ''))}")
            continue
        body.append([_fmt(r.get(key)) for key, _, _ in _COLUMNS])
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if align == "<" else c.rjust(w)
            for c, w, (_, _, align) in zip(cells, widths, _COLUMNS)
        ).rstrip()

    out = [line(header), line(["-" * w for w in widths]), *map(line, body)]
    out.append("(lengths in characters; MB/s of UTF-8 input, best of repeated runs)")
    out += notes
    return "\n".join(out)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.1f}" if v < 1e6 else f"{v:.3g}"
    return str(v)


def _first_line(s: str, width: int = 120) -> str:
    line = s.strip().splitlines()[0] if s.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"
