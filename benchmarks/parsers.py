"""Speed of the parser-backed segmenters, each beside its baseline in the same run.

`code`: MB/s per primary level on the CPython standard library, beside `str.splitlines` and the
raw tree-sitter parse alone (the overhead ratio is ours / raw parse). `sentence`: the
`sentencizer` mode on the KJV Bible dump and `senter` on a sample, beside the raw spaCy
`nlp.pipe` of the same pipeline on the same text. Then `workers=1` vs `workers=2` on 10 MB.

    python benchmarks/parsers.py            # full run (about 3 to 6 minutes on 2 cores)
    python benchmarks/parsers.py --quick    # a short run (about a minute)

Times are CPU seconds of this process (`time.process_time`) where one process does the work,
and wall seconds for the workers comparison; both are printed where they differ in meaning.
"""

from __future__ import annotations

import itertools
import os
import pathlib
import resource
import sysconfig
import time
import warnings
from collections.abc import Callable
from typing import Any

from _common import kjv_text, quick_parser  # first: benchmarks/segmenters.py shadows `segmenters`

MB = 1e6


def stdlib_texts(limit: int) -> list[str]:
    """UTF-8 `.py` files of the CPython standard library (no site-packages), up to ``limit`` chars."""
    root = pathlib.Path(sysconfig.get_paths()["stdlib"])
    out, total = [], 0
    for p in sorted(root.rglob("*.py")):
        if "site-packages" in p.parts:
            continue
        try:
            text = p.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        out.append(text)
        total += len(text)
        if total >= limit:
            break
    return out


def timed(fn: Callable[[], Any], clock: Callable[[], float] = time.process_time) -> float:
    t0 = clock()
    fn()
    return clock() - t0


def row(name: str, chars: int, seconds: float, ref: float | None = None) -> None:
    ratio = f"{seconds / ref:6.2f}x" if ref else "       "
    print(
        f"  {name:<44} {chars / MB:7.2f} MB {seconds:8.2f} s {chars / MB / seconds:8.2f} MB/s {ratio}"
    )


def bench_code(texts: list[str]) -> None:
    import tree_sitter as ts

    from segmenters import get_segmenter
    from segmenters.code_languages import load_language

    chars = sum(map(len, texts))
    print(
        f"\n## code: {len(texts)} stdlib files, {chars / MB:.1f} MB (CPU seconds; ratio vs raw parse)"
    )
    t_lines = timed(lambda: [t.splitlines(keepends=True) for t in texts])
    parser = ts.Parser(load_language("python")[1])
    t_parse = timed(lambda: [parser.parse(t.encode("utf-8")) for t in texts])
    row("baseline: str.splitlines", chars, t_lines)
    row("baseline: tree-sitter parse alone", chars, t_parse, t_parse)
    for level in ("file", "definition", "statement", "line"):
        seg = get_segmenter("code", language="python", level=level)
        row(
            f"code level={level} (all 4 levels built)",
            chars,
            timed(lambda s=seg: [s.segment(t) for t in texts]),
            t_parse,
        )
    seg = get_segmenter("code", language="python", level="definition", levels=["definition"])
    row(
        "code level=definition, levels=[definition]",
        chars,
        timed(lambda: [seg.segment(t) for t in texts]),
        t_parse,
    )
    seg = get_segmenter("code", language="python", level="statement", max_chars=512)
    row(
        "code level=statement max_chars=512",
        chars,
        timed(lambda: [seg.segment(t) for t in texts]),
        t_parse,
    )
    seg = get_segmenter("code", language="python", level="statement")
    row(
        "code statement + read every Segment object",
        chars,
        timed(lambda: [list(seg.segment(t).segments) for t in texts]),
        t_parse,
    )


