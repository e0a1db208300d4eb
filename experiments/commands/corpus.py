"""`bipe corpus list|stats`: the corpora and corpus sources, or token and segment statistics of one."""

from __future__ import annotations

import argparse
import json
import sys

from experiments.commands.options import CACHE, add_options, int_at_least, opt, positive_int
from experiments.errors import ExperimentError

CORPUS = (
    opt("action", choices=("list", "stats"), help="list the corpora, or stats of one"),
    opt(
        "name",
        nargs="?",
        help="corpus name or source spec (for stats; see bipe corpus list), e.g. sample or "
        "jsonl:path=a.jsonl,text=body",
    ),
    opt(
        "--vocab-size",
        type=int_at_least(256),
        default=1024,
        help="byte-level BPE size, >= 256 (default: %(default)s)",
    ),
    opt(
        "--segmenters",
        default="punct",
        metavar="SPECS",
        help="comma list of specs, e.g. punct,fixed:size=120,sep (default: %(default)s)",
    ),
    opt("--max-docs", type=positive_int, help="read only the first N documents (default: all)"),
    opt(
        "--workers",
        type=positive_int,
        default=1,
        help="processes that tokenise and segment (default: %(default)s)",
    ),
    *CACHE,
    opt("--json", action="store_true", help="print JSON instead of tables"),
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bipe corpus` to the `bipe` parser."""
    p = sub.add_parser("corpus", help="list corpora, or show token and segment statistics of one")
    add_options(p, CORPUS)
    p.set_defaults(func=run_corpus)


def run_corpus(args: argparse.Namespace) -> int:
    """`bipe corpus list|stats`."""
    from experiments.corpora import corpus_infos, corpus_table, load_corpus

    if args.action == "list":
        if args.json:
            from dataclasses import asdict

            print(json.dumps([asdict(info) for info in corpus_infos()], indent=2))
        else:
            print(corpus_table())
        return 0
    if not args.name:
        raise ExperimentError("bipe corpus stats needs a corpus name (see bipe corpus list)")
    from experiments.analysis.segstats import format_stats, segment_stats
    from experiments.pipeline import CorpusTokens, describe
    from experiments.specs import split_specs

    tokens = CorpusTokens(
        load_corpus(args.name, args.max_docs), args.vocab_size, args.cache_dir, workers=args.workers
    )
    if tokens.index.skipped:
        print(f"skipped {tokens.index.skipped} undecodable documents (not UTF-8)", file=sys.stderr)
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
