"""`bipe synthetic`: train models on Bi-NFA languages and report the width each positional scheme needs."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from experiments.validate import add_overwrite_arg, dir_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bipe synthetic` to the `bipe` parser."""
    p = sub.add_parser(
        "synthetic",
        help="width each positional scheme needs to learn Bi-NFA languages (sweep + report)",
        description="Train a model per (automaton, scheme, width, seed) on legal-next-token "
        "prediction, test at 1x..8x the training segment counts, report minimal widths, size "
        "fits and linear probes. A rerun skips finished cells; Ctrl-C keeps them.",
    )
    p.add_argument(
        "--preset",
        default="tiny",
        choices=("tiny", "cpu", "gpu"),
        help="tiny (tests, under 2 minutes), cpu or gpu (default: %(default)s)",
    )
    p.add_argument(
        "--automata",
        metavar="SPECS",
        help="comma list of family:types=K,states=N[,seed=S], e.g. "
        "mod-marked:types=2,states=2,random:types=2,states=5",
    )
    p.add_argument("--schemes", help="comma list of positional schemes")
    p.add_argument("--widths", help="comma list of model widths (d_model)")
    p.add_argument("--seeds", help="comma list of seeds")
    p.add_argument("--target", help="word accuracy a width must reach (in (0, 1]; default 0.97)")
    p.add_argument("--workers", help="cells trained side by side (local executor)")
    p.add_argument(
        "--executor",
        default="local",
        help="local (worker processes), slurm or submitit-local (via submitit; default: %(default)s)",
    )
    p.add_argument(
        "--executor-option",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="submitit parameter, e.g. slurm_partition=gpu, timeout_min=30 (repeatable)",
    )
    p.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a setting, e.g. --set train.steps=500 --set task.factors=1,2,4,8",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        type=dir_path,
        help="output directory (default: bipe-results/synthetic-<preset>); finished cells there "
        "are kept and skipped",
    )
    add_overwrite_arg(p)
    p.add_argument(
        "--report-only",
        action="store_true",
        help="write the report from finished cells, train nothing",
    )
    p.set_defaults(func=run_synthetic)


def run_synthetic(args: argparse.Namespace) -> int:
    """Run the sweep (or only the report) and print where the report is."""
    from experiments.errors import ExperimentError
    from experiments.specs import parse_options
    from experiments.synthetic import run_sweep
    from experiments.synthetic_config import EXECUTORS, load_synthetic_config
    from experiments.synthetic_report import write_report

    if args.executor not in EXECUTORS:
        raise ExperimentError(
            f"unknown executor {args.executor!r}; choose one of {', '.join(EXECUTORS)}"
        )
    cfg = load_synthetic_config(
        args.preset,
        args.set,
        automata=args.automata,
        schemes=args.schemes,
        widths=args.widths,
        seeds=args.seeds,
        target=args.target,
        workers=args.workers,
    )
    from experiments.validate import claim_dir

    options = parse_options(args.executor_option, where="--executor-option")
    out = Path(args.out or f"bipe-results/synthetic-{cfg.name}")
    # a directory of cells from an earlier run (before the owner marker) is resumed, never refused
    claim_dir(out, args.overwrite, ours=lambda p: (p / "cells").is_dir())
    command = "bipe " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if args.report_only:
        from experiments.synthetic import collect

        res = collect(cfg, out)
    else:
        res = run_sweep(cfg, out, args.executor, options, log=lambda m: print(m, file=sys.stderr))
    path = write_report(cfg, res, command)
    done = len(res.results)
    print(f"{done} cells finished, {len(res.failed)} without results; report: {path}")
    if res.interrupted:
        print(
            "interrupted: finished cells are kept; run the same command to continue",
            file=sys.stderr,
        )
        return 130
    return 0
