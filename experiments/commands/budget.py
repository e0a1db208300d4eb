"""`bipe budget`: the experiment grid at several training budgets and BiPE's gap against them."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from experiments.commands.train import _config_args, _load
from experiments.errors import ExperimentError


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bipe budget` to the `bipe` parser."""
    p = sub.add_parser(
        "budget", help="the grid at several step budgets; BiPE's gap to RoPE/ALiBi against tokens"
    )
    _config_args(p, "tiny")
    p.add_argument(
        "--steps", required=True, help="comma-separated budgets in steps, e.g. 300,900,2700"
    )
    p.add_argument("--out", metavar="DIR", required=True, help="report directory")
    p.add_argument("--workers", type=int, help="runs trained side by side (default: config)")
    p.set_defaults(func=run_budget_command)


def run_budget_command(args: argparse.Namespace) -> int:
    """`bipe budget`: run every budget (resumable) and write budget.md and the gap plot."""
    from experiments.budget import run_budget

    try:
        steps = [int(s) for s in args.steps.split(",") if s.strip()]
    except ValueError as exc:
        raise ExperimentError(f"--steps takes comma-separated integers: {exc}") from exc
    cfg = _load(args)
    cmd = "bipe " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if run_budget(cfg, steps, Path(args.out), args.cache_dir, args.workers, command=cmd) is None:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130
    print(f"report: {Path(args.out).resolve()}/budget.md")
    return 0
