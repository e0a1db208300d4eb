"""Segmenter throughput (MB/s, one core) on the KJV Bible and the CPython stdlib, beside baselines.

Baselines run in the same process on the same text: a naive ``re.split`` after ``[.!?\\n]``
(what a two-line script would do) and, if spaCy is installed, its blank-English ``sentencizer``
(rule-based, the cheapest spaCy sentence splitter). Ratios are ours / baseline. Target: the
``punct`` default at >= 20 MB/s on the KJV.

    python benchmarks/segmenters.py                       # full run
    python benchmarks/segmenters.py --quick               # about 1 MB per corpus
    python benchmarks/segmenters.py --workers-check punct # workers=1 vs workers=2 on ~10 MB

KJV: ``bible -l 100000 "gen1:1-rev22:21" </dev/null`` (Debian package bible-kjv).
Stdlib: every ``.py`` under ``sysconfig.get_paths()["stdlib"]`` except test folders and
site-packages.
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any

from _common import (  # first: stops this script shadowing `segmenters`
    kjv_text,
    quick_parser,
    stdlib_files,
)

from segmenters import MissingDependencyError, SegmenterError, get_segmenter


def stdlib_text(limit: int | None = None) -> str:
    """The CPython standard library's sources (no tests), concatenated in path order."""
    return "".join(stdlib_files(limit))


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Fastest wall and CPU seconds of ``repeats`` runs (least disturbed by other processes)."""
    wall = cpu = math.inf
    out = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def naive_split(text: str) -> list[str]:
    """The baseline: cut after every '.', '!', '?' and newline."""
    return re.split(r"(?<=[.!?\n])", text)


def spacy_sentencizer() -> Callable[[str], int] | None:
    """spaCy's blank-English sentencizer over paragraphs; None when spaCy is missing."""
    try:
        import spacy
    except ImportError:
        return None
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")

    def run(text: str) -> int:
        paras = [p for p in text.split("\n\n") if p]
        return sum(len(list(doc.sents)) for doc in nlp.pipe(paras, batch_size=256))

    return run


def ours(label: str, name: str, options: dict[str, Any]) -> tuple[str, Callable[[str], int]] | None:
    """A (label, run) pair for one of our segmenters, or None when it cannot load here."""
    try:
        seg = get_segmenter(name, **options)
    except (ImportError, MissingDependencyError, SegmenterError) as exc:
        print(f"  ({label}: unavailable: {str(exc).splitlines()[0]})")
        return None
    return label, lambda text: len(seg.segment(text))


def bench_corpus(title: str, text: str, configs: list[tuple[str, str, dict]], repeats: int) -> None:
    """Print one table: MB/s (wall and CPU) per segmenter and ratios to the baselines."""
    mb = len(text.encode("utf-8")) / 1e6
    print(f"\n== {title}: {mb:.2f} MB, {len(text):,} characters ==")
    rows: list[tuple[str, float, float, int]] = []
    wall, cpu, out = best_time(lambda: naive_split(text), repeats)
    rows.append(("baseline re.split [.!?\\n]", wall, cpu, len(out)))
    spacy_run = spacy_sentencizer()
    if spacy_run is not None:
        # spaCy is ~100x slower: time it on a slice and report its rate.
        part = text[: min(len(text), 400_000)]
        scale = len(text) / max(len(part), 1)
        wall, cpu, n = best_time(lambda: spacy_run(part), 1)
        rows.append(("baseline spaCy sentencizer", wall * scale, cpu * scale, int(n * scale)))
    for label, name, options in configs:
        entry = ours(label, name, options)
        if entry is None:
            continue
        _, run = entry
        run(text[:10_000])  # warm-up: lazy loading is not segmenting
        wall, cpu, n = best_time(lambda run=run: run(text), repeats)
        rows.append((label, wall, cpu, n))
    base_cpu = rows[0][2]
    spacy_cpu = rows[1][2] if spacy_run is not None else None
    head = f"{'segmenter':<28} {'segments':>9} {'MB/s wall':>10} {'MB/s CPU':>9} {'vs re':>7}"
    print(head + (f" {'vs spaCy':>9}" if spacy_cpu else ""))
    for label, wall, cpu, n in rows:
        line = f"{label:<28} {n:>9,} {mb / wall:>10.1f} {mb / cpu:>9.1f} {base_cpu / cpu:>6.2f}x"
        if spacy_cpu:
            line += f" {spacy_cpu / cpu:>8.1f}x"
        print(line)


def workers_check(name: str, options: dict[str, Any], text: str, target_mb: float) -> None:
    """Wall-clock speed-up of ``segment_many(workers=2)`` over ``workers=1`` on ~target_mb."""
    seg = get_segmenter(name, **options)
    docs = [d for d in re.split(r"\n(?=\S)", text) if d] or [text]
    batch, size = [], 0
    while size < target_mb * 1e6:
        for d in docs:
            batch.append(d)
            size += len(d)
            if size >= target_mb * 1e6:
                break
    print(
        f"\n== workers check: {name} {options or ''} on {len(batch):,} texts, {size / 1e6:.1f} MB =="
    )
    t0 = time.perf_counter()
    one = seg.segment_many(batch, workers=1)
    t1 = time.perf_counter()
    two = seg.segment_many(batch, workers=2)
    t2 = time.perf_counter()
    same = [s.spans for s in one] == [s.spans for s in two]
    print(
        f"workers=1: {t1 - t0:.2f} s   workers=2: {t2 - t1:.2f} s   speed-up {(t1 - t0) / (t2 - t1):.2f}x"
        f"   identical output: {same}   (cores: {os.cpu_count()})"
    )


def parse_options(items: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values parsed as in `bipe segment --option`."""
    from experiments.specs import parse_options as parse

    return parse(items)


def main(argv: list[str] | None = None) -> int:
    ap = quick_parser(__doc__, "about 1 MB per corpus, fewer repeats")
    ap.add_argument("--workers-check", metavar="NAME", help="also time workers=1 vs 2 for NAME")
    ap.add_argument(
        "--option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="options for --workers-check's segmenter",
    )
    ap.add_argument("--workers-mb", type=float, default=10.0, help="size of the workers check")
    args = ap.parse_args(argv)
    repeats = 2 if args.quick else 5
    limit = 1_000_000 if args.quick else None
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; best of {repeats} runs")

    prose = [
        ("punct (default)", "punct", {}),
        ("punct preset=paper", "punct", {"preset": "paper"}),
        ("fixed size=64", "fixed", {"size": 64}),
        ("sentence", "sentence", {}),
    ]
    kjv = kjv_text()
    if kjv is None:
        print("\n(KJV skipped: install the Debian package bible-kjv)")
    else:
        bench_corpus("KJV Bible", kjv[:limit] if limit else kjv, prose, repeats)
    code = stdlib_text(limit=2 * limit if limit else None)
    code_cfgs = [*prose[:3], ("code language=python", "code", {"language": "python"})]
    bench_corpus("CPython stdlib (no tests)", code, code_cfgs, max(1, repeats - 2))

    if args.workers_check:
        base = kjv if kjv is not None else code
        workers_check(args.workers_check, parse_options(args.option), base, args.workers_mb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
