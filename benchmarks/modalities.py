"""Segmenters of the new modalities beside their libraries called bare, and segment lengths of real data.

Part 1 (throughput, one core, best of ``--repeats``): each new segmenter and the library call it
rests on, on the same real data in the same run; the ratio is ours / bare (1.0 = no overhead).

- ``changepoint`` (binseg, BIC penalty) vs ``ruptures.Binseg(...).fit(x).predict(pen=...)``
  on the 23 statsmodels series (values/s);
- ``dna`` (region > codon) vs Biopython ``Seq.translate`` of the same frame (MB/s), GenBank DNA;
- ``protein`` motif vs ``re.finditer`` of the same pattern (MB/s), Swiss-Prot;
- ``markdown`` (three levels) vs ``MarkdownIt.parse`` alone (MB/s), the Node.js API docs;
- ``entropy`` (n-gram, order 3) segmenting vs scoring with the same model alone (MB/s) on
  the KJV Genesis sample, plus its training time.

Part 2 (segment lengths as sequences grow, the paper's Figure 1 view): prefixes of growing
length of the longest real sequence of each modality, with the mean, p95 and max segment length.

Part 3 (what the learned boundaries find): ``entropy`` trained on Genesis chapters 1-40 and
run on chapters 41-50; precision and recall of its cuts against word starts (a non-space after
whitespace), which it never saw as labels.

    python benchmarks/modalities.py            # everything (about a minute on an idle core)
    python benchmarks/modalities.py --quick    # smaller inputs, one repeat
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
from _common import best_time, quick_parser  # first: stops this script shadowing `segmenters`

from experiments.corpora import load_corpus
from experiments.errors import ExperimentError
from segmenters import get_segmenter
from segmenters.sequence import parse_values


def _row(
    name: str,
    data: str,
    size: float,
    unit: str,
    ours: Callable[[], Any],
    bare: Callable[[], Any],
    repeats: int,
) -> dict[str, Any]:
    t_ours, t_bare = best_time(ours, repeats), best_time(bare, repeats)
    return {
        "segmenter": name,
        "data": data,
        "unit": unit,
        "ours": size / t_ours,
        "bare": size / t_bare,
        "ratio": t_bare / t_ours,
    }


def _corpus(name: str, max_docs: int | None = None) -> list[str] | None:
    try:
        return [d.text for d in load_corpus(name, max_docs=max_docs).documents]
    except ExperimentError as exc:
        print(f"skip {name}: {exc}")
        return None


def throughput(quick: bool, repeats: int) -> list[dict[str, Any]]:
    """Part 1: one row per segmenter, ours beside the bare library call."""
    rows = []
    series = _corpus("series")
    if series is not None:
        import ruptures as rpt

        from segmenters.changepoint import default_penalty

        arrays = [parse_values(t).values for t in series]
        if quick:
            arrays = [a for a in arrays if len(a) < 1000]
        seg = get_segmenter("changepoint")
        n = sum(len(a) for a in arrays)

        def bare_rpt() -> None:
            for a in arrays:
                rpt.Binseg(model="l2", min_size=2, jump=1).fit(a).predict(pen=default_penalty(a))

        rows.append(
            _row(
                "changepoint",
                f"series ({len(arrays)} series)",
                n,
                "values/s",
                lambda: [seg.segment(a) for a in arrays],
                bare_rpt,
                repeats,
            )
        )
    dna = _corpus("genbank-dna")
    if dna is not None:
        from Bio.Seq import Seq

        docs = [d for d in dna if len(d) < 500_000] if quick else dna
        seg = get_segmenter("dna", level="region")
        mb = sum(len(d) for d in docs) / 1e6
        rows.append(_row("dna", f"genbank-dna ({mb:.1f} Mbp)", mb, "MB/s", lambda: [seg.segment(d) for d in docs],
                         lambda: [Seq(d[: len(d) // 3 * 3]).translate() for d in docs], repeats))  # fmt: skip
    prot = _corpus("swissprot")
    if prot is not None:
        from segmenters.bio import MOTIFS, prosite_to_regex

        seg = get_segmenter("protein", mode="motif")
        rx = re.compile(f"(?=({prosite_to_regex(MOTIFS['n-glycosylation'])}))")
        mb = sum(len(d) for d in prot) / 1e6
        rows.append(_row("protein motif", "swissprot (100 proteins)", mb, "MB/s", lambda: [seg.segment(d) for d in prot],
                         lambda: [[m.start() for m in rx.finditer(d)] for d in prot], repeats))  # fmt: skip
    md = _corpus("markdown", max_docs=12 if quick else None)
    if md is not None:
        from segmenters.markdown import load_markdown_it

        seg, parser = get_segmenter("markdown"), load_markdown_it()
        mb = sum(len(d) for d in md) / 1e6
        rows.append(_row("markdown", f"nodejs api docs ({mb:.1f} MB)", mb, "MB/s", lambda: [seg.segment(d) for d in md],
                         lambda: [parser.parse(d) for d in md], repeats))  # fmt: skip
    from experiments.corpora import load_sample

    text = "".join(d.text for d in load_sample().documents)
    import time

    t0 = time.perf_counter()
    ent = get_segmenter("entropy").fit([text])
    fit_s = time.perf_counter() - t0
    mb = len(text) / 1e6
    rows.append(_row("entropy", f"genesis ({mb:.2f} MB; fit {fit_s:.2f} s)", mb, "MB/s", lambda: ent.segment(text),
                     lambda: ent.scores(text), repeats))  # fmt: skip
    return rows


def _stats(lengths: np.ndarray) -> str:
    return f"{len(lengths)} | {lengths.mean():.1f} | {np.percentile(lengths, 95):.0f} | {lengths.max()}"


def growth(quick: bool) -> list[str]:
    """Part 2: segment-length statistics of growing prefixes, one Markdown row each."""
    rows = []

    def add(label: str, seg: Any, data: Any, sizes: list[int], level: str | None = None) -> None:
        for n in sizes:
            if n > len(data):
                continue
            out = seg.segment(data[:n])
            if level is not None:
                out = out.at_level(level)
            rows.append(f"| {label} | {n:,} | {_stats(np.asarray(out.lengths()))} |")

    series = _corpus("series")
    if series is not None:
        co2 = next(t for t in series if t.startswith("316"))  # Mauna Loa, the longest series
        values = parse_values(co2).values
        add(
            "co2 / changepoint (values)",
            get_segmenter("changepoint"),
            values,
            [250, 500, 1000, 2225],
        )
        add(
            "co2 / entropy bins=16 (values)",
            get_segmenter("entropy", mean_length=16).fit([values]),
            values,
            [250, 500, 1000, 2225],
        )
    dna = _corpus("genbank-dna")
    if dna is not None:
        longest = max(dna, key=len)
        sizes = [10_000, 100_000] + ([] if quick else [1_000_000, len(longest)])
        add("human contig / dna region (bp)", get_segmenter("dna", level="region"), longest, sizes)
        ent = get_segmenter("entropy", order=4, mean_length=8).fit([longest[:200_000]])
        add("human contig / entropy order 4 (bp)", ent, longest, sizes)
    md = _corpus("markdown")
    if md is not None:
        doc = max(md, key=len)
        seg = get_segmenter("markdown")
        sizes = [10_000, 50_000, 200_000, len(doc)]
        for level in ("section", "block", "sentence"):
            add(f"largest nodejs doc / markdown {level} (chars)", seg, doc, sizes, level)
    return rows


def word_recovery() -> list[str]:
    """Part 3: held-out precision and recall of entropy cuts against word starts."""
    from experiments.corpora import load_sample
    from segmenters.entropy import EntropySegmenter

    docs = [d.text for d in load_sample().documents]
    train, test = docs[:40], "".join(docs[40:])
    words = {m.start() for m in re.finditer(r"(?<=\s)\S", test)}
    rows = []
    for opts in ({"mean_length": 6}, {"mean_length": 8}, {"mean_length": 6, "rule": "jump"},
                 {"mean_length": 6, "measure": "surprise"}):  # fmt: skip
        out = EntropySegmenter(**opts).fit(train).segment(test)
        cuts = {s.start for s in out} - {0}
        hit = len(cuts & words)
        label = ", ".join(f"{k}={v}" for k, v in opts.items())
        rows.append(
            f"| {label} | {len(test) / len(out):.2f} | {hit / len(cuts):.3f} | {hit / len(words):.3f} |"
        )
    return rows


def main() -> None:
    """Run both parts and print Markdown tables."""
    parser = quick_parser(__doc__, "smaller inputs and one repeat")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs (default 3)")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    print("| segmenter | data | ours | library bare | ours / bare (speed) |")
    print("|---|---|---|---|---|")
    for r in throughput(args.quick, repeats):
        print(
            f"| {r['segmenter']} | {r['data']} | {r['ours']:,.2f} {r['unit']} | {r['bare']:,.2f} {r['unit']} | {r['ratio']:.2f} |"
        )
    print()
    print("| data / segmenter (unit) | prefix length | segments | mean length | p95 | max |")
    print("|---|---|---|---|---|---|")
    for line in growth(args.quick):
        print(line)
    print()
    print("| entropy options | mean length | precision vs word starts | recall |")
    print("|---|---|---|---|")
    for line in word_recovery():
        print(line)


if __name__ == "__main__":
    main()
