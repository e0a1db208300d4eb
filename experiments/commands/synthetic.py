"""`bipe synthetic`: train models on Bi-NFA languages and report the width each positional scheme needs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from experiments.commands.options import (
    EXECUTOR,
    OVERWRITE,
    add_options,
    command_line,
    config_options,
    dir_path,
    executor_settings,
    int_at_least,
    int_list_at_least,
    name_list,
    opt,
    probability,
    spec_list,
)
from experiments.errors import ExperimentError
from experiments.synthetic.checks import MAX_SEED, MAX_WIDTH, MAX_WORKERS


def distinct(convert: Callable[[str], list[int]]) -> Callable[[str], list[int]]:
    """An argparse type: ``convert``'s list, refusing a repeated value (``8,8`` would train one
    cell twice and report it as two seeds or widths)."""

    def check(text: str) -> list[int]:
        values = convert(text)
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise argparse.ArgumentTypeError(
                f"{', '.join(map(str, twice))} listed twice in {text!r}; remove the repeat"
            )
        return values

    check.__name__ = f"{convert.__name__}, each once"
    return check


SWEEP = (
    opt(
        "--automata",
        metavar="SPECS",
        type=spec_list,
        help="comma list of family:types=K,states=N[,seed=S], e.g. "
        "mod-marked:types=2,states=2,random:types=2,states=5",
    ),
    opt("--schemes", type=name_list, help="comma list of positional schemes"),
    opt(
        "--widths",
        type=distinct(int_list_at_least(1, MAX_WIDTH)),
        help=f"comma list of model widths (d_model), each at most {MAX_WIDTH}",
    ),
    opt(
        "--seeds",
        type=distinct(int_list_at_least(0, MAX_SEED)),
        help="comma list of distinct seeds, e.g. 0,1,2 or 0-2",
    ),
    opt("--target", type=probability, help="word accuracy a width must reach (default 0.97)"),
    opt(
        "--workers",
        type=int_at_least(1, MAX_WORKERS),
        help="cells trained side by side (local executor; default: the config's workers)",
    ),
    *EXECUTOR,
    opt(
        "--out",
        metavar="DIR",
        type=dir_path,
        help="output directory (default: bipe-results/synthetic-<preset>); finished cells there "
        "are kept and skipped",
    ),
    *OVERWRITE,
    opt(
        "--report-only",
        action="store_true",
        help="write the report from finished cells, train nothing",
    ),
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bipe synthetic` to the `bipe` parser."""
    p = sub.add_parser(
        "synthetic",
        help="width each positional scheme needs to learn Bi-NFA languages (sweep + report)",
        description="Train a model per (automaton, scheme, width, seed) on legal-next-token "
        "prediction, test at 1x..8x the training segment counts, report minimal widths, size "
        "fits and linear probes. A rerun skips finished cells; Ctrl-C keeps them.",
    )
    from experiments.synthetic.config import presets

    note = "tiny (tests, under 2 minutes); cpu or gpu for the study"
    add_options(p, config_options(presets(), "tiny", note), SWEEP)
    p.set_defaults(func=run_synthetic)


def run_synthetic(args: argparse.Namespace) -> int:
    """Run the sweep (or only the report) and print where the report is."""
    from experiments.commands.outputs import claim_dir
    from experiments.synthetic.config import load_synthetic_config
    from experiments.synthetic.report import write_report
    from experiments.synthetic.task import collect, run_sweep

    given = ("automata", "schemes", "widths", "seeds", "target", "workers")
    fields = {k: getattr(args, k) for k in given}
    cfg = load_synthetic_config(args.preset, args.set, path=args.config, **fields)
    out = Path(args.out or f"bipe-results/synthetic-{cfg.name}")
    if args.report_only and not (out / "cells").is_dir():
        # a report of zero cells would be a summary of nothing: refused, no directory made
        raise ExperimentError(
            f"--report-only: {out} holds no cells of a synthetic sweep; run without --report-only "
            "first (or give the --out of an earlier run)"
        )
    claim_dir(out, args.overwrite)
    if args.report_only:
        res = collect(cfg, out)
    else:
        log = lambda m: print(m, file=sys.stderr)  # noqa: E731
        res = run_sweep(cfg, out, **executor_settings(args), log=log)
    path = write_report(cfg, res, command_line())
    done = len(res.results)
    print(f"{done} cells finished, {len(res.failed)} without results; report: {path}")
    if res.interrupted:
        print(
            "interrupted: finished cells are kept; run the same command to continue",
            file=sys.stderr,
        )
        return 130
    if res.failed:
        print(f"{len(res.failed)} cells failed or have no result: see the report", file=sys.stderr)
    return res.status
