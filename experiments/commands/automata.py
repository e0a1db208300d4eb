"""The `bipe automata` sub-commands: `compare` (size sweeps and growth fits), `sample` (JSONL data
sets) and `report` (one Bi-NFA's size report)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from automata.limits import MAX_DFA_BUDGET, MAX_SEED, MAX_STATES, MAX_TYPES, MAX_WORD_PART
from experiments.commands.options import (
    OVERWRITE,
    Option,
    add_options,
    dir_path,
    existing_file,
    file_path,
    int_at_least,
    int_list,
    int_list_at_least,
    opt,
)
from experiments.errors import ExperimentError

# Words one `sample` call writes (each annotated with a legal-next set per token: ~1 kB a word).
MAX_WORDS = 1_000_000
MAX_NEGATIVES = 100  # negatives per word
# Tokens one `sample` call may write at most (words x (negatives + 1) x longest word): ~1 GB of JSON.
MAX_SAMPLE_TOKENS = 10_000_000


def _segment_range(text: str) -> tuple[int, int]:
    """An argparse type: '4' or '1-8' as an inclusive (min, max) pair within [1, MAX_WORD_PART]."""
    values = int_list(text, 1, MAX_WORD_PART)
    return (min(values), max(values))


_segment_range.__name__ = f"range of integers in [1, {MAX_WORD_PART}]"

TABLE_COLUMNS = (
    "family",
    "n_types",
    "n_states",
    "seed",
    "top_states",
    "bottom_states_total",
    "flat_states",
    "flat_transitions",
    "min_dfa_states",
    "min_dfa_states_with_sink",
    "marking",
    "flat_nfa_params",
    "bilevel_nfa_params",
)


COMPARE = (
    opt(
        "--families",
        default="mod-marked,mod-unmarked,random",
        help="comma-separated families among {families} (default: %(default)s)",
    ),
    opt(
        "--types",
        type=int_list_at_least(1, MAX_TYPES),
        default=[1, 2, 3, 4, 5],
        help="segment types, e.g. 1-5 or 1,2,4 (default: 1-5)",
    ),
    opt(
        "--states",
        type=int_list_at_least(1, MAX_STATES),
        default=[2, 3],
        help="bottom states (smallest modulus for counters), e.g. 2,3 (default: 2,3)",
    ),
    opt(
        "--seeds",
        type=int_list_at_least(0, MAX_SEED),
        default=[0],
        help="seeds, e.g. 0-2 (default: 0)",
    ),
    opt(
        "--budget",
        type=int_at_least(1, MAX_DFA_BUDGET),
        default=20_000,
        help=f"max DFA states for minimal-DFA counts, at most {MAX_DFA_BUDGET:,} "
        "(default: %(default)s)",
    ),
    opt(
        "--by",
        choices=("n_types", "n_states", "bottom_states_total"),
        default="n_types",
        help="axis of the fits (default: %(default)s)",
    ),
    opt("--out", type=dir_path, required=True, help="directory for sizes.csv, fits.csv, sizes.png"),
    *OVERWRITE,
    opt("--json", action="store_true", help="print rows and fits as JSON"),
)
BINFA_SOURCE = (  # what `_load` reads: a family with its sizes and seed, or a Bi-NFA JSON file
    opt(
        "--family",
        default="mod-marked",
        metavar="NAME",
        help="family, one of {families} (default: %(default)s)",
    ),
    opt("--binfa", type=existing_file, help="a Bi-NFA JSON file (overrides --family)"),
    opt(
        "--types",
        type=int_at_least(1, MAX_TYPES),
        default=3,
        help="segment types (default: %(default)s)",
    ),
    opt(
        "--states",
        type=int_at_least(1, MAX_STATES),
        default=3,
        help="bottom states (smallest modulus for counters; default: %(default)s)",
    ),
    opt("--seed", type=int_at_least(0, MAX_SEED), default=0, help="seed (default: %(default)s)"),
)
SAMPLE = (
    opt(
        "--n-words",
        type=int_at_least(0, MAX_WORDS),
        required=True,
        help=f"words to sample (at most {MAX_WORDS:,})",
    ),
    opt(
        "--segments",
        type=_segment_range,
        default=(1, 8),
        help="number of segments, e.g. 4 or 1-8 (default: 1-8)",
    ),
    opt(
        "--min-len",
        type=int_at_least(0, MAX_WORD_PART),
        default=1,
        help="shortest segment (default: %(default)s)",
    ),
    opt(
        "--max-len",
        type=int_at_least(1, MAX_WORD_PART),
        default=12,
        help="longest segment (default: %(default)s)",
    ),
    opt(
        "--length-dist",
        choices=("uniform", "geometric"),
        default="uniform",
        help="segment-length distribution (default: %(default)s)",
    ),
    opt(
        "--negatives",
        type=int_at_least(0, MAX_NEGATIVES),
        default=0,
        help="one-edit + wrong-type negatives per word (default: 0)",
    ),
    opt("--out", type=file_path, required=True, help="output .jsonl file"),
    *OVERWRITE,
)
REPORT = (
    opt(
        "--budget",
        type=int_at_least(1, MAX_DFA_BUDGET),
        default=20_000,
        help=f"max DFA states for minimal-DFA counts, at most {MAX_DFA_BUDGET:,} "
        "(default: %(default)s)",
    ),
    opt("--json", action="store_true", help="print the report as JSON"),
)


def _with_families(options: tuple[Option, ...]) -> list[Option]:
    """The options with the registered family names in their help (and --family's choices)."""
    from automata import list_families

    names = list_families()
    out = []
    for o in options:
        settings = dict(o.settings)
        settings["help"] = settings["help"].replace("{families}", ", ".join(names))
        if o.flags == ("--family",):
            settings["choices"] = names
        out.append(Option(o.flags, settings))
    return out


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bipe automata compare|sample|report` to the `bipe` parser."""
    p = sub.add_parser("automata", help="Bi-NFA playground: size sweeps, data sets, size reports")
    asub = p.add_subparsers(dest="automata_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])
    c = asub.add_parser(
        "compare", help="sweep types x bottom states; size table, growth fits, CSV/PNG"
    )
    add_options(c, _with_families(COMPARE))
    c.set_defaults(func=run_compare)
    s = asub.add_parser("sample", help="write a JSONL data set of annotated words")
    add_options(s, _with_families(BINFA_SOURCE), SAMPLE)
    s.set_defaults(func=run_sample)
    r = asub.add_parser("report", help="print the size report of one Bi-NFA")
    add_options(r, _with_families(BINFA_SOURCE), REPORT)
    r.set_defaults(func=run_report)


def _load(args: argparse.Namespace) -> Any:
    from automata.binfa import BiNFA
    from automata.generators import make_family

    if args.binfa is not None:
        from automata.limits import check_flat_size
        from segmenters.io import read_text_file

        # a file's automaton is bounded like a family's, before anything flattens or samples it
        return check_flat_size(BiNFA.from_json(read_text_file(args.binfa)), str(args.binfa))
    return make_family(args.family, args.types, args.states, getattr(args, "seed", 0))


# Two-parameter growth models fitted to fewer points than this are told apart by noise.
MIN_CONFIDENT_POINTS = 5


def _print_table(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> None:
    cells = [[str(c) for c in columns]] + [
        ["-" if r.get(c) is None else str(r.get(c)) for c in columns] for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _plot(path: Path, rows: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from experiments.analysis.report import readable_log_y, series_colours

    series = sorted({(r["family"], r["n_states"]) for r in rows})
    colours = series_colours(f"{fam}, n={n}" for fam, n in series)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for fam, n in series:
        colour = colours[f"{fam}, n={n}"]  # one colour per series in both panels
        sub = sorted(
            (r for r in rows if r["family"] == fam and r["n_states"] == n),
            key=lambda r: r["n_types"],
        )
        pts = [(r["n_types"], r["min_dfa_states"]) for r in sub if r["min_dfa_states"] is not None]
        if pts:
            axes[0].plot(*zip(*pts), marker="o", color=colour, label=f"{fam}, n={n}")
        axes[1].plot(
            [r["n_types"] for r in sub],
            [r["flat_nfa_params"] for r in sub],
            marker="o",
            color=colour,
            label=f"flat {fam}, n={n}",
        )
        axes[1].plot(
            [r["n_types"] for r in sub],
            [r["bilevel_nfa_params"] for r in sub],
            marker="x",
            linestyle="--",
            color=colour,
            label=f"bilevel {fam}, n={n}",
        )
    axes[0].set(xlabel="segment types", ylabel="minimal flat DFA states (no sink)")
    axes[0].set_title("minimal flat DFA size")
    axes[1].set(xlabel="segment types", ylabel="transition-table parameters")
    axes[1].set_title("flat (solid) vs bilevel (dashed) NFA tables")
    for ax in axes:
        readable_log_y(ax)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=6)
        ax.grid(alpha=0.3)
    fig.suptitle("Automaton sizes against the number of segment types")
    fig.tight_layout()
    from experiments.atomic import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"), suffix=".png")
    plt.close(fig)


def run_compare(args: argparse.Namespace) -> int:
    """Sweep sizes, print the table and fits, write sizes.csv, fits.csv and sizes.png."""
    from automata import FAMILIES, list_families
    from automata.sweep import growth_fits, size_table
    from experiments.commands.outputs import claim_dir

    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families:
        raise ExperimentError(
            f"--families: unknown {', '.join(unknown) or '(none given)'}; "
            f"choose among {', '.join(list_families())}"
        )
    out = claim_dir(args.out, args.overwrite)
    rows = size_table(families, args.types, args.states, args.seeds, max_dfa_states=args.budget)
    fits = [
        f for by in ("n_types", "bottom_states_total", "n_states") for f in growth_fits(rows, by=by)
    ]
    shown = [f for f in fits if f["along"] == args.by]
    few = sorted({f["points"] for f in shown if f["points"] < MIN_CONFIDENT_POINTS})
    if few:
        print(
            f"warning: growth fits on {' or '.join(map(str, few))} points cannot tell linear, power "
            f"and exponential growth apart reliably; sweep at least {MIN_CONFIDENT_POINTS} values "
            f"of {args.by} for a fit to rely on",
            file=sys.stderr,
        )
    from experiments.analysis.results import write_csv

    write_csv(out / "sizes.csv", rows)
    write_csv(out / "fits.csv", fits)
    _plot(out / "sizes.png", rows)
    if args.json:
        print(json.dumps({"sizes": rows, "fits": fits}, indent=2, default=str))
        return 0
    _print_table(rows, TABLE_COLUMNS)
    print()
    print(f"growth along {args.by} (best of linear / power / exponential by AIC):")
    _print_table(
        shown,
        [
            "family",
            "count",
            "n_types" if args.by == "n_states" else "n_states",
            "points",
            "best",
            "formula",
            "aic",
            "runner_up",
        ],
    )
    print(f"\nwrote {out / 'sizes.csv'}, {out / 'fits.csv'}, {out / 'sizes.png'}")
    return 0


def run_sample(args: argparse.Namespace) -> int:
    """Write `--n-words` annotated words (plus negatives) as JSON lines."""
    from automata.samplers import HierarchicalSampler
    from experiments.atomic import atomic_write
    from experiments.commands.outputs import claim_file

    if args.min_len > args.max_len:
        raise ExperimentError(f"--min-len {args.min_len} is greater than --max-len {args.max_len}")
    most = args.n_words * (args.negatives + 1) * args.segments[1] * (args.max_len + 1)
    if most > MAX_SAMPLE_TOKENS:
        raise ExperimentError(
            f"--n-words {args.n_words} x (--negatives {args.negatives} + 1) words of up to "
            f"{args.segments[1]} segments of {args.max_len} tokens may reach {most:,} tokens, over "
            f"the limit of {MAX_SAMPLE_TOKENS:,} one data set may hold; ask for fewer or shorter"
        )
    claim_file(args.out, args.overwrite)
    binfa = _load(args)
    sampler = HierarchicalSampler(
        binfa,
        n_segments=args.segments,
        min_len=args.min_len,
        max_len=args.max_len,
        length_dist=args.length_dist,
        seed=args.seed,
    )
    counts = [0, 0]  # lines, tokens
    # through a temporary file: a run that fails half-way leaves no partial data set to be
    # mistaken for a whole one (and nothing that blocks the rerun)
    atomic_write(
        args.out, lambda tmp: _write_words(tmp, args, binfa, sampler, counts), suffix=".jsonl"
    )
    print(
        f"wrote {counts[0]} lines ({args.n_words} words, {counts[1]} tokens) to {args.out}",
        file=sys.stderr,
    )
    return 0


def _write_words(
    path: str, args: argparse.Namespace, binfa: Any, sampler: Any, counts: list
) -> None:
    """The JSON lines of `run_sample` into ``path``; ``counts`` gets the lines and tokens."""
    from automata.negatives import one_edit_negatives, wrong_type_negatives

    with open(path, "w", encoding="utf-8") as fh:
        for i in range(args.n_words):
            sample = sampler.sample()
            rec = sample.to_record(binfa.symbols, binfa.types)
            rec["id"] = i
            fh.write(json.dumps(rec) + "\n")
            counts[0] += 1
            counts[1] += len(sample.tokens)
            if not args.negatives:
                continue
            half = (args.negatives + 1) // 2
            negs = one_edit_negatives(sampler, sample.tokens, half, seed=args.seed * 7919 + i)
            negs += wrong_type_negatives(sampler, sample, args.negatives - half, seed=args.seed + i)
            for neg in negs:
                neg["id"] = i
                fh.write(json.dumps(neg) + "\n")
                counts[0] += 1


def run_report(args: argparse.Namespace) -> int:
    """Print one Bi-NFA's size report, table parameters and OUR model-size bounds."""
    from automata.accounting import model_bounds, table_params

    binfa = _load(args)
    report = binfa.size_report(max_dfa_states=args.budget)
    if args.json:
        from dataclasses import asdict

        doc = {
            "binfa": str(binfa),
            "sizes": asdict(report),
            "table_params": table_params(report),
            "model_bounds": model_bounds(report),
        }
        print(json.dumps(doc, indent=2, default=str))
        return 0
    print(binfa)
    print(report)
    print("table parameters:", _pairs(table_params(report)))
    print("model-size bounds (ours):", _pairs(model_bounds(report)))
    return 0
