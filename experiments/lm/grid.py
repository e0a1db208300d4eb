"""The experiment grid: prepare data, train and evaluate every run (optionally side by side), report.

Each run lives in ``<out>/runs/<name>/`` (checkpoint, metrics.jsonl, eval.json), so running the
same command again resumes interrupted runs and skips finished ones.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.config import ExperimentConfig, RunSpec, from_dict, run_seed, run_specs
from experiments.errors import ExperimentError
from experiments.pool import Job, run_jobs


@dataclass
class ExperimentResult:
    """What `run_experiment` produced."""

    out: Path
    evals: list[dict[str, Any]]
    interrupted: bool = False
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _run_one(cfg_dict: dict[str, Any], spec: tuple, run_dir: str, cache_dir: str | None) -> int:
    """Train then evaluate one run; writes eval.json. Returns 0, 130 (interrupted) or 1 (error)."""
    from experiments.evaluate import evaluate_run
    from experiments.train import train_run

    cfg = from_dict(cfg_dict)
    rs = RunSpec(*spec)
    out = Path(run_dir)
    try:
        res = train_run(cfg, rs, out, cache_dir=cache_dir, resume=True)
        if res.interrupted:
            return 130
        ev = evaluate_run(out, cfg, cache_dir)
        ev["seed"] = cfg.train.seed
        ev["train"] = {
            "seconds": round(res.seconds, 1),
            "tokens_per_s": round(res.tokens_per_s, 1),
            "final_loss": res.final_loss,
            "val_loss": res.val_loss,
        }
        (out / "eval.json").write_text(json.dumps(ev, indent=2) + "\n", encoding="utf-8")
    except Exception as exc:  # recorded per run so one failure does not lose the others
        (out / "error.txt").write_text(f"{type(exc).__name__}: {exc}\n", encoding="utf-8")
        print(f"run {rs.name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def _worker_main(
    cfg_dict: dict[str, Any], spec: tuple, run_dir: str, cache_dir: str | None
) -> None:
    """A worker process's target: `_run_one`'s code becomes the exit status the pool reads."""
    sys.exit(_run_one(cfg_dict, spec, run_dir, cache_dir))


def is_report_dir(path: Path) -> bool:
    """Whether ``path`` looks like a report directory written by bipe (``runs/`` beside
    ``results.json``), so a command may resume it."""
    return (path / "runs").is_dir() and (path / "results.json").is_file()


def check_workers(workers: Any) -> int:
    """``workers`` as a positive int, or ExperimentError (0 or less would never start a run)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ExperimentError(f"workers must be a positive integer, got {workers!r}")
    return workers


def _done(run_dir: Path, cfg: ExperimentConfig) -> dict[str, Any] | None:
    path = run_dir / "eval.json"
    if not path.is_file():
        return None
    try:
        ev = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    lengths = [k * cfg.train.seq_len for k in cfg.eval.multipliers]
    same = (
        ev.get("step") == cfg.train.steps
        and ev.get("split") == cfg.eval.split
        and ev.get("eval_tokens") == cfg.eval.eval_tokens
        and [r["length"] for r in ev.get("results", [])] == lengths
    )
    return ev if same else None  # a changed evaluation setting re-evaluates the trained model


def prepare_all(cfg: ExperimentConfig, cache_dir: str | Path | None) -> None:
    """Train tokenizers and compute cached streams once, before workers start (no races)."""
    from experiments.data import prepare_data

    seen = set()
    for spec in run_specs(cfg):
        key = (spec.corpus, spec.segmenter)
        if key not in seen:
            seen.add(key)
            prepare_data(cfg, spec, cache_dir, splits=("train", "val", cfg.eval.split))


def _job(cfg: ExperimentConfig, spec: RunSpec, out: Path, cache_dir: str | Path | None) -> Job:
    """The pool job that trains and evaluates one run (SIGTERM: it checkpoints after its step)."""
    run_dir = out / "runs" / spec.name
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg_dict = cfg.to_dict()
    cfg_dict["train"]["seed"] = run_seed(cfg, spec)
    args = (
        cfg_dict,
        (spec.corpus, spec.scheme, spec.segmenter),
        str(run_dir),
        str(cache_dir) if cache_dir else None,
    )
    return Job(spec.name, _worker_main, args)


