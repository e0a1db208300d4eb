"""Our segmenters beside the tools users already know, on accuracy and speed, in one run.

Sentences: `punct` and `sentence` (sentencizer, senter, parser) beside BlingFire, pySBD, nupunkt
and syntok: exact sentence lists on ``tests/data/sentences_eval.jsonl`` (and boundary F1), and
MB/s per CPU-second on the KJV dump (``bible -l 100000 "gen1:1-rev22:21" </dev/null``). Tools
slower than 5 MB/s are timed on the first 400 KB (pySBD would take minutes on 4.3 MB); the
column "timed on" says which. Timing rounds are interleaved (every tool once per round, best of
the rounds), so a change in machine load hits every tool alike and the ratios hold.

Code chunks: our `code` segmenter with ``max_chars=N`` beside semantic-text-splitter's
`CodeSplitter` and chonkie's `CodeChunker` (and its text `RecursiveChunker`) at the same
maximum, file by file over the CPython standard library (no tests): MB/s, whether the chunks
cover every file exactly, and how many chunks exceed the maximum.

Peers are the optional ``bench`` extra (``pip install 'bipe[bench]'``); a missing one is a row
marked "skipped" with the reason, never a failure.

    python benchmarks/peers.py            # full run
    python benchmarks/peers.py --quick    # 1 MB of KJV, 2 MB of stdlib, 2 rounds
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _common import kjv_text, quick_parser, stdlib_files  # first: fixes sys.path

from segmenters import get_segmenter
from segmenters.punct import RULES
from segmenters.sentence_eval import load_eval_set, score

Split = Callable[[str], list[str]]
SLOW_MB_S = 5.0  # below this, time on a slice
SLICE = 400_000
NEW_RULES = RULES[RULES.index("abbreviation_ends") :]


@dataclass
class Row:
    """One tool's results; ``skipped`` holds the reason when it could not run."""

    name: str
    skipped: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)


# --- sentence tools: each factory returns text -> list of sentence strings, or raises ----------


def ours(name: str, **options: Any) -> Callable[[], Split]:
    """A factory for one of our segmenters."""

    def make() -> Split:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seg = get_segmenter(name, **options)
        return lambda text: [s.text for s in seg.segment(text)]

    return make


def blingfire_split() -> Split:
    """BlingFire's `text_to_sentences` (one sentence a line; 4x faster than its offsets API)."""
    import blingfire

    return lambda text: blingfire.text_to_sentences(text).split("\n")


def pysbd_split() -> Split:
    """pySBD with ``clean=False``: the case's language where pySBD has rules for it, else English."""
    import pysbd
    from pysbd.languages import LANGUAGE_CODES

    segmenters: dict[str, Any] = {}

    def split(text: str, language: str = "en") -> list[str]:
        lang = language if language in LANGUAGE_CODES else "en"
        if lang not in segmenters:
            segmenters[lang] = pysbd.Segmenter(language=lang, clean=False)
        return segmenters[lang].segment(text)

    split.with_language = True  # type: ignore[attr-defined]
    return split


def nupunkt_split() -> Split:
    """nupunkt's `sent_tokenize` (its bundled English model)."""
    import nupunkt

    return nupunkt.sent_tokenize


def syntok_split() -> Split:
    """syntok's segmenter; each sentence rebuilt from its tokens and their spacing."""
    from syntok import segmenter

    def split(text: str) -> list[str]:
        return [
            "".join(tok.spacing + tok.value for tok in sentence)
            for paragraph in segmenter.analyze(text)
            for sentence in paragraph
        ]

    return split


SENTENCE_TOOLS: list[tuple[str, Callable[[], Split]]] = [
    ("punct (default)", ours("punct")),
    ("punct, issue 14 rules off", ours("punct", **dict.fromkeys(NEW_RULES, False))),
    ("sentence sentencizer", ours("sentence", mode="sentencizer")),
    ("sentence senter", ours("sentence", mode="senter")),
    ("sentence parser", ours("sentence", mode="parser")),
    ("BlingFire", blingfire_split),
    ("pySBD", pysbd_split),
    ("nupunkt", nupunkt_split),
    ("syntok", syntok_split),
]