def bench_sentence(text: str, senter_chars: int) -> None:
    import spacy

    from segmenters import get_segmenter
    from segmenters.sentence import _cut_points

    print(f"\n## sentence: KJV {len(text) / MB:.2f} MB (CPU seconds; ratio vs raw spaCy)")
    seg = get_segmenter("sentence", mode="sentencizer")
    bounds = [0, *_cut_points(text, seg.piece_chars), len(text)]
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = len(text) + 1
    # First passes are cold: spaCy's tokenizer cache and vocabulary fill up on new words.
    t_ours_cold = timed(lambda: seg.segment(text))
    t_raw = timed(lambda: list(nlp.pipe(pieces)))
    t_ours = timed(lambda: seg.segment(text))
    t_whole = timed(lambda: nlp(text))
    row("ours sentencizer, first pass (cold cache)", len(text), t_ours_cold, t_raw)
    row("raw spaCy nlp.pipe(pieces) blank+sentencizer", len(text), t_raw, t_raw)
    row("ours sentencizer, warm", len(text), t_ours, t_raw)
    row("raw spaCy nlp(whole text), warm", len(text), t_whole, t_raw)
    sample = text[:senter_chars]
    paras = [p for p in sample.split("\n\n") if p]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sent = get_segmenter("sentence", mode="senter")
    raw_nlp = sent.loaded.nlp
    sent.segment_many(paras[:10])  # warm both the same way before timing
    t_raw_s = timed(lambda: list(raw_nlp.pipe(paras)))
    t_ours_s = timed(lambda: sent.segment_many(paras))
    row(f"raw spaCy nlp.pipe senter ({len(paras)} paragraphs)", len(sample), t_raw_s, t_raw_s)
    row("ours senter segment_many", len(sample), t_ours_s, t_raw_s)


def bench_workers(code_texts: list[str], kjv: str | None, size: int) -> None:
    from segmenters import get_segmenter

    load = os.getloadavg()[0]
    print(
        f"\n## workers: {size / MB:.0f} MB (wall seconds, best of 3 interleaved; speed-up = workers=1 / workers=2; "
        f"{os.cpu_count()} cores, load average {load:.1f})"
    )
    jobs: list[tuple[str, Any, list[str]]] = [
        ("code statement", get_segmenter("code", language="python", level="statement"), code_texts)
    ]
    if kjv is not None:
        reps = kjv * (size // len(kjv) + 1)
        chapters = [c for c in reps[:size].split("\n\n") if c]
        jobs.append(("sentence sentencizer", get_segmenter("sentence"), chapters))
    for name, seg, texts in jobs:
        chars = sum(map(len, texts))
        seg.segment_many(texts[:20])  # load caches before timing either run
        # Interleaved repetitions, best of each: a single back-to-back pair mostly measures
        # which run went first (cold page cache, CPU frequency), not the parallelism.
        t1s, t2s, cpu1s, parents, kidss = [], [], [], [], []
        for _ in range(3):
            c0 = time.process_time()
            t1s.append(
                timed(lambda s=seg, t=texts: s.segment_many(t, workers=1), time.perf_counter)
            )
            cpu1s.append(time.process_time() - c0)
            kids0, c0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time()
            t2s.append(
                timed(lambda s=seg, t=texts: s.segment_many(t, workers=2), time.perf_counter)
            )
            parents.append(time.process_time() - c0)
            kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            kidss.append((kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime))
        t1, t2, cpu1 = min(t1s), min(t2s), min(cpu1s)
        parent, kids = min(parents), min(kidss)
        # On two idle cores the wall time would be about max(parent, workers / 2).
        ideal = cpu1 / max(parent, kids / 2)
        print(
            f"  {name:<24} {chars / MB:6.1f} MB  workers=1 {t1:6.2f} s  workers=2 {t2:6.2f} s  "
            f"speed-up {t1 / t2:.2f}x  (CPU: sequential {cpu1:.2f} s, parent {parent:.2f} s, "
            f"workers {kids:.2f} s -> {ideal:.2f}x on 2 idle cores)"
        )
    if kjv is not None:
        import spacy

        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        t1 = timed(lambda: list(nlp.pipe(chapters, batch_size=64)), time.perf_counter)
        t2 = timed(lambda: list(nlp.pipe(chapters, batch_size=64, n_process=2)), time.perf_counter)
        print(
            f"  {'ref: spaCy nlp.pipe':<24} {chars / MB:6.1f} MB  n_process=1 {t1:6.2f} s  "
            f"n_process=2 {t2:6.2f} s  speed-up {t1 / t2:.2f}x"
        )


def main() -> None:
    """Run the code, sentence and workers benchmarks (shorter with --quick)."""
    args = quick_parser(__doc__, "a short run on less data").parse_args()
    code_limit = 3_000_000 if args.quick else 10**9
    texts = stdlib_texts(code_limit)
    bench_code(texts)
    kjv = kjv_text()
    if kjv is None:
        print("\n## sentence: skipped (the `bible` tool is not installed)")
    else:
        bench_sentence(kjv[:1_000_000] if args.quick else kjv, 100_000 if args.quick else 400_000)
    size = 2_000_000 if args.quick else 10_000_000
    bench_workers(stdlib_texts(size), kjv, size)


if __name__ == "__main__":
    main()
