"""Statistics over seeds, in one place: the t-based 95% interval of a mean, the Welch interval of
a difference of means, and the grouping of per-seed evaluations into one row per run.

An experimental claim rests on several seeds with an interval (docs/experiments.md); a cell with
one seed has no interval (``half`` is NaN) and is reported as a probe.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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


def csv_cell(report_dir: str, scheme: str, segmenter: str = "") -> dict[int, list[float]]:
    """Per evaluation length, the per-seed perplexities of one cell of a report's results.csv."""
    from experiments.report import read_results_csv

    out: dict[int, list[float]] = {}
    for r in read_results_csv(report_dir):
        if r["scheme"] == scheme and (not segmenter or r["segmenter"] == segmenter):
            out.setdefault(int(r["length"]), []).append(float(r["ppl"]))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print cell A minus cell B per length (Welch 95%), each cell a scheme in a report dir."""
    import argparse
    import sys

    from experiments.errors import ExperimentError

    ap = argparse.ArgumentParser(
        prog="python -m experiments.stats",
        description="perplexity of cell A minus cell B, per length, with a Welch 95% interval",
    )
    ap.add_argument("dir_a")
    ap.add_argument("scheme_a")
    ap.add_argument("dir_b")
    ap.add_argument("scheme_b")
    args = ap.parse_args(argv)
    try:
        a = csv_cell(args.dir_a, args.scheme_a)
        b = csv_cell(args.dir_b, args.scheme_b)
    except ExperimentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cells = []
    for n in sorted(set(a) & set(b)):
        d = diff_interval(a[n], b[n])
        cells.append(f"{n}: {d.mean:+.2f} ± {d.half:.2f}{' *' if d.excludes(0) else ''}")
    print(f"{args.scheme_a} ({args.dir_a}) - {args.scheme_b} ({args.dir_b}): " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