def load(factory: Callable[[], Any]) -> tuple[Any, str]:
    """``(tool, "")``, or ``(None, reason)`` when its package is missing or it fails to start."""
    try:
        return factory(), ""
    except ImportError as exc:
        return None, f"not installed ({exc.name or exc}); pip install 'bipe[bench]'"
    except Exception as exc:  # a peer that cannot start is a skipped row, not a crash
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:240]}"


def load_rows(tools: list[tuple[str, Callable[[], Split]]]) -> tuple[list[Row], list[Any]]:
    """A row per tool (skipped ones with the reason), and ``(row, split)`` for those that loaded."""
    rows, ready = [], []
    for name, factory in tools:
        split, why = load(factory)
        rows.append(Row(name, why))
        if split is not None:
            ready.append((rows[-1], split))
    return rows, ready


def interleaved(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Best CPU seconds of each function over ``rounds`` rounds that run every function once."""
    best = dict.fromkeys(fns, math.inf)
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.process_time()
            fn()
            best[name] = min(best[name], time.process_time() - t0)
    return best


def bench_sentences(kjv: str | None, rounds: int) -> list[Row]:
    """Accuracy on the labelled set and MB/s on the KJV for every sentence tool."""
    cases = load_eval_set()
    english = [c for c in cases if c.language == "en"]
    other = [c for c in cases if c.language != "en"]
    rows, ready = load_rows(SENTENCE_TOOLS)
    runs = {}
    for row, split in ready:
        name = row.name
        lang = getattr(split, "with_language", False)
        everything = score(split, cases, lang)
        en, rest = score(split, english, lang), score(split, other, lang)
        row.numbers.update(
            exact=f"{everything.right}/{everything.total}",
            accuracy=round(everything.accuracy, 3),
            english=f"{en.right}/{en.total}",
            other_scripts=f"{rest.right}/{rest.total}",
            f1=round(everything.f1, 3),
            by_category={k: f"{a}/{b}" for k, (a, b) in sorted(everything.by_category.items())},
        )
        if kjv is not None:
            probe = kjv[:100_000]
            t0 = time.process_time()
            split(probe)
            rate = len(probe.encode()) / 1e6 / max(time.process_time() - t0, 1e-9)
            text = kjv if rate >= SLOW_MB_S else kjv[:SLICE]
            runs[name] = (text, split)
    if runs:
        best = interleaved({n: (lambda t=t, f=f: f(t)) for n, (t, f) in runs.items()}, rounds)
        ref = best.get("punct (default)")
        for row in rows:
            if row.name in best:
                text = runs[row.name][0]
                mb = len(text.encode()) / 1e6
                row.numbers["MB/s"] = round(mb / best[row.name], 2)
                row.numbers["timed_on_MB"] = round(mb, 2)
                if ref is not None:
                    ref_mb = len(runs["punct (default)"][0].encode()) / 1e6
                    row.numbers["punct_speedup"] = round((ref_mb / ref) / (mb / best[row.name]), 1)
    return rows


# --- code chunkers: each factory returns text -> list of chunk strings ---------------------------


def our_code(level: str, max_chars: int) -> Callable[[], Split]:
    """Our `code` segmenter at ``level`` with a hard maximum."""

    def make() -> Split:
        seg = get_segmenter("code", language="python", level=level, max_chars=max_chars)
        return lambda text: [s.text for s in seg.segment(text)]

    return make


def text_splitter_code(max_chars: int) -> Callable[[], Split]:
    """semantic-text-splitter's tree-sitter `CodeSplitter`, characters, no trimming (exact cover)."""

    def make() -> Split:
        import tree_sitter_python
        from semantic_text_splitter import CodeSplitter

        return CodeSplitter(tree_sitter_python.language(), max_chars, trim=False).chunks

    return make


def chonkie_code(max_chars: int) -> Callable[[], Split]:
    """chonkie's `CodeChunker` with its character tokenizer."""

    def make() -> Split:
        from chonkie import CodeChunker

        try:
            chunker = CodeChunker(language="python", tokenizer="character", chunk_size=max_chars)
        except ImportError as exc:
            raise RuntimeError(
                f"{exc}: CodeChunker needs tree-sitter-language-pack 1.x, which downloads "
                "grammars at run time (no network here)"
            ) from exc
        return lambda text: [c.text for c in chunker.chunk(text)]

    return make


def chonkie_recursive(max_chars: int) -> Callable[[], Split]:
    """chonkie's text `RecursiveChunker` (not code-aware), characters."""

    def make() -> Split:
        from chonkie import RecursiveChunker

        chunker = RecursiveChunker(tokenizer="character", chunk_size=max_chars)
        return lambda text: [c.text for c in chunker.chunk(text)]

    return make


def bench_code(files: list[str], max_chars: int, rounds: int) -> list[Row]:
    """MB/s, exact cover and the hard maximum for each chunker over ``files``."""
    tools = [
        (f"code level=file max_chars={max_chars} (packed)", our_code("file", max_chars)),
        (f"code level=definition max_chars={max_chars}", our_code("definition", max_chars)),
        (f"semantic-text-splitter CodeSplitter({max_chars})", text_splitter_code(max_chars)),
        (f"chonkie CodeChunker({max_chars})", chonkie_code(max_chars)),
        (f"chonkie RecursiveChunker({max_chars}), text only", chonkie_recursive(max_chars)),
    ]
    mb = sum(len(f.encode()) for f in files) / 1e6
    rows, ready = load_rows(tools)
    runs = {}
    for row, split in ready:
        name = row.name
        try:
            chunks = [split(f) for f in files]
        except Exception as exc:  # a peer failing at run time is a skipped row too
            row.skipped = f"{type(exc).__name__}: {str(exc).splitlines()[0][:240]}"
            continue
        lengths = [len(c) for file_chunks in chunks for c in file_chunks]
        row.numbers.update(
            chunks=len(lengths),
            mean_chars=round(sum(lengths) / max(len(lengths), 1), 1),
            max_chars=max(lengths, default=0),
            over_max=sum(n > max_chars for n in lengths),
            files_not_covered=sum("".join(c) != f for c, f in zip(chunks, files)),
        )
        runs[name] = split
    best = interleaved({n: (lambda f=f: [f(t) for t in files]) for n, f in runs.items()}, rounds)
    for row in rows:
        if row.name in best:
            row.numbers["MB/s"] = round(mb / best[row.name], 2)
    return rows


def print_rows(title: str, rows: list[Row], columns: list[str]) -> None:
    """A plain table: one row per tool, skipped rows with their reason."""
    print(f"\n== {title} ==")
    width = max(len(r.name) for r in rows)
    print(f"{'tool'.ljust(width)}  " + "  ".join(f"{c:>12}" for c in columns))
    for r in rows:
        if r.skipped:
            print(f"{r.name.ljust(width)}  skipped: {r.skipped}")
            continue
        cells = "  ".join(f"{r.numbers.get(c, '')!s:>12}" for c in columns)
        print(f"{r.name.ljust(width)}  {cells}")


def main(argv: list[str] | None = None) -> int:
    ap = quick_parser(__doc__, "1 MB of KJV, 2 MB of stdlib, 2 timing rounds")
    ap.add_argument("--max-chars", type=int, default=1000, help="code chunk maximum (chars)")
    ap.add_argument("--rounds", type=int, default=None, help="timing rounds (default 3; quick 2)")
    ap.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    ap.add_argument("--skip-code", action="store_true", help="only the sentence tools")
    args = ap.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 3)
    load_avg = os.getloadavg()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
        f"{load_avg[0]:.1f} {load_avg[1]:.1f} {load_avg[2]:.1f}; CPU seconds, best of {rounds} "
        "interleaved rounds"
    )
    kjv = kjv_text()
    if kjv is None:
        print("(KJV speed skipped: install the Debian package bible-kjv)")
    elif args.quick:
        kjv = kjv[:1_000_000]
    result: dict[str, Any] = {"load_average": load_avg, "rounds": rounds}
    rows = bench_sentences(kjv, rounds)
    print_rows(
        "sentences: labelled set (exact lists) and KJV speed",
        rows,
        ["exact", "english", "other_scripts", "f1", "MB/s", "timed_on_MB", "punct_speedup"],
    )
    result["sentences"] = [r.__dict__ for r in rows]
    if not args.skip_code:
        files = stdlib_files(2_000_000 if args.quick else None)
        mb = sum(len(f.encode()) for f in files) / 1e6
        code_rows = bench_code(files, args.max_chars, rounds)
        print_rows(
            f"code chunks: CPython stdlib without tests, {len(files):,} files, {mb:.1f} MB",
            code_rows,
            ["MB/s", "chunks", "mean_chars", "max_chars", "over_max", "files_not_covered"],
        )
        result["code"] = [r.__dict__ for r in code_rows]
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
