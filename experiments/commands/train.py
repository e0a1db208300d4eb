"""`bipe train`, `bipe eval`, `bipe run` and `bipe corpus`: length-extrapolation experiments."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from experiments.errors import ExperimentError


def _config_args(p: argparse.ArgumentParser, default_preset: str | None) -> None:
    p.add_argument(
        "--preset",
        default=default_preset,
        help="tiny, cpu-small or gpu-paper (default: %(default)s)",
    )
    p.add_argument("--config", metavar="FILE", help="JSON config laid over the preset")
    p.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override one setting, e.g. --set train.steps=200 (repeatable)",
    )
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="tokenizer/token cache (default: $BIPE_CACHE or ~/.cache/bipe)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the `bipe` parser."""
    p = sub.add_parser("train", help="train one run (corpus x scheme x segmenter); torchrun-ready")
    _config_args(p, "tiny")
    p.add_argument("--corpus", help="corpus name (default: the config's first corpus)")
    p.add_argument("--scheme", default="bipe_rope", help="positional scheme (default: %(default)s)")
    p.add_argument("--segmenter", help="segmenter for BiPE schemes (default: the config's first)")
    p.add_argument("--out", metavar="DIR", help="run directory (default: bipe-results/<run name>)")
    p.add_argument(
        "--no-resume", action="store_true", help="refuse to continue an existing checkpoint"
    )
    p.set_defaults(func=run_train)

    p = sub.add_parser("eval", help="perplexity against length of a trained run")
    p.add_argument("run_dir", help="run directory (holding checkpoint.safetensors)")
    p.add_argument(
        "--multipliers", help="comma list of k, lengths k x train length (default: config)"
    )
    p.add_argument("--eval-tokens", type=int, help="tokens scored at every length")
    p.add_argument("--split", choices=("train", "val", "test"), help="default: the config's")
    p.add_argument("--cache-dir", metavar="DIR")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run_eval)

    p = sub.add_parser(
        "run", help="a whole experiment grid and its report (e.g. --preset cpu-small)"
    )
    _config_args(p, "cpu-small")
    p.add_argument("--out", metavar="DIR", help="report directory (default: bipe-results/<preset>)")
    p.add_argument("--workers", type=int, help="runs trained side by side (default: config)")
    p.set_defaults(func=run_run)

    p = sub.add_parser("corpus", help="list corpora, or show token and segment statistics of one")
    p.add_argument("action", choices=("list", "stats"))
    p.add_argument("name", nargs="?", help="corpus name (for stats)")
    p.add_argument("--vocab-size", type=int, default=1024)
    p.add_argument(
        "--segmenters",
        default="punct",
        metavar="SPECS",
        help="comma list of specs, e.g. punct,fixed:size=120,sep (default: %(default)s)",
    )
    p.add_argument("--max-docs", type=int)
    p.add_argument("--cache-dir", metavar="DIR")
    p.set_defaults(func=run_corpus)


def _load(args: argparse.Namespace):
    from experiments.config import load_config

    return load_config(args.preset, args.config, args.set)


def run_train(args: argparse.Namespace) -> int:
    """`bipe train`: one run, resumable; SIGINT/SIGTERM checkpoint and exit 130."""
    from experiments.config import RunSpec, uses_levels, uses_segments
    from experiments.specs import is_nested
    from experiments.train import train_run

    cfg = _load(args)
    corpus = args.corpus or cfg.data.corpora[0]
    segmenter = None
    if uses_segments(args.scheme):  # a hierarchical scheme defaults to the first nested spec
        nested = [s for s in cfg.segmenters if is_nested(s)] if uses_levels(args.scheme) else []
        segmenter = args.segmenter or (nested or cfg.segmenters)[0]
    spec = RunSpec(corpus, args.scheme, segmenter)
    out = Path(args.out or Path("bipe-results") / spec.name)
    res = train_run(cfg, spec, out, cache_dir=args.cache_dir, resume=not args.no_resume)
    if res.interrupted:
        print(
            f"interrupted at step {res.step}; checkpoint saved in {out} "
            f"(run the same command again to resume)",
            file=sys.stderr,
        )
        return 130
    print(
        f"{spec.name}: step {res.step}/{cfg.train.steps}, loss {res.final_loss}, "
        f"val loss {res.val_loss}, {res.tokens_per_s:.0f} tok/s -> {out}"
    )
    return 0


def run_eval(args: argparse.Namespace) -> int:
    """`bipe eval RUN_DIR`: perplexity at each length; writes RUN_DIR/eval.json."""
    from experiments.evaluate import evaluate_run

    mults = None
    if args.multipliers:
        try:
            mults = [int(x) for x in args.multipliers.split(",") if x.strip()]
        except ValueError as exc:
            raise ExperimentError(f"--multipliers takes integers like 1,2,4,8: {exc}") from exc
    ev = evaluate_run(args.run_dir, None, args.cache_dir, args.split, mults, args.eval_tokens)
    (Path(args.run_dir) / "eval.json").write_text(json.dumps(ev, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(ev, indent=2))
    else:
        from experiments.report import ppl_table

        print(ppl_table([ev]))
    return 0


def run_run(args: argparse.Namespace) -> int:
    """`bipe run`: the experiment grid with its report directory."""
    from experiments.runner import run_experiment

    cfg = _load(args)
    out = Path(args.out or Path("bipe-results") / cfg.name)
    cmd = "bipe " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    res = run_experiment(cfg, out, args.cache_dir, args.workers, command=cmd)
    print(f"report: {out.resolve()}/summary.md")
    if res.interrupted:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130
    return 1 if res.failed else 0


def run_corpus(args: argparse.Namespace) -> int:
    """`bipe corpus list|stats`."""
    from experiments.corpora import corpus_table, load_corpus

    if args.action == "list":
        print(corpus_table())
        return 0
    if not args.name:
        raise ExperimentError("bipe corpus stats needs a corpus name (see bipe corpus list)")
    from experiments.data import CorpusTokens, describe
    from experiments.segstats import format_stats, segment_stats
    from experiments.specs import split_specs

    tokens = CorpusTokens(load_corpus(args.name, args.max_docs), args.vocab_size, args.cache_dir)
    for split in ("train", "val", "test"):
        print(describe(tokens, split))
    rows = [segment_stats(tokens, spec) for spec in split_specs(args.segmenters)]
    print(format_stats(rows))
    return 0
