"""Reports: PNG plots (matplotlib Agg), Markdown tables and the summary of a report directory
(its results files are written by `experiments.analysis.results`).

The summary names the git commit, the full configuration and the machine, so a reader can tell
what produced the numbers.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from experiments.analysis.results import run_label
from experiments.analysis.stats import Interval, aggregate_evals, diff_interval, run_key
from experiments.atomic import atomic_text, atomic_write
from experiments.specs import file_part


def series_colours(labels: Iterable[str]) -> dict[str, Any]:
    """A fixed colour per series label (sorted, tab10), so a series looks the same in every panel."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return {label: cmap(i % 10) for i, label in enumerate(sorted(set(labels)))}


def length_axis(ax: Any, lengths: Iterable[int]) -> None:
    """A log2 x axis whose ticks are the given integer lengths, written out in full."""
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(sorted(set(lengths))))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_locator(NullLocator())


def readable_log_y(ax: Any) -> None:
    """Log y axis with plain-number labels on the 1-2-5 ticks instead of powers of ten only."""
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def git_commit() -> str:
    """The commit of the checkout this package runs from (``+dirty`` if modified), or 'unknown'."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(here), *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        sha = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return sha + ("+dirty" if dirty else "")


def machine_info() -> dict[str, Any]:
    """Platform, CPU count and library versions."""
    import numpy
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "cuda": torch.cuda.is_available(),
    }


def pyplot() -> Any:
    """matplotlib.pyplot on the file-only Agg backend (every report plot goes through here)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> Path:
    """Tight layout, 110 dpi PNG, figure closed: the one style of the report plots."""
    fig.tight_layout()
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"), suffix=".png")
    finally:
        pyplot().close(fig)
    return path


def plot_ppl(out: Path, evals: list[dict[str, Any]]) -> list[Path]:
    """One PNG per corpus: perplexity (log scale) against evaluation length, a line per run
    (the mean over seeds, with its 95% interval as a band)."""
    plt = pyplot()
    paths = []
    colours = series_colours(run_label(e) for e in evals)
    for corpus in sorted({e["corpus"] for e in evals}):
        fig, ax = plt.subplots(figsize=(8.4, 4.2))
        lengths: set[int] = set()
        for ev in aggregate_evals(e for e in evals if e["corpus"] == corpus):
            xs = [r["length"] for r in ev["results"]]
            ys = [r["ppl"] for r in ev["results"]]
            lengths.update(xs)
            n = min(r["n"] for r in ev["results"])
            base = run_label(ev)
            label = base + (f", {n} seeds" if n > 1 else "")
            ax.plot(xs, ys, marker="o", label=label, color=colours[base])
            if n > 1:  # the t-based 95% interval of the mean over seeds
                lo = [r["ppl"] - r["ppl_half"] for r in ev["results"]]
                hi = [r["ppl"] + r["ppl_half"] for r in ev["results"]]
                ax.fill_between(xs, lo, hi, color=colours[base], alpha=0.18, linewidth=0)
        train_len = evals[0].get("train_len")
        if train_len:
            ax.axvline(
                train_len,
                color="grey",
                linestyle=":",
                linewidth=1,
                label=f"training length ({train_len})",
            )
        length_axis(ax, lengths)
        readable_log_y(ax)
        ax.set_xlabel("evaluation length (tokens, log2 scale)")
        ax.set_ylabel("perplexity")
        ax.set_title(f"{corpus}: perplexity vs length (trained at {train_len})")
        ax.legend(
            fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0)
        )  # outside: never hides a curve
        ax.grid(True, which="both", alpha=0.3)
        paths.append(save_figure(fig, out / f"ppl_vs_length_{file_part(corpus)}.png"))
    return paths


def plot_segment_hist(out: Path, stats: list[Any], clip: int = 200) -> list[Path]:
    """One PNG per corpus: histogram of segment lengths (tokens) for every segmenter."""
    plt = pyplot()
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    paths = []
    colours = series_colours(s.segmenter for s in stats)
    for corpus in sorted({s.corpus for s in stats}):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        bins = np.arange(0, clip + 5, 5)
        for s in (x for x in stats if x.corpus == corpus):
            ax.hist(
                np.minimum(s.lengths, clip),
                bins=bins,
                histtype="step",
                density=True,
                color=colours[s.segmenter],
                label=f"{s.segmenter} (median {s.median_len:.0f})",
            )
        ax.axvline(50, color="grey", linestyle=":", linewidth=1, label="50 tokens")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(f"segment length in tokens (clipped at {clip})")
        ax.set_ylabel("density")
        ax.set_title(f"{corpus}: segment lengths")
        ax.legend(fontsize=8)
        paths.append(save_figure(fig, out / f"segment_lengths_{file_part(corpus)}.png"))
    return paths