def _run_pool(
    cfg: ExperimentConfig,
    pending: list[RunSpec],
    out: Path,
    cache_dir: str | Path | None,
    workers: int,
    log: Any,
) -> bool:
    """Run ``pending`` at most ``workers`` at a time; True when a signal stopped the pool."""
    return run_jobs([_job(cfg, spec, out, cache_dir) for spec in pending], workers, log)


def _collect(
    cfg: ExperimentConfig, specs: list[RunSpec], out: Path, result: ExperimentResult
) -> None:
    """Each run's evaluation, or why it has none."""
    for spec in specs:
        ev = _done(out / "runs" / spec.name, cfg)
        if ev is not None:
            ev.setdefault("seed", run_seed(cfg, spec))  # eval.json files from before issue 12
            result.evals.append(ev)
        else:
            err = out / "runs" / spec.name / "error.txt"
            result.failed[spec.name] = (
                err.read_text().strip() if err.exists() else "not finished (interrupted?)"
            )


def run_grid(
    cfg: ExperimentConfig,
    out: Path,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    log=print,
) -> ExperimentResult:
    """Train and evaluate every run of ``cfg`` under ``out/runs``; at most ``workers`` at once."""
    t0 = time.perf_counter()
    workers = check_workers(cfg.workers if workers is None else workers)
    out.mkdir(parents=True, exist_ok=True)
    prepare_all(cfg, cache_dir)
    specs = run_specs(cfg)
    pending = [s for s in specs if _done(out / "runs" / s.name, cfg) is None]
    log(f"{len(specs)} runs ({len(specs) - len(pending)} already done), {workers} at a time")
    result = ExperimentResult(out, [])
    result.interrupted = _run_pool(cfg, pending, out, cache_dir, workers, log)
    _collect(cfg, specs, out, result)
    result.seconds = time.perf_counter() - t0
    return result


def run_experiment(
    cfg: ExperimentConfig,
    out: str | Path,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    command: str | None = None,
    segstats: bool = True,
    extra_sections: list[tuple[str, str]] | None = None,
    log=print,
) -> ExperimentResult:
    """The whole experiment: grid of runs, segmentation statistics, JSON/CSV/PNG/Markdown report."""
    from experiments import report

    out = Path(out)
    res = run_grid(cfg, out, cache_dir, workers, log)
    sections = list(extra_sections or [])
    stats_rows = []
    if segstats:
        stats_rows = segmentation_stats(cfg, cache_dir)
        if stats_rows:
            from experiments.segstats import format_stats

            sections.append(("Segment lengths by document length", format_stats(stats_rows)))
            report.plot_segment_hist(out, stats_rows)
    if res.failed:
        sections.append(
            (
                "Runs without results",
                "\n".join(f"- {k}: {v}" for k, v in sorted(res.failed.items())),
            )
        )
    report.write_results(
        out,
        res.evals,
        {
            "config": cfg.to_dict(),
            "commit": report.git_commit(),
            "machine": report.machine_info(),
            "segment_stats": [s.to_dict() for s in stats_rows],
            "failed": res.failed,
            "interrupted": res.interrupted,
        },
    )
    if res.evals:
        report.plot_ppl(out, res.evals)
    report.write_summary(
        out,
        f"BiPE experiment: {cfg.name}",
        cfg.to_dict(),
        res.evals,
        sections,
        command,
        res.seconds,
    )
    return res


def segmentation_stats(cfg: ExperimentConfig, cache_dir: str | Path | None) -> list[Any]:
    """Segment statistics for every corpus x segmenter of the config (on the train split)."""
    from experiments.data import corpus_tokens
    from experiments.segstats import segment_stats

    rows = []
    d = cfg.data
    for corpus_name in d.corpora:
        tokens = corpus_tokens(cfg, corpus_name, cache_dir)
        for seg in cfg.segmenters:
            try:
                rows.append(
                    segment_stats(
                        tokens,
                        seg,
                        "train",
                        separator_chars=d.separator_chars,
                        boundary=d.align_boundary,
                    )
                )
            except ExperimentError:
                raise
            except Exception as exc:  # a segmenter without its optional dependency
                print(
                    f"segment statistics for {seg} on {corpus_name} skipped: {exc}", file=sys.stderr
                )
    return rows
