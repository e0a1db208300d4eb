"""Plots of the synthetic sweep: word accuracy against width per test factor, and minimal width
against the flat and the bilevel automaton size (matplotlib Agg, the report plots' one style)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from experiments.analysis import report


def plot_acc_vs_width(out: Path, rows: list[dict[str, Any]], target: float) -> list[Path]:
    """Per test factor: word accuracy against width, a panel per automaton, a line per scheme."""
    plt = report.pyplot()
    paths = []
    autos = sorted({r["automaton"] for r in rows})
    schemes = sorted({r["scheme"] for r in rows})
    all_widths = sorted({r["width"] for r in rows})
    cols = min(4, len(autos) + 1)
    nrow = math.ceil((len(autos) + 1) / cols)  # one spare panel holds the legend
    for factor in sorted({r["factor"] for r in rows}):
        fig, axes = plt.subplots(nrow, cols, figsize=(3.3 * cols, 2.7 * nrow), squeeze=False)
        for ax, auto in zip(axes.flat, autos):
            for k, scheme in enumerate(schemes):
                key = (auto, scheme, factor)
                sel = [r for r in rows if (r["automaton"], r["scheme"], r["factor"]) == key]
                widths = sorted({r["width"] for r in sel})
                vals = [[r["word_acc"] for r in sel if r["width"] == w] for w in widths]
                mean = [float(np.mean(v)) for v in vals]
                err = [
                    [m - min(v) for m, v in zip(mean, vals)],
                    [max(v) - m for m, v in zip(mean, vals)],
                ]
                ax.errorbar(widths, mean, yerr=err, marker="o", capsize=2, label=scheme,
                            color=f"C{k}")  # fmt: skip
            ax.axhline(target, color="grey", linestyle=":", linewidth=1)
            ax.set_xscale("log", base=2)
            ax.set_xticks(all_widths, [str(w) for w in all_widths])
            ax.set_xlim(all_widths[0] / 1.3, all_widths[-1] * 1.3)
            ax.set_ylim(-0.03, 1.03)
            ax.set_title(auto, fontsize=8)
            ax.set_xlabel("width", fontsize=8)
            ax.set_ylabel("word accuracy", fontsize=8)
            ax.grid(True, alpha=0.3)
        spare = list(axes.flat)[len(autos) :]
        for ax in spare:
            ax.axis("off")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        spare[0].legend(handles, labels, fontsize=8, loc="center")
        fig.suptitle(
            f"word accuracy vs width at {factor}x the training segments (mean, min-max over seeds)",
            fontsize=9,
        )
        paths.append(report.save_figure(fig, out / f"acc_vs_width_x{factor}.png"))
    return paths


def plot_min_width(
    out: Path,
    mins: list[dict[str, Any]],
    widths: list[int],
    axes_fields: dict[str, str],
    factor: int = 1,
) -> Path:
    """Minimal width against each size (``axes_fields``: axis name -> size field, flat and
    bilevel), a series per scheme.

    Intervals are clipped to the swept widths (a t-interval from two seeds can span decades).
    """
    plt = report.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), squeeze=False)
    schemes = sorted({m["scheme"] for m in mins})  # colours as in the accuracy plots
    low, high = min(widths) / 1.5, max(widths) * 1.5
    for ax, (axis, key) in zip(axes.flat, axes_fields.items()):
        for k, scheme in enumerate(schemes):
            pts = [m for m in mins if m["scheme"] == scheme and m["factor"] == factor]
            pts = sorted(
                (m for m in pts if m["min_width"] != "" and m[key] is not None),
                key=lambda m: m[key],
            )
            if not pts:
                continue
            xs = [m[key] for m in pts]
            ys = [m["min_width"] for m in pts]
            lo = [y - max(low, m["ci_low"] if m["ci_low"] != "" else y) for y, m in zip(ys, pts)]
            hi = [min(high, m["ci_high"] if m["ci_high"] != "" else y) - y for y, m in zip(ys, pts)]
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=2, label=scheme, color=f"C{k}")
        ax.set_xscale("log")
        ax.set_yscale("log", base=2)
        ax.set_ylim(low, high)
        ax.set_yticks(widths, [str(w) for w in widths])
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(plt.matplotlib.ticker.NullFormatter())
        ax.set_xlabel(f"{axis} size ({key})")
        ax.set_ylabel("minimal width")
        ax.grid(True, which="both", alpha=0.3)
    if axes.flat[-1].get_legend_handles_labels()[0]:
        axes.flat[-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(
        f"minimal width reaching the target at {factor}x (automata that never reach it are left out)",
        fontsize=9,
    )
    return report.save_figure(fig, out / "min_width_vs_size.png")
