"""Statistics over seeds, in one place: the t-based 95% interval of a mean, the Welch interval of
a difference of means, the grouping of per-seed evaluations into one row per run, and the tables
that `bipe seeds` prints from the ``results.csv`` of report directories.

An experimental claim rests on several seeds with an interval (docs/experiments.md); a cell with
one seed has no interval (``half`` is NaN) and is reported as a probe.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.analysis.results import read_results_csv, run_label
from experiments.errors import ExperimentError

LEVEL = 0.95  # every interval in the reports is a 95% one


@dataclass(frozen=True)
class Interval:
    """A mean with the half-width of its confidence interval (NaN with fewer than 2 values)."""

    mean: float
    half: float
    n: int

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.mean - self.half

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.mean + self.half

    def excludes(self, value: float = 0.0) -> bool:
        """True when the interval is known and does not contain ``value`` (beyond noise)."""
        return not math.isnan(self.half) and not (self.low <= value <= self.high)

    def format(self, digits: int = 2) -> str:
        """``mean ± half`` (just the mean for a single value)."""
        if math.isnan(self.half):
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.half:.{digits}f}"


def t_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    """Mean and Student-t interval half-width (sample standard deviation, n - 1 dof)."""
    from scipy import stats

    xs = [float(v) for v in values]
    n = len(xs)
    if n == 0:
        raise ValueError("t_interval needs at least one value")
    mean = sum(xs) / n
    if n < 2:
        return Interval(mean, float("nan"), n)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    return Interval(mean, t * sd / math.sqrt(n), n)


def diff_interval(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Interval:
    """mean(a) - mean(b) with a Welch interval (unequal variances, Welch-Satterthwaite dof)."""
    from scipy import stats

    ia, ib = t_interval(a, level), t_interval(b, level)
    diff = ia.mean - ib.mean
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return Interval(diff, float("nan"), min(na, nb))
    va = sum((x - ia.mean) ** 2 for x in a) / (na - 1) / na
    vb = sum((x - ib.mean) ** 2 for x in b) / (nb - 1) / nb
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(diff, 0.0, min(na, nb))
    dof = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    t = float(stats.t.ppf(0.5 + level / 2, dof))
    return Interval(diff, t * se, min(na, nb))


def run_key(ev: dict[str, Any]) -> tuple[str, str, str]:
    """The cell an evaluation belongs to: (corpus, scheme, segmenter or "")."""
    return ev["corpus"], ev["scheme"], ev.get("segmenter") or ""


def aggregate_evals(evals: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per cell, in first-seen order: the per-seed perplexities at every length, their mean
    and t interval (``ppl`` is the mean, so rows read like single-seed evaluations)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for ev in evals:
        groups.setdefault(run_key(ev), []).append(ev)
    out = []
    for (corpus, scheme, segmenter), evs in groups.items():
        by_len: dict[int, list[dict[str, Any]]] = {}
        for ev in evs:
            for r in ev["results"]:
                by_len.setdefault(r["length"], []).append(r)
        results = []
        for length in sorted(by_len):
            rs = by_len[length]
            ci = t_interval([r["ppl"] for r in rs])
            results.append(
                {
                    "length": length,
                    "multiplier": rs[0].get("multiplier"),
                    "ppl": ci.mean,
                    "ppl_half": ci.half,
                    "ppl_values": [r["ppl"] for r in rs],
                    "n": ci.n,
                }
            )
        out.append(
            {
                "corpus": corpus,
                "scheme": scheme,
                "segmenter": segmenter or None,
                "train_len": evs[0].get("train_len"),
                "step": evs[0].get("step"),
                "seeds": [ev.get("seed") for ev in evs],
                "results": results,
            }
        )
    return out


# -- report directories: the cells of results.csv, keyed by seed -------------------------------

# (corpus, run label) -> length -> {seed (or "report <i>" without one): perplexity}
Cells = dict[tuple[str, str], dict[int, dict[str, float]]]


def report_cells(dirs: Sequence[str | Path]) -> Cells:
    """Every cell of the given reports' results.csv files, one perplexity per seed.

    A report of several seeds (``seeds=0,1,2``) and several reports of one seed each (one per
    seed) read alike, and runs of the same seed pair up across reports (a seed fixes the
    batch order). Rows without a seed (reports written before seeds were recorded) are keyed by
    their report instead, so each such report counts as one seed.
    """
    # rows with a seed meet their twin below (the same seed twice); rows without one are keyed
    # by their report, so a report given twice must be caught by its name or its bytes
    same = same_reports(dirs)
    cells: Cells = {}
    for i, d in enumerate(dirs):
        for r in read_results_csv(d):
            try:
                key = (r["corpus"], run_label(r))
                length, ppl = int(r["length"]), float(r["ppl"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ExperimentError(f"{d}/results.csv has a malformed row: {r}") from exc
            seeds = cells.setdefault(key, {}).setdefault(length, {})
            seed = r.get("seed")
            if not seed and i in same:
                raise _refuse_same_report(dirs, i, same[i])
            seed = seed or f"report {i}"
            if seed in seeds:
                raise ExperimentError(
                    f"{key[1]} at {length} appears twice for seed {seed} (in {d}/results.csv "
                    "or an earlier report given): give each seed's run once, and compare reports "
                    "whose runs share a label with `bipe seeds diff`"
                )
            seeds[seed] = ppl
    if not cells:
        raise ExperimentError(f"no results in {', '.join(map(str, dirs))}")
    return cells


def same_reports(dirs: Sequence[str | Path]) -> dict[int, int]:
    """Index of each report given twice, by name or as a copy (the same results.csv bytes),
    -> the index of its first appearance."""
    seen: dict[object, int] = {}
    same: dict[int, int] = {}
    for i, d in enumerate(dirs):
        try:
            digest = hashlib.sha256((Path(d) / "results.csv").read_bytes()).digest()
        except OSError:
            continue  # read_results_csv names the unreadable file
        for key in (Path(d).resolve(), digest):
            if key in seen:
                same.setdefault(i, seen[key])
            seen.setdefault(key, i)
    return same


def _refuse_same_report(dirs: Sequence[str | Path], i: int, first: int) -> ExperimentError:
    return ExperimentError(
        f"{dirs[i]} and {dirs[first]} are the same report (the same directory or a copy of its "
        "results.csv) and its rows carry no seed: its runs would be counted twice, as if they "
        "were more seeds; give each report once"
    )


def find_cell(cells: Cells, name: str, corpus: str | None = None) -> tuple[str, str]:
    """The one cell called ``name`` (a run label as the tables print it, or a bare scheme name)."""
    keys = [k for k in cells if corpus is None or k[0] == corpus]
    found = [k for k in keys if k[1] == name] or [k for k in keys if k[1].split(" (")[0] == name]
    if len(found) == 1:
        return found[0]
    known = ", ".join(sorted({repr(k[1]) for k in keys})) or "none"
    if not found:
        where = f" on corpus {corpus!r}" if corpus else ""
        raise ExperimentError(f"no cell {name!r}{where}; the cells are {known}")
    many = ", ".join(f"{c}: {label!r}" for c, label in found)
    raise ExperimentError(f"{name!r} names several cells ({many}); give the run label or --corpus")


def seeds_table(cells: Cells) -> str:
    """Markdown: per run and length, mean perplexity ± 95% interval over its seeds."""
    lengths = sorted({n for by in cells.values() for n in by})
    lines = [
        "| corpus | run | seeds | " + " | ".join(map(str, lengths)) + " | last / first |",
        "|" + "---|" * (4 + len(lengths)),
    ]
    for (corpus, label), by in cells.items():
        row = [t_interval(list(by[n].values())).format() if n in by else "" for n in lengths]
        first, last = by[min(by)], by[max(by)]
        common = sorted(set(first) & set(last))
        ratio = t_interval([last[s] / first[s] for s in common]).format(3) if common else ""
        n = min(len(v) for v in by.values())
        lines.append(f"| {corpus} | {label} | {n} | {' | '.join(row)} | {ratio} |")
    return "\n".join(lines)


def ratio_table(cells: Cells, pairs: Sequence[tuple[str, str]], corpus: str | None = None) -> str:
    """Markdown: per pair (a, b) and length, the mean per-seed ratio ppl(a) / ppl(b) ± 95%."""
    corpora = [corpus] if corpus else sorted({c for c, _ in cells})
    lengths = sorted({n for by in cells.values() for n in by})
    lines = [
        "| corpus | ppl ratio | " + " | ".join(map(str, lengths)) + " |",
        "|" + "---|" * (2 + len(lengths)),
    ]
    for c in corpora:
        for a, b in pairs:
            ka, kb = find_cell(cells, a, c), find_cell(cells, b, c)
            row = []
            for n in lengths:
                va, vb = cells[ka].get(n, {}), cells[kb].get(n, {})
                common = sorted(set(va) & set(vb))  # a ratio pairs runs of the same seed
                row.append(t_interval([va[s] / vb[s] for s in common]).format(3) if common else "")
            if not any(row):
                raise ExperimentError(f"{ka[1]!r} and {kb[1]!r} share no seed on {c!r}")
            lines.append(f"| {c} | {ka[1]} / {kb[1]} | {' | '.join(row)} |")
    return "\n".join(lines)


def diff_line(
    dir_a: str | Path, name_a: str, dir_b: str | Path, name_b: str, corpus: str | None = None
) -> str:
    """One line: cell A minus cell B per length (Welch 95%, ``*`` beyond noise)."""
    ca, cb = report_cells([dir_a]), report_cells([dir_b])
    ka, kb = find_cell(ca, name_a, corpus), find_cell(cb, name_b, corpus)
    parts = []
    for n in sorted(set(ca[ka]) & set(cb[kb])):
        d = diff_interval(list(ca[ka][n].values()), list(cb[kb][n].values()))
        parts.append(f"{n}: {d.mean:+.2f} ± {d.half:.2f}{' *' if d.excludes(0) else ''}")
    if not parts:
        raise ExperimentError(f"{ka[1]!r} and {kb[1]!r} share no evaluation length")
    return f"{ka[1]} ({dir_a}) - {kb[1]} ({dir_b}): " + " | ".join(parts)
