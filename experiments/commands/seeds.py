"""`bipe seeds`: means with 95% intervals over seeds, and differences between cells, read from the
``results.csv`` of `bipe run` report directories (no torch needed)."""

from __future__ import annotations

import argparse

from experiments.errors import ExperimentError


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bipe seeds table` and `bipe seeds diff` to the `bipe` parser."""
    p = sub.add_parser("seeds", help="intervals over seeds from report directories")
    inner = p.add_subparsers(dest="seeds_command", metavar="ACTION", required=True)

    t = inner.add_parser(
        "table", help="mean perplexity ± 95%% interval per run and length (and paired ratios)"
    )
    t.add_argument(
        "dirs",
        nargs="+",
        metavar="DIR",
        help="report directories: one of several seeds, or one per seed",
    )
    t.add_argument(
        "--pair",
        action="append",
        default=[],
        metavar="A:B",
        help="also the per-seed ratio ppl(A) / ppl(B); A and B are run labels or scheme names",
    )
    t.add_argument("--corpus", help="only this corpus (for --pair)")
    t.set_defaults(func=run_table)

    d = inner.add_parser(
        "diff", help="cell A minus cell B per length, Welch 95%% interval (* beyond noise)"
    )
    d.add_argument("dir_a", metavar="DIR_A", help="report directory of cell A")
    d.add_argument(
        "cell_a", metavar="CELL_A", help="run label, e.g. 'bipe_rope (punct)', or scheme"
    )
    d.add_argument("dir_b", metavar="DIR_B", help="report directory of cell B")
    d.add_argument("cell_b", metavar="CELL_B", help="run label or scheme of cell B")
    d.add_argument("--corpus", help="the corpus, when the reports hold several")
    d.set_defaults(func=run_diff)


def run_table(args: argparse.Namespace) -> int:
    """`bipe seeds table`: print the seed table, then the ratio table of any --pair."""
    from experiments.analysis.stats import ratio_table, report_cells, seeds_table

    pairs = [split_pair(x) for x in args.pair]
    cells = report_cells(args.dirs)
    print(seeds_table(cells))
    if pairs:
        print()
        print(ratio_table(cells, pairs, args.corpus))  # type: ignore[arg-type]
    return 0


def split_pair(text: str) -> tuple[str, str]:
    """``A:B`` as (A, B), split at the colon outside parentheses (labels such as
    ``bipe_rope (fixed:size=120)`` hold colons of their own)."""
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == ":" and depth == 0 and 0 < i < len(text) - 1:
            return text[:i], text[i + 1 :]
    raise ExperimentError(
        f"--pair takes two cells as A:B, e.g. --pair bipe_rope:rope, got {text!r}"
    )


def run_diff(args: argparse.Namespace) -> int:
    """`bipe seeds diff`: print cell A minus cell B at every length both were evaluated at."""
    from experiments.analysis.stats import diff_line

    print(diff_line(args.dir_a, args.cell_a, args.dir_b, args.cell_b, args.corpus))
    return 0
