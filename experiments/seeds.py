"""Several seeds of one grid: perplexity means with 95% t-intervals, and paired scheme differences.

Reads the ``results.csv`` of one `bipe run` report directory per seed (same grid, different
``train.seed``) and prints Markdown tables::

    python -m experiments.seeds runs/hier-kjv-s0 runs/hier-kjv-s1 runs/hier-kjv-s2 \\
        --pair hier_rope:bipe_rope --pair hier_alibi:bipe_alibi
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from experiments.errors import ExperimentError
from experiments.report import read_results_csv, run_label


def read_seed_rows(dirs: Sequence[str | Path]) -> list[list[dict[str, str]]]:
    """The rows of ``results.csv`` in each report directory (one list per seed)."""
    out = [read_results_csv(d) for d in dirs]
    if len(out) < 2:
        raise ExperimentError("an interval needs the reports of at least two seeds")
    return out


def mean_interval(values: Sequence[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% Student-t interval (`experiments.stats.t_interval`)."""
    from experiments.stats import t_interval

    iv = t_interval(values)
    return iv.mean, iv.half


def _by_run(seeds: list[list[dict[str, str]]]) -> dict[tuple[str, str], dict[int, list[float]]]:
    runs: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for rows in seeds:
        for r in rows:
            runs[(r["corpus"], run_label(r))][int(r["length"])].append(float(r["ppl"]))
    n = len(seeds)
    incomplete = [
        f"{label} at {length}"
        for (_, label), by in runs.items()
        for length, v in by.items()
        if len(v) != n
    ]
    if incomplete:
        raise ExperimentError(f"not every seed has these cells: {', '.join(incomplete[:5])}")
    return runs


def seeds_table(seeds: list[list[dict[str, str]]]) -> str:
    """Markdown: per run and length, mean perplexity ± 95% interval over the seeds."""
    runs = _by_run(seeds)
    lengths = sorted({n for by in runs.values() for n in by})
    lines = [
        f"| corpus | run ({len(seeds)} seeds) | "
        + " | ".join(map(str, lengths))
        + " | last / first |",
        "|" + "---|" * (3 + len(lengths)),
    ]
    for (corpus, label), by in runs.items():
        cells = [f"{m:.2f} ± {h:.2f}" for m, h in (mean_interval(by[n]) for n in lengths)]
        ratio = mean_interval([b / a for a, b in zip(by[lengths[0]], by[lengths[-1]])])
        lines.append(
            f"| {corpus} | {label} | {' | '.join(cells)} | {ratio[0]:.3f} ± {ratio[1]:.3f} |"
        )
    return "\n".join(lines)


def paired_table(seeds: list[list[dict[str, str]]], pairs: Sequence[tuple[str, str]]) -> str:
    """Markdown: per pair (a, b) and length, the mean per-seed ratio ppl(a) / ppl(b) ± 95%."""
    per_seed = []
    for rows in seeds:
        cells = {(r["corpus"], r["scheme"], int(r["length"])): float(r["ppl"]) for r in rows}
        if len(cells) != len(rows):
            raise ExperimentError("pairs need one segmenter per scheme and corpus in the grid")
        per_seed.append(cells)
    lengths = sorted({k[2] for k in per_seed[0]})
    corpora = sorted({k[0] for k in per_seed[0]})
    lines = [
        "| corpus | ppl ratio | " + " | ".join(map(str, lengths)) + " |",
        "|" + "---|" * (2 + len(lengths)),
    ]
    for corpus in corpora:
        for a, b in pairs:
            try:
                ratios = [
                    [s[(corpus, a, n)] / s[(corpus, b, n)] for s in per_seed] for n in lengths
                ]
            except KeyError as exc:
                raise ExperimentError(f"no {exc.args[0]} in every seed's results") from exc
            cells = [f"{m:.3f} ± {h:.3f}" for m, h in map(mean_interval, ratios)]
            lines.append(f"| {corpus} | {a} / {b} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the seed tables of the report directories given on the command line."""
    p = argparse.ArgumentParser(
        prog="python -m experiments.seeds", description=__doc__.split("\n")[0]
    )
    p.add_argument("dirs", nargs="+", help="report directories of `bipe run`, one per seed")
    p.add_argument("--pair", action="append", default=[], metavar="A:B", help="scheme ratio A/B")
    args = p.parse_args(argv)
    try:
        seeds = read_seed_rows(args.dirs)
        print(seeds_table(seeds))
        pairs = [tuple(x.split(":", 1)) for x in args.pair]
        if any(len(pair) != 2 for pair in pairs):
            raise ExperimentError("--pair takes two scheme names as A:B")
        if pairs:
            print()
            print(paired_table(seeds, pairs))
    except ExperimentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
