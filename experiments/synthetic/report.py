"""Report of `bipe synthetic`: cells.csv, min_width.csv, fits.csv, probes.csv, PNG plots, summary.md.

Minimal width of (automaton, scheme, factor): per seed, the smallest swept width whose word accuracy
reaches the target; across seeds, the geometric mean with a t-interval on log2(width) (95%). When
some seed never reaches the target, the minimal width is left empty and `seeds_reached` says how
many did. Sizes come from the automaton's own accounting (`automata` size report and OUR bounds of
docs/theory.md); the fits are `automata.accounting.fit_growth` (scipy) of minimal width against the
flat size (minimal DFA states) and against the bilevel size (top + bottom states), per scheme.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from experiments.analysis import report, results
from experiments.analysis.stats import t_interval
from experiments.atomic import atomic_text
from experiments.engine.sweep import SweepResult
from experiments.synthetic.config import SyntheticConfig, parse_automaton
from experiments.synthetic.plots import plot_acc_vs_width, plot_min_width

SIZE_FIELDS = (
    "types",
    "states",
    "alphabet_size",
    "marking",
    "top_states",
    "bottom_states_total",
    "bilevel_states",
    "flat_states",
    "min_dfa_states",
    "dim_flat",
    "dim_bilevel",
)
CELL_FIELDS = (
    "automaton",
    "family",
    "scheme",
    "width",
    "seed",
    "factor",
    "segments",
    "word_acc",
    "token_acc",
    "next_token_acc",
    "params",
    "final_loss",
    "train_seconds",
)
MIN_WIDTH_FIELDS = (
    "automaton",
    "family",
    *SIZE_FIELDS,
    "scheme",
    "factor",
    "min_width",
    "ci_low",
    "ci_high",
    "seeds_reached",
    "per_seed",
)
SIZE_AXES = {"flat": "min_dfa_states", "bilevel": "bilevel_states"}
FIT_FIELDS = ("scheme", "size", "size_field", "points", "best", "formula", "ssr", "aic", "spearman")


def automaton_sizes(spec_text: str) -> dict[str, Any]:
    """The size accounting of one automaton: flat NFA/DFA states, bilevel states, our bounds."""
    from automata.accounting import model_bounds

    spec = parse_automaton(spec_text)
    rep = spec.build().size_report(max_dfa_states=20_000)
    bounds = model_bounds(rep)
    return {
        "automaton": spec.name,
        "family": spec.family,
        "types": spec.types,
        "states": spec.states,
        "alphabet_size": rep.alphabet_size,
        "marking": rep.marking,
        "top_states": rep.top_states,
        "bottom_states_total": rep.bottom_states_total,
        "bilevel_states": rep.top_states + rep.bottom_states_total,
        "flat_states": rep.flat_states,
        "min_dfa_states": rep.min_dfa_states,
        "dim_flat": bounds["dim_flat"],
        "dim_bilevel": bounds["dim_bilevel"],
    }


def cell_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per cell and test factor (the cells.csv layout)."""
    rows = []
    for r in results:
        c = r["cell"]
        spec = parse_automaton(c["automaton"])
        for t in r["results"]:
            nt = t.get("next_token_acc")
            rows.append(
                {
                    "automaton": spec.name,
                    "family": spec.family,
                    "scheme": c["scheme"],
                    "width": c["width"],
                    "seed": c["seed"],
                    "factor": t["factor"],
                    "segments": f"{t['segments'][0]}-{t['segments'][1]}",
                    "word_acc": round(t["word_acc"], 4),
                    "token_acc": round(t["token_acc"], 5),
                    "next_token_acc": "" if nt is None else round(nt, 5),
                    "params": r["train"]["params"],
                    "final_loss": r["train"]["final_loss"],
                    "train_seconds": r["train"]["seconds"],
                }
            )
    return rows


