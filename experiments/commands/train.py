"""`bipe train`, `bipe eval`, `bipe run` and `bipe corpus`: length-extrapolation experiments."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from experiments.errors import ExperimentError
from experiments.validate import (
    add_overwrite_arg,
    dir_path,
    existing_file,
    int_at_least,
    int_list_at_least,
    positive_int,
)

# `bipe train` defaults to the preset that trains in seconds, `bipe run` to the grid that shows
# something; each --help says so.
PRESET_NOTE = {
    "tiny": "tiny: seconds on a CPU; `bipe run` defaults to cpu-small",
    "cpu-small": "cpu-small: about 25 minutes on 2 idle cores; `bipe train` defaults to tiny",
}


def _config_args(p: argparse.ArgumentParser, default_preset: str | None) -> None:
    from experiments.config import PRESETS

    p.add_argument(
        "--preset",
        default=default_preset,
        choices=list(PRESETS),
        help=f"configuration to start from (default: {PRESET_NOTE.get(default_preset)})",
    )
    p.add_argument(
        "--config", metavar="FILE", type=existing_file, help="JSON config laid over the preset"
    )
    p.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override one setting, e.g. --set train.steps=200 (repeatable)",
    )
    _cache_arg(p)


def _cache_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        type=dir_path,
        help="tokenizer/token cache (default: $BIPE_CACHE or ~/.cache/bipe)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the `bipe` parser."""
    p = sub.add_parser("train", help="train one run (corpus x scheme x segmenter); torchrun-ready")
    _config_args(p, "tiny")
    p.add_argument(
        "--corpus", help="corpus name or source spec (default: the config's first corpus)"
    )
    p.add_argument("--scheme", default="bipe_rope", help="positional scheme (default: %(default)s)")
    p.add_argument("--segmenter", help="segmenter for BiPE schemes (default: the config's first)")
    p.add_argument(
        "--out",
        metavar="DIR",
        type=dir_path,
        help="run directory (default: bipe-results/<run name>); a checkpoint there is resumed",
    )
    add_overwrite_arg(p)
    p.add_argument(
        "--no-resume",
        action="store_true",
        help="stop with an error instead of continuing a checkpoint found in --out "
        "(default: continue it)",
    )
    p.set_defaults(func=run_train)

    p = sub.add_parser("eval", help="perplexity against length of a trained run")
    p.add_argument(
        "run_dir", help="run directory holding checkpoint.safetensors (or that file itself)"
    )
    p.add_argument(
        "--multipliers",
        type=int_list_at_least(1),
        help="comma list of k >= 1, lengths k x train length (default: the run's config)",
    )
    p.add_argument(
        "--eval-tokens",
        type=positive_int,
        help="tokens scored at every length, at least the longest length (default: the run's "
        "config); rounded down to a multiple of the longest length, the number scored is recorded",
    )
    p.add_argument(
        "--split", choices=("train", "val", "test"), help="split scored (default: the config's)"
    )
    _cache_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run_eval)

    p = sub.add_parser(
        "run", help="a whole experiment grid and its report (e.g. --preset cpu-small)"
    )
    _config_args(p, "cpu-small")
    p.add_argument(
        "--out",
        metavar="DIR",
        type=dir_path,
        help="report directory (default: bipe-results/<config name>); one an earlier bipe run "
        "wrote is resumed",
    )
    add_overwrite_arg(p)
    p.add_argument(
        "--workers",
        type=positive_int,
        help="runs trained side by side (default: the config's workers)",
    )
    p.set_defaults(func=run_run)

    p = sub.add_parser("corpus", help="list corpora, or show token and segment statistics of one")
    p.add_argument("action", choices=("list", "stats"), help="list the corpora, or stats of one")
    p.add_argument(
        "name",
        nargs="?",
        help="corpus name or source spec (for stats; see bipe corpus list), e.g. sample or "
        "jsonl:path=a.jsonl,text=body",
    )
    p.add_argument(
        "--vocab-size",
        type=int_at_least(256),
        default=1024,
        help="byte-level BPE size, >= 256 (default: %(default)s)",
    )
    p.add_argument(
        "--segmenters",
        default="punct",
        metavar="SPECS",
        help="comma list of specs, e.g. punct,fixed:size=120,sep (default: %(default)s)",
    )
    p.add_argument(
        "--max-docs", type=positive_int, help="read only the first N documents (default: all)"
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="processes that tokenise and segment (default: %(default)s)",
    )
    _cache_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=run_corpus)


