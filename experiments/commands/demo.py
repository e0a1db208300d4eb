"""`bipe demo`: the whole story in a few minutes on a CPU, ending in a report directory.

1. the segmentation comparison on the embedded sample text,
2. the automata size table (Bi-NFA against flat automata),
3. a tiny length-extrapolation run of rope, alibi, bipe_rope and bipe_alibi on the embedded
   Genesis sample, with perplexity against length, plots and a Markdown summary.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from experiments.commands.options import (
    OVERWRITE,
    add_options,
    command_line,
    dir_path,
    opt,
    positive_int,
    workers_option,
)

DEMO_SCHEMES = ["rope", "alibi", "bipe_rope", "bipe_alibi"]
TINY_RUN_NOTE = (
    "One seed of a 2-layer, 64-wide model trained for a few hundred steps on about 300k tokens "
    "of Genesis: it shows that every part runs end to end and how each scheme's perplexity moves "
    "beyond the training length, but it cannot rank the schemes: differences of this size at one "
    "seed are within run-to-run noise (docs/results.md has multi-seed runs with intervals)."
)


DEMO = (
    opt(
        "--out",
        metavar="DIR",
        type=dir_path,
        help="report directory (default: ./bipe-demo-<UTC time> under the current directory); "
        "a directory an earlier bipe demo wrote is resumed",
    ),
    *OVERWRITE,
    opt(
        "--steps",
        type=positive_int,
        help="training steps per scheme (default: the tiny preset's, 600)",
    ),
    *workers_option("runs trained side by side", default=2),
    opt("--cache-dir", metavar="DIR", type=dir_path, help="token cache (default: <out>/cache)"),
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bipe demo` to the `bipe` parser."""
    p = sub.add_parser("demo", help="segmentation, automata sizes and a tiny extrapolation run")
    add_options(p, DEMO)
    p.set_defaults(func=run_demo)


def segmentation_section(log) -> str:
    """H1's segmenter comparison on the embedded prose and code samples, as preformatted tables."""
    try:
        from experiments.analysis.compare import compare_segmenters, format_table
    except ImportError as exc:
        return f"(segmentation comparison unavailable: {exc})"
    parts = []
    for name, options in (
        ("sample.txt", None),
        ("sample_code.py", {"code": {"language": "python"}}),
    ):
        text = _sample_text(name)
        if text is None:
            continue
        try:
            rows = compare_segmenters(text, options=options)
        except Exception as exc:  # an optional segmenter dependency missing must not end the demo
            parts.append(f"{name}: comparison failed: {type(exc).__name__}: {exc}")
            continue
        table = f"{name} ({len(text)} characters; lengths in characters)\n" + format_table(rows)
        log(table)
        parts.append(table)
    return "```\n" + "\n\n".join(parts) + "\n```" if parts else "(no embedded sample text)"


def _sample_text(name: str) -> str | None:
    from importlib import resources

    try:
        return resources.files("experiments").joinpath("data", name).read_text("utf-8")
    except (FileNotFoundError, OSError):
        return None


def automata_section(log) -> str:
    """H6's automata size table (flat NFA/DFA against Bi-NFA), if the automata package has it."""
    try:
        from automata.sweep import size_table
    except ImportError as exc:
        return f"(automata size table unavailable: {exc})"
    try:
        rows = size_table()
    except Exception as exc:
        return f"(automata size table failed: {type(exc).__name__}: {exc})"
    cols = [
        c
        for c in (
            "family",
            "n_types",
            "n_states",
            "top_states",
            "bottom_states_total",
            "flat_states",
            "min_dfa_states",
            "flat_nfa_params",
            "bilevel_nfa_params",
        )
        if rows and c in rows[0]
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in cols) + " |" for r in rows]
    table = "\n".join(lines)
    log(table)
    return table


def _cell(v: Any) -> str:
    return "-" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)


def demo_config(steps: int | None = None):
    """The tiny preset with the four schemes of the paper's main figure."""
    from experiments.lm.config import preset

    cfg = preset("tiny")
    cfg.name = "demo"
    cfg.schemes = list(DEMO_SCHEMES)
    cfg.segmenters = [_demo_segmenter()]
    if steps is not None:
        cfg.train.steps = steps
        cfg.train.warmup = min(cfg.train.warmup, max(steps // 10, 1))
        cfg.train.ckpt_every = max(steps, 1)
    cfg.train.progress = False
    return cfg.validate()


def _demo_segmenter() -> str:
    try:
        import segmenters.align  # noqa: F401
        from segmenters import get_segmenter

        get_segmenter("punct")
        return "punct"
    except Exception:  # the token-level separator path needs only bipe_core
        from experiments.pipeline import TOKEN_SEPARATORS

        return TOKEN_SEPARATORS


def run_demo(args: argparse.Namespace) -> int:
    """`bipe demo`: print each part and the report path."""
    from experiments.commands.outputs import claim_dir
    from experiments.lm.grid import run_experiment

    t0 = time.perf_counter()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out = Path(args.out) if args.out else Path.cwd() / f"bipe-demo-{stamp}"
    claim_dir(out, args.overwrite)
    cache = args.cache_dir or out / "cache"

    def log(msg: str) -> None:
        print(msg, flush=True)

    log("== 1. segmentation comparison (embedded sample) ==")
    seg = segmentation_section(log)
    log("\n== 2. automata size table ==")
    auto = automata_section(log)
    log("\n== 3. tiny extrapolation run: " + ", ".join(DEMO_SCHEMES) + " ==")
    cfg = demo_config(args.steps)
    cmd = command_line() if sys.argv[1:] else "bipe demo"
    res = run_experiment(
        cfg,
        out,
        cache,
        args.workers,
        command=cmd,
        log=log,
        extra_sections=[
            ("What this run can and cannot show", TINY_RUN_NOTE),
            ("Segmentation comparison (embedded sample)", seg),
            ("Automata size table", auto),
        ],
    )
    from experiments.analysis.report import ppl_table

    log("")
    log(ppl_table(res.evals))
    log(f"\nreport directory: {out.resolve()}  ({time.perf_counter() - t0:.0f} s)")
    if res.failed and not res.interrupted:  # summary.md lists them with their errors
        print(f"runs without results: {', '.join(sorted(res.failed))}", file=sys.stderr)
    return res.status
