"""`bipe run`: a whole experiment grid of the language-model task and its report directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.commands.options import (
    CACHE,
    EXECUTOR,
    OVERWRITE,
    add_options,
    command_line,
    config_options,
    dir_path,
    executor_settings,
    opt,
    workers_option,
)
from experiments.commands.train import load_lm_config

RUN = (
    opt(
        "--out",
        metavar="DIR",
        type=dir_path,
        help="report directory (default: bipe-results/<config name>); one an earlier bipe run "
        "wrote is resumed",
    ),
    *OVERWRITE,
    *workers_option("runs trained side by side"),
    *EXECUTOR,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bipe run` to the `bipe` parser."""
    from experiments.lm.config import presets

    p = sub.add_parser(
        "run", help="a whole experiment grid and its report (e.g. --preset cpu-small)"
    )
    note = "cpu-small: about 25 minutes on 2 idle cores; `bipe train` defaults to tiny"
    add_options(p, config_options(presets(), "cpu-small", note), CACHE, RUN)
    p.set_defaults(func=run_run)


def run_run(args: argparse.Namespace) -> int:
    """`bipe run`: the experiment grid with its report directory."""
    from experiments.commands.outputs import claim_dir
    from experiments.lm.grid import run_experiment

    cfg = load_lm_config(args)
    out = Path(args.out or Path("bipe-results") / cfg.name)
    claim_dir(out, args.overwrite)
    res = run_experiment(
        cfg,
        out,
        args.cache_dir,
        args.workers,
        command=command_line(),
        **executor_settings(args),
    )
    print(f"report: {out.resolve()}/summary.md")
    if res.failed and not res.interrupted:  # exit 1, and say which: summary.md lists them too
        shown = ", ".join(sorted(res.failed)[:6]) + (", ..." if len(res.failed) > 6 else "")
        print(f"{len(res.failed)} runs failed or have no result: {shown}", file=sys.stderr)
    if res.interrupted:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130
    return res.status
