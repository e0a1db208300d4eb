"""Does BiPE's gap to its token-level twin close with the training budget? One experiment grid per
budget (``train.steps``), each over the config's ``seeds``, and the gap against training tokens.

The gap of a segment-level run is its mean test loss minus its baseline's (RoPE for rotary BiPE
schemes, ALiBi for biased ones; `experiments.analysis.report.baseline_of`), in nats (the log of
the perplexity ratio), with a Welch 95% interval over seeds (`experiments.analysis.stats`).
Each budget is a full run: warm-up and cosine decay are laid over its own number of steps.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from experiments.analysis.report import baseline_of
from experiments.analysis.results import run_label
from experiments.analysis.stats import diff_interval, run_key, t_interval
from experiments.atomic import atomic_text, atomic_write
from experiments.errors import ExperimentError
from experiments.lm.config import ExperimentConfig
from experiments.lm.grid import run_experiment
from experiments.specs import file_part


def budget_configs(cfg: ExperimentConfig, steps: list[int]) -> list[ExperimentConfig]:
    """One copy of ``cfg`` per budget, differing only in ``train.steps``."""
    if not steps or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in steps):
        raise ExperimentError(f"budgets must be positive step counts, got {steps!r}")
    out = []
    for s in sorted(set(steps)):
        c = copy.deepcopy(cfg)
        c.train.steps = s
        c.name = f"{cfg.name}-steps{s}"
        out.append(c.validate())
    return out


def gap_rows(budgets: list[tuple[ExperimentConfig, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Per budget, segment-level scheme and evaluation length: the loss gap to the baseline."""
    rows = []
    for cfg, evals in budgets:
        tokens = cfg.train.steps * cfg.train.batch_size * cfg.train.seq_len
        loss: dict[tuple[str, str, str], dict[int, list[float]]] = {}
        for ev in evals:
            cell = loss.setdefault(run_key(ev), {})
            for r in ev["results"]:
                cell.setdefault(r["multiplier"], []).append(math.log(r["ppl"]))
        for (corpus, scheme, segmenter), cell in loss.items():
            base = baseline_of(scheme)
            ref = loss.get((corpus, base, "")) if base else None
            if ref is None:
                continue
            for k in sorted(set(cell) & set(ref)):
                d = diff_interval(cell[k], ref[k])
                rows.append(
                    {
                        "corpus": corpus,
                        "run": run_label({"scheme": scheme, "segmenter": segmenter}),
                        "baseline": base,
                        "steps": cfg.train.steps,
                        "train_tokens": tokens,
                        "multiplier": k,
                        "gap": d.mean,
                        "gap_half": d.half,
                        "beyond_noise": d.excludes(0),
                        "ppl": math.exp(t_interval(cell[k]).mean),
                        "baseline_ppl": math.exp(t_interval(ref[k]).mean),
                        "seeds": min(len(cell[k]), len(ref[k])),
                    }
                )
    return rows


