"""`bipe budget`: the experiment grid at several training budgets and BiPE's gap against them."""

from __future__ import annotations

import argparse
import sys

from experiments.commands.options import (
    CACHE,
    EXECUTOR,
    OVERWRITE,
    add_options,
    command_line,
    config_options,
    dir_path,
    executor_settings,
    int_list_at_least,
    opt,
    workers_option,
)
from experiments.commands.train import load_lm_config

BUDGET = (
    opt(
        "--steps",
        required=True,
        type=int_list_at_least(1),
        help="budgets in steps, comma-separated or a range, e.g. 300,900,2700",
    ),
    opt(
        "--out",
        metavar="DIR",
        type=dir_path,
        required=True,
        help="report directory; one an earlier bipe budget wrote is resumed",
    ),
    *OVERWRITE,
    *workers_option("runs trained side by side"),
    *EXECUTOR,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bipe budget` to the `bipe` parser."""
    from experiments.lm.config import presets

    p = sub.add_parser(
        "budget", help="the grid at several step budgets; BiPE's gap to RoPE/ALiBi against tokens"
    )
    add_options(p, config_options(presets(), "tiny", "tiny"), CACHE, BUDGET)
    p.set_defaults(func=run_budget_command)


def run_budget_command(args: argparse.Namespace) -> int:
    """`bipe budget`: run every budget (resumable) and write budget.md and the gap plot."""
    from experiments.commands.outputs import claim_dir
    from experiments.lm.budget import RunsFailedError, run_budget

    cfg = load_lm_config(args)
    out = claim_dir(args.out, args.overwrite)
    try:
        rows = run_budget(
            cfg,
            args.steps,
            out,
            args.cache_dir,
            args.workers,
            command=command_line(),
            **executor_settings(args),
        )
    except RunsFailedError as exc:  # the report is written and lists them; the status says so
        print(f"report: {out.resolve()}/budget.md", file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if rows is None:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130
    print(f"report: {out.resolve()}/budget.md")
    return 0