def ppl_table(evals: list[dict[str, Any]]) -> str:
    """Markdown table: a row per run (mean ± t-based 95% interval over its seeds), a column per
    evaluation length."""
    if not evals:
        return "(no evaluations)"
    rows = aggregate_evals(evals)
    lengths = sorted({r["length"] for e in rows for r in e["results"]})
    head = "| corpus | run | steps | seeds | " + " | ".join(str(n) for n in lengths) + " |"
    lines = [head, "|" + "---|" * (4 + len(lengths))]
    for e in rows:
        by = {r["length"]: Interval(r["ppl"], r["ppl_half"], r["n"]) for r in e["results"]}
        cells = " | ".join(by[n].format() if n in by else "" for n in lengths)
        n_seeds = len(e["seeds"])
        lines.append(
            f"| {e['corpus']} | {run_label(e)} | {e.get('step', '')} | {n_seeds} | {cells} |"
        )
    if any(len(e["seeds"]) > 1 for e in rows):
        lines += ["", "Mean perplexity over seeds ± the half-width of its t-based 95% interval."]
    return "\n".join(lines)


def baseline_of(scheme: str) -> str | None:
    """The token-level twin a segment-level scheme is compared with: RoPE for rotary schemes,
    ALiBi for biased ones (read from the scheme registry); None for token-level schemes."""
    from bipe_core.schemes import scheme_class

    cls = scheme_class(scheme)
    if not cls.uses_segments:
        return None
    return "rope" if cls.rotary else "alibi" if cls.has_bias else None


def gap_table(evals: list[dict[str, Any]]) -> str:
    """Markdown table: each segment-level run's perplexity minus its baseline's, per length, with
    a Welch 95% interval over seeds; ``*`` marks a difference beyond noise (interval excludes 0)."""
    per_seed: dict[tuple[str, str, str], dict[int, list[float]]] = {}
    for ev in evals:
        cell = per_seed.setdefault(run_key(ev), {})
        for r in ev["results"]:
            cell.setdefault(r["length"], []).append(r["ppl"])
    lengths = sorted({n for cell in per_seed.values() for n in cell})
    lines = [
        "| corpus | run | baseline | " + " | ".join(str(n) for n in lengths) + " |",
        "|" + "---|" * (3 + len(lengths)),
    ]
    for (corpus, scheme, segmenter), cell in per_seed.items():
        base = baseline_of(scheme)
        ref = per_seed.get((corpus, base, "")) if base else None
        if ref is None:
            continue
        cells = []
        for n in lengths:
            if n not in cell or n not in ref:
                cells.append("")
                continue
            d = diff_interval(cell[n], ref[n])
            cells.append(
                ("+" if d.mean >= 0 else "") + d.format() + (" *" if d.excludes(0) else "")
            )
        label = run_label({"scheme": scheme, "segmenter": segmenter})
        lines.append(f"| {corpus} | {label} | {base} | " + " | ".join(cells) + " |")
    if len(lines) == 2:
        return "(no run with its baseline)"
    lines += [
        "",
        "Perplexity difference to the baseline (mean over seeds ± Welch 95% interval); "
        "`*`: beyond noise (the interval excludes 0).",
    ]
    return "\n".join(lines)


def plot_links(out: Path) -> list[str]:
    """Markdown lines showing every PNG of the report directory (relative links), or none."""
    pngs = sorted(out.glob("*.png"))
    if not pngs:
        return []
    lines = ["## Plots", ""]
    lines += [f"![{p.stem.replace('_', ' ')}]({p.name})" for p in pngs]
    return [*lines, ""]


def summary_header(title: str, command: str | None, seconds: float | None) -> list[str]:
    """The opening lines of every summary.md: title, date, version and commit, command, machine."""
    from experiments import __version__

    m = machine_info()
    lines = [
        f"# {title}",
        "",
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- bipe {__version__}, commit: `{git_commit()}`",
    ]
    if command:
        lines.append(f"- command: `{command}`")
    if seconds is not None:
        lines.append(f"- wall time: {seconds:.0f} s")
    lines.append(
        f"- machine: {m['cpu']} ({m['cpu_count']} CPUs), {m['platform']}, Python "
        f"{m['python']}, torch {m['torch']}, CUDA: {m['cuda']}"
    )
    return lines


def write_summary(
    out: Path,
    title: str,
    config: dict[str, Any],
    evals: list[dict[str, Any]],
    sections: list[tuple[str, str]] | None = None,
    command: str | None = None,
    seconds: float | None = None,
) -> Path:
    """summary.md: commit, command, machine, configuration, the perplexity table, extra sections."""
    lines = summary_header(title, command, seconds)
    lines += [
        "",
        "## Perplexity against evaluation length",
        "",
        "Non-overlapping blocks of each length over the same evaluation tokens; "
        "PPL = exp(mean loss).",
        "",
        ppl_table(evals),
        "",
    ]
    lines += plot_links(out)
    gaps = gap_table(evals) if evals else ""
    if gaps and not gaps.startswith("("):
        lines += ["## Difference to the token-level baseline", "", gaps, ""]
    for head, body in sections or []:
        lines += [f"## {head}", "", body, ""]
    lines += [
        "## Configuration",
        "",
        "```json",
        json.dumps(config, indent=2, default=str),
        "```",
        "",
    ]
    path = out / "summary.md"
    atomic_text(path, "\n".join(lines))
    atomic_text(out / "config.json", json.dumps(config, indent=2, default=str) + "\n")
    return path
