"""`bipe segment`, `bipe segmenters` and `bipe compare-segmenters`: segmenters from the shell."""

from __future__ import annotations

import argparse
import json
import sys

from experiments.commands.options import nonneg_int
from experiments.errors import ExperimentError
from experiments.specs import parse_options

DEFAULT_WIDTH = 100


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the `bipe` parser."""
    p = sub.add_parser(
        "segment",
        help="split a text file into segments and print them (or JSON with statistics)",
        description="Split FILE (UTF-8 text; '-' reads stdin) with a registered segmenter.",
    )
    p.add_argument("file", metavar="FILE", help="UTF-8 text file, or - for stdin")
    p.add_argument(
        "--segmenter",
        "-s",
        default="punct",
        metavar="SPEC",
        help="registered name with optional options, e.g. fixed:size=10 (default: punct)",
    )
    _add_option_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object: segments and stats")
    p.add_argument("--level", help="print this level of a multi-level segmentation")
    p.add_argument("--with-text", action="store_true", help="include each segment's text in JSON")
    p.add_argument(
        "--width",
        type=nonneg_int,
        default=DEFAULT_WIDTH,
        help=f"truncate each printed repr to this many characters (0: never; default {DEFAULT_WIDTH})",
    )
    p.set_defaults(func=run_segment)

    q = sub.add_parser("segmenters", help="list the registered segmenters")
    q.add_argument("--json", action="store_true", help="print {name: description} as JSON")
    q.add_argument(
        "--options",
        action="store_true",
        help="also list each segmenter's options: default, meaning, and the values it takes",
    )
    q.set_defaults(func=run_segmenters)

    c = sub.add_parser(
        "compare-segmenters",
        help="segment one file with every segmenter: counts, lengths, MB/s",
    )
    c.add_argument("file", metavar="FILE", help="UTF-8 text file, or - for stdin")
    c.add_argument(
        "--segmenter",
        "-s",
        action="append",
        dest="names",
        metavar="SPEC",
        help="compare only these, e.g. punct or fixed:size=64 (repeatable; default: all registered)",
    )
    c.add_argument("--json", action="store_true", help="print the rows as JSON")
    c.set_defaults(func=run_compare)


def _add_option_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="segmenter option (repeatable); VALUE is parsed as int, float, true/false, "
        "none, a JSON list/object, or else kept as a string",
    )


def read_input(path: str) -> str:
    """The UTF-8 text of ``path`` (``-`` is stdin); bad files raise `SegmenterInputError`."""
    from segmenters.io import decode_text, read_bounded, read_text_file

    if path != "-":
        return read_text_file(path)
    # the binary check reads a prefix and the rest is bounded: `- < /dev/zero` ends at once
    return decode_text(read_bounded(sys.stdin.buffer, "<stdin>"), "<stdin>")


def _merged_options(spec: str, options: dict, given: list[str]) -> dict:
    """The spec's options with the ``--option`` ones; a key given in both places is refused."""
    extra = parse_options(given, where="--option expects KEY=VALUE, got")
    twice = sorted(options.keys() & extra.keys())
    if twice:  # otherwise one value wins silently: the run would not be the spec the user wrote
        raise ExperimentError(
            f"option {twice[0]!r} is given both in {spec!r} and by --option; give it once"
        )
    return {**options, **extra}


def run_segment(args: argparse.Namespace) -> int:
    """`bipe segment`: print the segments of FILE."""
    from experiments.analysis.compare import length_stats
    from experiments.pipeline.segmenting import file_options
    from experiments.progress import status_printer
    from experiments.specs import parse_spec
    from segmenters import get_segmenter

    name, options = parse_spec(args.segmenter)
    options = _merged_options(args.segmenter, options, args.option)
    text = read_input(args.file)
    filename = None if args.file == "-" else args.file
    options = {**file_options(name, filename, options), **options}
    seg = get_segmenter(name, **options)
    status = status_printer()
    status(f"segmenting {len(text):,} characters with {name}")
    result = seg.segment(text)
    status(f"{len(result.segments):,} segments; writing them")
    if args.level is not None:
        result = result.at_level(args.level)
    stats = length_stats(result.lengths())
    if args.json:
        segments = []
        for s in result.segments:
            d = s.to_dict()
            if args.with_text:
                d["text"] = s.text
            segments.append(d)
        doc = {
            "file": args.file,
            "segmenter": name,
            "options": options,
            "level": result.level,
            "levels": list(result.levels),
            "characters": len(text),
            "segments": segments,
            "stats": stats,
        }
        if result.info:  # e.g. which spaCy pipeline ran for `sentence`
            doc["info"] = result.info
        json.dump(doc, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout
    for i, s in enumerate(result.segments):
        r = repr(s.text)
        if args.width and len(r) > args.width:
            r = r[: max(args.width - 1, 1)] + "…"
        flag = " !" if s.has_error else ""
        out.write(f"{i:>6}  [{s.start}, {s.end})  {s.kind}{flag}  {r}\n")
    out.write(
        f"# {stats['count']} segments ({result.level}); length chars mean {stats['mean']} "
        f"p50 {stats['p50']} p95 {stats['p95']} max {stats['max']}\n"
    )
    return 0


def run_segmenters(args: argparse.Namespace) -> int:
    """`bipe segmenters`: each registered name with its one-line description."""
    from segmenters import describe_segmenters

    desc = describe_segmenters()
    if args.json:
        doc = {n: _with_options(n, d) for n, d in desc.items()} if args.options else desc
        print(json.dumps(doc, indent=2, ensure_ascii=False, default=repr))
        return 0
    width = max(map(len, desc), default=0)
    for name, text in desc.items():
        print(f"{name.ljust(width)}  {text}")
        if args.options:
            from segmenters.options import describe_options
            from segmenters.registry import declared_options

            print(describe_options(declared_options(name)) or "  (no options)")
        if name == "sentence":
            from segmenters.spacy_pipelines import MODES, planned_pipeline

            plan = ", ".join(f"{mode} runs {planned_pipeline('en', mode)}" for mode in MODES)
            print(f"{''.ljust(width)}  (English, here: {plan})")
    return 0


def _with_options(name: str, description: str) -> dict[str, object]:
    """A segmenter's description and its declared options, JSON-ready."""
    from segmenters.registry import declared_options

    options = {
        o.name: {"default": o.default, "meaning": o.meaning, "takes": o.expected()}
        for o in declared_options(name)
    }
    return {"description": description, "options": options}


def run_compare(args: argparse.Namespace) -> int:
    """`bipe compare-segmenters`: a table of every segmenter on FILE."""
    from experiments.analysis.compare import compare_segmenters, format_table
    from experiments.pipeline.segmenting import file_options
    from experiments.progress import status_printer

    text = read_input(args.file)
    options = {"code": file_options("code", None if args.file == "-" else args.file, {})}
    rows = compare_segmenters(text, args.names, options=options, status=status_printer())
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        print(format_table(rows))
    return 0