def width_interval(widths: list[int]) -> tuple[float, float | None, float | None]:
    """Geometric mean of per-seed minimal widths and its 95% t-interval (None with one seed)."""
    logs = [float(v) for v in np.log2(np.asarray(widths, dtype=float))]
    if len(logs) < 2:
        return 2 ** (sum(logs) / len(logs)), None, None
    iv = t_interval(logs)
    mean, half = iv.mean, iv.half
    return 2**mean, 2 ** (mean - half), 2 ** (mean + half)


def min_width_rows(
    rows: list[dict[str, Any]],
    sizes: dict[str, dict[str, Any]],
    target: float,
    widths: list[int],
    seeds: list[int],
) -> list[dict[str, Any]]:
    """Minimal width per (automaton, scheme, factor) with its interval over seeds.

    A seed's minimal width is known once every smaller swept width has finished; "never" needs
    every width finished. While some seeds are unfinished the row is computed from the finished
    ones and `seeds_reached` says how many are missing.
    """
    acc: dict[tuple, dict[int, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        acc[(r["automaton"], r["scheme"], r["factor"])][r["seed"]][r["width"]] = r["word_acc"]
    out = []
    for (auto, scheme, factor), by_seed in sorted(acc.items()):
        per_seed = {seed: _seed_min_width(by_seed.get(seed, {}), target, widths) for seed in seeds}
        reached = [w for w in per_seed.values() if isinstance(w, int)]
        unknown = sum(w == "?" for w in per_seed.values())
        mid = lo = hi = None
        if reached and len(reached) == len(per_seed) - unknown:  # every finished seed reached it
            mid, lo, hi = width_interval(reached)
        out.append(
            {
                **sizes[auto],
                "scheme": scheme,
                "factor": factor,
                "min_width": _r(mid),
                "ci_low": _r(lo),
                "ci_high": _r(hi),
                "seeds_reached": f"{len(reached)}/{len(per_seed)}"
                + (f" ({unknown} unfinished)" if unknown else ""),
                "per_seed": " ".join("-" if w is None else str(w) for w in per_seed.values()),
            }
        )
    return out


def _seed_min_width(
    by_width: dict[int, float], target: float, widths: list[int]
) -> int | str | None:
    """The smallest width reaching the target; None: no width does; "?": not known yet."""
    for w in sorted(widths):
        if w not in by_width:
            return "?"
        if by_width[w] >= target:
            return w
    return None


def _r(x: float | None) -> float | str:
    return "" if x is None else round(x, 2)


def fit_rows(mins: list[dict[str, Any]], factor: int = 1) -> list[dict[str, Any]]:
    """Per scheme and size axis (flat, bilevel): the best growth model of minimal width (scipy)."""
    from automata.accounting import fit_growth
    from automata.exceptions import AutomataInputError

    out = []
    for scheme in sorted({m["scheme"] for m in mins}):
        pts = [m for m in mins if m["scheme"] == scheme and m["factor"] == factor]
        pts = [m for m in pts if m["min_width"] != "" and m["min_dfa_states"] is not None]
        for axis, key in SIZE_AXES.items():
            xs = [float(m[key]) for m in pts]
            ys = [float(m["min_width"]) for m in pts]
            row: dict[str, Any] = {"scheme": scheme, "size": axis, "size_field": key}
            row["points"] = len(xs)
            try:
                fits = fit_growth(xs, ys) if len(set(xs)) >= 3 else []
            except AutomataInputError:
                fits = []
            if fits:
                best = fits[0]
                row.update(best=best.model, formula=best.formula, ssr=round(best.ssr, 3))
                row["aic"] = round(best.aic, 2)
                row["spearman"] = _spearman(xs, ys)
            else:
                row.update(best="", formula="fewer than 3 distinct sizes reached the target")
            out.append(row)
    return out


def _spearman(xs: list[float], ys: list[float]) -> float | str:
    from scipy import stats

    if len(set(ys)) < 2:
        return ""
    return round(float(stats.spearmanr(xs, ys).statistic), 3)


def probe_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per cell, layer and probe target."""
    rows = []
    for r in results:
        c = r["cell"]
        name = parse_automaton(c["automaton"]).name
        for p in r.get("probes", []):
            rows.append(
                {
                    "automaton": name,
                    "scheme": c["scheme"],
                    "width": c["width"],
                    "seed": c["seed"],
                    **p,
                }
            )
    return rows


# ------------------------------------------------------------------------------ tables
def md_table(rows: list[dict[str, Any]], fields: list[str]) -> str:
    """A Markdown table of the given columns."""
    if not rows:
        return "(none)"
    lines = ["| " + " | ".join(fields) + " |", "|" + "---|" * len(fields)]
    lines += ["| " + " | ".join(str(r.get(f, "")) for f in fields) + " |" for r in rows]
    return "\n".join(lines)


def min_width_table(mins: list[dict[str, Any]], max_width: int) -> str:
    """Rows automaton (with sizes), columns scheme; each cell 'factor 1 / 2 / 4 / 8' minimal width."""
    autos = sorted({m["automaton"] for m in mins})
    schemes = sorted({m["scheme"] for m in mins})
    factors = sorted({m["factor"] for m in mins})
    by = {(m["automaton"], m["scheme"], m["factor"]): m for m in mins}
    head = ["automaton", "flat DFA", "bilevel", *schemes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for a in autos:
        any_row = next(m for m in mins if m["automaton"] == a)
        cells = []
        for s in schemes:
            vals = []
            for f in factors:
                m = by.get((a, s, f))
                vals.append(_min_width_text(m, max_width))
            cells.append(" / ".join(vals))
        lines.append(
            f"| {a} | {any_row['min_dfa_states']} | {any_row['bilevel_states']} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def _min_width_text(m: dict[str, Any] | None, max_width: int) -> str:
    """'16', '16*' (finished seeds only), '>32' (no seed reached it), '>32 (1/2)' or '?'."""
    if m is None:
        return "?"
    reached = m["seeds_reached"]
    partial = "*" if "unfinished" in reached else ""
    if m["min_width"] != "":
        return f"{m['min_width']:g}{partial}"
    if reached.startswith("0/") and partial and m["per_seed"].replace("?", "").strip() == "":
        return "?"
    if reached.startswith("0/"):
        return f">{max_width}{partial}"
    return f">{max_width} ({reached.split(' ')[0]}){partial}"


def probe_table(probes: list[dict[str, Any]]) -> str:
    """Last-layer probe accuracy per (scheme, width), averaged over automata and seeds."""
    if not probes:
        return "(probes off)"
    last = defaultdict(int)
    for p in probes:
        key = (p["automaton"], p["scheme"], p["width"], p["seed"])
        last[key] = max(last[key], p["layer"])
    agg: dict[tuple, list[float]] = defaultdict(list)
    for p in probes:
        if p["layer"] == last[(p["automaton"], p["scheme"], p["width"], p["seed"])]:
            agg[(p["scheme"], p["width"], p["target"])].append(p["acc"] - p["baseline"])
    keys = sorted({(s, w) for s, w, _ in agg})
    lines = ["| scheme | width | top | bottom (type, state) | flat DFA |", "|---|---|---|---|---|"]
    for s, w in keys:
        vals = [agg.get((s, w, t)) for t in ("top", "bottom", "flat")]
        lines.append(
            f"| {s} | {w} | "
            + " | ".join("" if v is None else f"{np.mean(v):+.3f}" for v in vals)
            + " |"
        )
    return "\n".join(lines)


def write_report(cfg: SyntheticConfig, res: SweepResult, command: str | None = None) -> Path:
    """Every output file of a sweep under ``res.out``; returns the path of summary.md."""
    out = res.out
    out.mkdir(parents=True, exist_ok=True)
    sizes = {row["automaton"]: row for row in (automaton_sizes(a) for a in cfg.automata)}
    rows = cell_rows(res.results)
    mins = min_width_rows(rows, sizes, cfg.target, cfg.widths, cfg.seeds)
    fits = fit_rows(mins)
    probes = probe_rows(res.results)
    results.write_csv(out / "cells.csv", rows, CELL_FIELDS)
    results.write_csv(out / "min_width.csv", mins, MIN_WIDTH_FIELDS)
    results.write_csv(out / "fits.csv", fits, FIT_FIELDS)
    results.write_csv(
        out / "sizes.csv", list(sizes.values()), ("automaton", "family", *SIZE_FIELDS)
    )
    if probes:
        results.write_csv(out / "probes.csv", probes)
    if rows:
        plot_acc_vs_width(out, rows, cfg.target)
        plot_min_width(out, mins, cfg.widths, SIZE_AXES)
    seconds = res.seconds if res.ran else None  # a rerun that only reads results has no wall time
    lines = report.summary_header(f"BiPE synthetic sweep: {cfg.name}", command, seconds)
    lines += [
        f"- cells: {len(res.results)} finished of {len(res.results) + len(res.failed)}"
        + (" (interrupted)" if res.interrupted else ""),
        "",
        *failed_section(res.failed),
        *_summary_sections(cfg, mins, sizes, fits, probes),
    ]
    lines += ["## Configuration", "", "```json", json.dumps(cfg.to_dict(), indent=2), "```", ""]
    path = out / "summary.md"
    atomic_text(path, "\n".join(lines))
    atomic_text(out / "config.json", json.dumps(cfg.to_dict(), indent=2) + "\n")
    return path


def failed_section(failed: dict[str, str]) -> list[str]:
    """The cells without results and why, placed before every table: the tables leave them out,
    so a reader must know which numbers are missing before reading any."""
    if not failed:
        return []
    lines = [
        "## Cells without results",
        "",
        f"**{len(failed)} cells failed or did not finish: the tables below leave them out** "
        "(the command exits non-zero until every cell has a result).",
        "",
    ]
    return lines + [f"- {k}: {v}" for k, v in sorted(failed.items())] + [""]


def _summary_sections(
    cfg: SyntheticConfig,
    mins: list[dict[str, Any]],
    sizes: dict[str, dict[str, Any]],
    fits: list[dict[str, Any]],
    probes: list[dict[str, Any]],
) -> list[str]:
    """The Markdown sections of summary.md between its header and the configuration."""
    factors = " / ".join(f"{f}x" for f in sorted(cfg.task.factors))
    lo, hi = cfg.task.segments
    return [
        f"## Minimal width reaching word accuracy {cfg.target:g} ({factors})",
        "",
        f"Training words have {lo}-{hi} segments; at factor f the "
        f"test words have f*{hi}/2+1 .. f*{hi}. Widths swept: "
        f"{', '.join(map(str, cfg.widths))}; seeds: {', '.join(map(str, cfg.seeds))}. "
        f"'>{max(cfg.widths)}': no seed reached the target (with '(k/n)': only k of n seeds did); "
        "'*': from the finished seeds only; '?': not finished. Geometric mean over seeds; "
        "95% t-intervals on log2(width) in min_width.csv.",
        "",
        min_width_table(mins, max(cfg.widths)),
        "",
        "## Automaton sizes",
        "",
        md_table(list(sizes.values()), ["automaton", *SIZE_FIELDS]),
        "",
        "## Fits of minimal width (1x) against the flat and the bilevel size",
        "",
        md_table(fits, ["scheme", "size", "points", "best", "formula", "ssr", "aic", "spearman"]),
        "",
        "## Linear probes (last layer, accuracy minus majority baseline, mean over automata and seeds)",
        "",
        probe_table(probes),
        "",
        "![accuracy vs width](acc_vs_width_x1.png)",
        "",
        "![minimal width vs size](min_width_vs_size.png)",
        "",
    ]