def format_gaps(rows: list[dict[str, Any]]) -> str:
    """Markdown table of `gap_rows`."""
    lines = [
        "| corpus | run | baseline | steps | train tokens | x | PPL run / baseline "
        "(geometric mean over seeds) | gap, nats (Welch 95%) | beyond noise |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        half = "" if math.isnan(r["gap_half"]) else f" ± {r['gap_half']:.3f}"
        lines.append(
            f"| {r['corpus']} | {r['run']} | {r['baseline']} | {r['steps']} | "
            f"{r['train_tokens']:,} | {r['multiplier']:g} | {r['ppl']:.2f} / "
            f"{r['baseline_ppl']:.2f} | {r['gap']:+.3f}{half} | "
            f"{'yes' if r['beyond_noise'] else 'no'} |"
        )
    return "\n".join(lines)


def plot_gaps(out: Path, rows: list[dict[str, Any]]) -> list[Path]:
    """One PNG per corpus: gap (nats) against training tokens, a line per run at the shortest and
    the longest evaluation length (budget.md has them all), with 95% intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for corpus in sorted({r["corpus"] for r in rows}):
        fig, ax = plt.subplots(figsize=(8.4, 4.2))
        mults = {r["multiplier"] for r in rows if r["corpus"] == corpus}
        ends = {min(mults), max(mults)}
        keys = sorted(
            {(r["run"], r["multiplier"]) for r in rows if r["corpus"] == corpus}
            & {(r["run"], k) for r in rows for k in ends}
        )
        for run, k in keys:
            pts = sorted(
                (
                    r
                    for r in rows
                    if r["corpus"] == corpus and r["run"] == run and r["multiplier"] == k
                ),
                key=lambda r: r["train_tokens"],
            )
            xs = [r["train_tokens"] for r in pts]
            ys = [r["gap"] for r in pts]
            err = [0.0 if math.isnan(r["gap_half"]) else r["gap_half"] for r in pts]
            ax.errorbar(
                xs,
                ys,
                yerr=err,
                marker="o",
                capsize=3,
                linestyle="-" if k == min(ends) else "--",
                label=f"{run} - {pts[0]['baseline']}, eval at {k:g}x",
            )
        ax.axhline(0, color="grey", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel("training tokens")
        ax.set_ylabel("test loss gap to baseline (nats)")
        ax.set_title(f"{corpus}: BiPE gap against training budget (95% interval over seeds)")
        ax.grid(True, which="both", alpha=0.3)
        # below the axes, in two columns: never hides a point
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
        path = out / f"gap_vs_budget_{file_part(corpus)}.png"  # a source spec holds "/"
        save = lambda tmp, fig=fig: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")  # noqa: E731
        atomic_write(path, save, suffix=".png")
        plt.close(fig)
        paths.append(path)
    return paths


class RunsFailedError(ExperimentError):
    """Some runs of a budget sweep failed: the report is written and lists them."""


def run_budget(
    cfg: ExperimentConfig,
    steps: list[int],
    out: str | Path,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    command: str | None = None,
    log=print,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
) -> list[dict[str, Any]] | None:
    """Run the grid at every budget under ``out/steps<N>`` (resumable), then write
    ``out/budget.md``, ``out/budget.json`` and the gap plots; returns the gap rows, or None when a
    signal interrupted a budget (nothing is written; the same call resumes)."""
    out = Path(out)
    done, failed = [], {}
    for c in budget_configs(cfg, steps):
        log(f"budget: {c.train.steps} steps")
        res = run_experiment(
            c,
            out / f"steps{c.train.steps}",
            cache_dir,
            workers,
            command=command,
            segstats=False,
            log=log,
            executor=executor,
            executor_options=executor_options,
        )
        if res.interrupted:
            return None
        done.append((c, res.evals))
        failed.update({f"steps{c.train.steps}/{k}": v for k, v in res.failed.items()})
    rows = gap_rows(done)
    out.mkdir(parents=True, exist_ok=True)
    record = {"command": command, "config": cfg.to_dict(), "gaps": rows, "failed": failed}
    atomic_text(out / "budget.json", json.dumps(record, indent=2) + "\n")
    text = [
        f"# BiPE gap against training budget: {cfg.name}",
        "",
        f"- command: `{command}`" if command else "",
        f"- seeds per cell: {len(cfg.seeds)} ({', '.join(map(str, cfg.seeds))}); budgets (steps): "
        f"{sorted(set(steps))}",
        "",
        format_gaps(rows),
        "",
    ]
    if failed:  # a gap computed without these runs is reported, and so is their absence
        text += ["## Runs without results", ""]
        text += [f"- {k}: {v}" for k, v in sorted(failed.items())] + [""]
    atomic_text(out / "budget.md", "\n".join(text))
    if rows:
        plot_gaps(out, rows)
    if failed:
        raise RunsFailedError(
            f"{len(failed)} runs failed or have no result ({', '.join(sorted(failed)[:4])}"
            f"{', ...' if len(failed) > 4 else ''}); {out / 'budget.md'} lists them"
        )
    return rows