def _load(args: argparse.Namespace):
    from experiments.config import load_config

    return load_config(args.preset, args.config, args.set)


def run_train(args: argparse.Namespace) -> int:
    """`bipe train`: one run, resumable; SIGINT/SIGTERM checkpoint and exit 130."""
    from experiments.checkpoints import CHECKPOINT_NAME
    from experiments.config import RunSpec, uses_levels, uses_segments
    from experiments.specs import is_nested
    from experiments.train import train_run
    from experiments.validate import claim_dir

    cfg = _load(args)
    corpus = args.corpus or cfg.data.corpora[0]
    segmenter = None
    if uses_segments(args.scheme):  # a hierarchical scheme defaults to the first nested spec
        nested = [s for s in cfg.segmenters if is_nested(s)] if uses_levels(args.scheme) else []
        segmenter = args.segmenter or (nested or cfg.segmenters)[0]
    spec = RunSpec(corpus, args.scheme, segmenter)
    out = Path(args.out or Path("bipe-results") / spec.name)
    claim_dir(out, args.overwrite, ours=lambda p: (p / CHECKPOINT_NAME).is_file())
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
    from experiments.evaluate import evaluate_run

    given = Path(args.run_dir)
    run_dir = given.parent if given.is_file() else given  # a checkpoint file: eval.json beside it
    ev = evaluate_run(
        given, None, args.cache_dir, args.split, args.multipliers, args.eval_tokens
    )
    (run_dir / "eval.json").write_text(json.dumps(ev, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(ev, indent=2))
    else:
        from experiments.report import ppl_table

        print(ppl_table([ev]))
    return 0


def run_run(args: argparse.Namespace) -> int:
    """`bipe run`: the experiment grid with its report directory."""
    from experiments.runner import is_report_dir, run_experiment
    from experiments.validate import claim_dir

    cfg = _load(args)
    out = Path(args.out or Path("bipe-results") / cfg.name)
    claim_dir(out, args.overwrite, ours=is_report_dir)
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
        if args.json:
            from dataclasses import asdict

            from experiments.corpora import CORPORA

            print(json.dumps([asdict(info) for info, _ in CORPORA.values()], indent=2))
        else:
            print(corpus_table())
        return 0
    if not args.name:
        raise ExperimentError("bipe corpus stats needs a corpus name (see bipe corpus list)")
    from experiments.data import CorpusTokens, describe
    from experiments.segstats import format_stats, segment_stats
    from experiments.specs import split_specs

    tokens = CorpusTokens(
        load_corpus(args.name, args.max_docs), args.vocab_size, args.cache_dir, workers=args.workers
    )
    if tokens.index.skipped:
        print(
            f"skipped {tokens.index.skipped} undecodable documents (not UTF-8)", file=sys.stderr
        )
    splits = {split: describe(tokens, split) for split in ("train", "val", "test")}
    rows = [segment_stats(tokens, spec) for spec in split_specs(args.segmenters)]
    if args.json:
        doc = {"corpus": args.name, "splits": splits, "segments": [r.to_dict() for r in rows]}
        print(json.dumps(doc, indent=2, default=str))
        return 0
    for d in splits.values():
        print(
            f"{d['split']}: {d['tokens']} tokens in {d['documents']} documents, "
            f"{d['chars_per_token']} characters per token (vocabulary {d['vocab_size']})"
        )
    print(format_stats(rows))
    return 0
