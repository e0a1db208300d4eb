"""`bipe train` (one run, resumable, torchrun-ready) and `bipe eval` (perplexity against length of a
trained run)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from experiments.atomic import atomic_text
from experiments.commands.options import (
    CACHE,
    OVERWRITE,
    add_options,
    config_options,
    dir_path,
    int_list_at_least,
    opt,
    positive_int,
)

TRAIN = (
    opt("--corpus", help="corpus name or source spec (default: the config's first corpus)"),
    opt("--scheme", default="bipe_rope", help="positional scheme (default: %(default)s)"),
    opt("--segmenter", help="segmenter for BiPE schemes (default: the config's first)"),
    opt(
        "--out",
        metavar="DIR",
        type=dir_path,
        help="run directory (default: bipe-results/<run name>); a checkpoint there is resumed",
    ),
    *OVERWRITE,
    opt(
        "--no-resume",
        action="store_true",
        help="stop with an error instead of continuing a checkpoint found in --out "
        "(default: continue it)",
    ),
)
EVAL = (
    opt("run_dir", help="run directory holding checkpoint.safetensors (or that file itself)"),
    opt(
        "--multipliers",
        type=int_list_at_least(1),
        help="comma list of k >= 1, lengths k x train length (default: the run's config)",
    ),
    opt(
        "--eval-tokens",
        type=positive_int,
        help="tokens scored at every length, at least the longest length (default: the run's "
        "config); rounded down to a multiple of the longest length, the number scored is recorded",
    ),
    opt("--split", choices=("train", "val", "test"), help="split scored (default: the config's)"),
    *CACHE,
    opt("--json", action="store_true", help="print JSON instead of a table"),
    *OVERWRITE,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bipe train` and `bipe eval` to the `bipe` parser."""
    from experiments.lm.config import presets

    p = sub.add_parser("train", help="train one run (corpus x scheme x segmenter); torchrun-ready")
    note = "tiny: seconds on a CPU; `bipe run` defaults to cpu-small"
    add_options(p, config_options(presets(), "tiny", note), CACHE, TRAIN)
    p.set_defaults(func=run_train)
    p = sub.add_parser("eval", help="perplexity against length of a trained run")
    add_options(p, EVAL)
    p.set_defaults(func=run_eval)


def load_lm_config(args: argparse.Namespace):  # -> ExperimentConfig
    """The config of an LM command: its preset, then --config, then --set."""
    from experiments.lm.config import load_config

    return load_config(args.preset, args.config, args.set)


def run_train(args: argparse.Namespace) -> int:
    """`bipe train`: one run, resumable; SIGINT/SIGTERM checkpoint and exit 130."""
    from experiments.commands.outputs import claim_dir
    from experiments.lm.config import RunSpec, uses_levels, uses_segments
    from experiments.lm.train import train_run
    from experiments.specs import is_nested

    cfg = load_lm_config(args)
    corpus = args.corpus or cfg.data.corpora[0]
    segmenter = None
    if uses_segments(args.scheme):  # a hierarchical scheme defaults to the first nested spec
        nested = [s for s in cfg.segmenters if is_nested(s)] if uses_levels(args.scheme) else []
        segmenter = args.segmenter or (nested or cfg.segmenters)[0]
    # the seed is part of the default directory's name, as in a grid (seed 0 unsuffixed)
    spec = RunSpec(corpus, args.scheme, segmenter, cfg.seeds[0] or None)
    out = Path(args.out or Path("bipe-results") / spec.name)
    claim_dir(out, args.overwrite)
    res = train_run(cfg, spec, out, cache_dir=args.cache_dir, resume=not args.no_resume)
    if res.interrupted:
        print(
            f"interrupted at step {res.step}; checkpoint saved in {out} "
            f"(run the same command again to resume)",
            file=sys.stderr,
        )
        return 130
    if res.final_loss is None:
        print(f"{spec.name}: already trained to step {res.step}/{cfg.train.steps} -> {out}")
        return 0
    print(
        f"{spec.name}: step {res.step}/{cfg.train.steps}, loss {res.final_loss:.4f}, "
        f"val loss {res.val_loss}, {res.tokens_per_s:.0f} tok/s -> {out}"
    )
    return 0


def run_eval(args: argparse.Namespace) -> int:
    """`bipe eval RUN_DIR`: perplexity at each length; writes RUN_DIR/eval.json."""
    from experiments.commands.outputs import OWNER_MARKER, claim_file
    from experiments.lm.evaluate import evaluate_run

    given = Path(args.run_dir)
    run_dir = given.parent if given.is_file() else given  # a checkpoint file: eval.json beside it
    # An eval.json in a directory bipe made (its marker on the run, or on the report holding it in
    # runs/ or steps<N>/runs/) is bipe's to refresh; anywhere else it is the user's.
    ours = any((d / OWNER_MARKER).is_file() for d in [run_dir, *run_dir.resolve().parents][:4])
    claim_file(run_dir / "eval.json", args.overwrite or ours)
    ev = evaluate_run(given, None, args.cache_dir, args.split, args.multipliers, args.eval_tokens)
    atomic_text(run_dir / "eval.json", json.dumps(ev, indent=2) + "\n")
    if args.json:
        print(json.dumps(ev, indent=2))
    else:
        from experiments.analysis.report import ppl_table

        print(ppl_table([ev]))
    return 0
