"""The language-model grid as a task of the sweep engine: every run trained and evaluated (several
side by side), then the report: results, segmentation statistics, plots, summary.

Each run lives in ``<out>/runs/<name>/`` (checkpoint, metrics.jsonl, eval.json), so running the
same command again resumes interrupted runs, skips finished ones and re-evaluates (or refuses to
continue, naming the change) those whose settings changed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.engine.checkpoints import CHECKPOINT_NAME, read_header
from experiments.engine.sweep import (
    TASKS,
    CellInterrupted,
    run_sweep,
)
from experiments.errors import ExperimentError
from experiments.lm.config import TASK, ExperimentConfig, RunSpec, run_seed, run_specs


@dataclass(frozen=True)
class LanguageModelTask:
    """Train one run of the grid to its step budget, then measure perplexity against length."""

    name: str = TASK
    unit: str = "run"
    folder: str = "runs"
    result_name: str = "eval.json"
    # new evaluation settings re-evaluate the trained runs of a report directory in place
    reevaluable: tuple[str, ...] = ("eval",)

    def cells(self, cfg: ExperimentConfig) -> list[RunSpec]:
        """Every run of the grid (`run_specs`)."""
        return run_specs(cfg)

    def prepare(self, cfg: ExperimentConfig, cells: list[RunSpec], options: dict) -> None:
        """Train tokenizers and compute cached streams once, before workers start (no races);
        then check that the report's trained runs were trained on this very data."""
        from experiments.lm.data import prepare_data

        seen: dict[tuple[str, str | None], Any] = {}
        for spec in cells:
            if (spec.corpus, spec.segmenter) not in seen:
                splits = ("train", "val", cfg.eval.split)
                data = prepare_data(cfg, spec, options.get("cache_dir"), splits=splits)
                seen[(spec.corpus, spec.segmenter)] = data.tokens
        if options.get("out"):
            out = Path(options["out"])
            adopt_legacy_dirs(cfg, cells, out)
            check_runs_data(cfg, cells, out, seen)

    def jobs(self, cells: list[RunSpec]) -> list[tuple[str, list[RunSpec]]]:
        """One process per run: a run's SIGTERM checkpoint concerns it alone."""
        return [(spec.name, [spec]) for spec in cells]

    def run_cell(
        self, cfg: ExperimentConfig, spec: RunSpec, run_dir: Path, options: dict, shared: dict
    ) -> dict[str, Any]:
        """Train (or resume) the run, then evaluate it: the eval.json record."""
        from experiments.lm.evaluate import evaluate_run
        from experiments.lm.train import train_run

        cache_dir = options.get("cache_dir")
        res = train_run(cfg, spec, run_dir, cache_dir=cache_dir, resume=True)
        if res.interrupted:
            raise CellInterrupted(f"{spec.name} stopped at step {res.step}")
        ev = evaluate_run(run_dir, cfg, cache_dir)
        ev["seed"] = run_seed(cfg, spec)
        ev["train"] = {
            "seconds": round(res.seconds, 1),
            "tokens_per_s": round(res.tokens_per_s, 1),
            "final_loss": res.final_loss,
            "val_loss": res.val_loss,
        }
        return ev


LM_TASK = TASKS.register(TASK, LanguageModelTask())


def check_runs_data(
    cfg: ExperimentConfig, cells: list[RunSpec], out: Path, tokens: dict[tuple, Any]
) -> None:
    """Refuse a report directory whose trained runs were trained on other data than the cache
    gives now (an edited corpus, another tokenizer): their finished results would otherwise be
    reported as this data's numbers. Runs made before the record are not checked."""
    from experiments.lm.data import DataChangedError, data_changes, data_fingerprints

    changed = []
    for spec in cells:
        ckpt = out / LM_TASK.folder / spec.name / CHECKPOINT_NAME
        try:
            recorded = read_header(ckpt).get("info", {}).get("data")
        except ExperimentError:  # none yet, or unreadable: the run itself trains or fails
            continue
        now = data_fingerprints(cfg, spec, tokens[(spec.corpus, spec.segmenter)])
        if data_changes(recorded, now):
            changed.append(f"{spec.name} ({'; '.join(data_changes(recorded, now))})")
    if changed:
        raise DataChangedError(
            f"{out} holds runs trained on other data than the cache gives now: "
            f"{'; '.join(changed[:4])}{'; ...' if len(changed) > 4 else ''}. The corpus, its "
            "tokenizer or its positions changed, so their numbers belong to other data: choose "
            "another --out (or restore the data)"
        )


def legacy_name(spec: RunSpec) -> str:
    """The run directory name before names kept whole specs apart (lossy; a grid's first seed
    unsuffixed): what `adopt_legacy_dirs` looks for."""
    parts = [spec.corpus, spec.scheme] + ([spec.segmenter] if spec.segmenter else [])
    parts += [f"s{spec.seed}"] if spec.seed is not None else []
    return "-".join("".join(c if c.isalnum() or c in "_." else "_" for c in p) for p in parts)


def adopt_legacy_dirs(cfg: ExperimentConfig, cells: list[RunSpec], out: Path) -> None:
    """Rename a run directory of an older report to its current name, so that the report resumes,
    when its checkpoint says it is exactly this run (spec and seed); others are left alone."""
    runs = out / LM_TASK.folder
    for spec in cells:
        old, new = runs / legacy_name(spec), runs / spec.name
        if old == new or new.exists() or not old.is_dir():
            continue
        try:
            info = read_header(old / CHECKPOINT_NAME).get("info", {})
        except ExperimentError:
            continue
        want = {"corpus": spec.corpus, "scheme": spec.scheme, "segmenter": spec.segmenter}
        if info.get("spec") == want and info.get("seed") == run_seed(cfg, spec):
            old.rename(new)


@dataclass
class ExperimentResult:
    """What `run_grid` and `run_experiment` produced."""

    out: Path
    evals: list[dict[str, Any]]
    interrupted: bool = False
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def status(self) -> int:
        """The exit status of the command: 130 interrupted, 1 when any run failed, else 0."""
        if self.interrupted:
            return 130
        return 1 if self.failed else 0


def run_grid(
    cfg: ExperimentConfig,
    out: Path,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    log=print,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
) -> ExperimentResult:
    """Train and evaluate every run of ``cfg`` under ``out/runs``; at most ``workers`` at once."""
    options = {"cache_dir": str(cache_dir) if cache_dir else None, "out": str(out)}
    res = run_sweep(
        LM_TASK,
        cfg,
        out,
        workers=cfg.workers if workers is None else workers,
        executor=executor,
        executor_options=executor_options,
        options=options,
        log=log,
    )
    return ExperimentResult(Path(out), res.results, res.interrupted, res.failed, res.seconds)


def run_experiment(
    cfg: ExperimentConfig,
    out: str | Path,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    command: str | None = None,
    segstats: bool = True,
    extra_sections: list[tuple[str, str]] | None = None,
    log=print,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
) -> ExperimentResult:
    """The whole experiment: grid of runs, segmentation statistics, JSON/CSV/PNG/Markdown report."""
    from experiments.analysis import report, results

    out = Path(out)
    res = run_grid(cfg, out, cache_dir, workers, log, executor, executor_options)
    sections = list(extra_sections or [])
    stats_rows = []
    if segstats:
        stats_rows = segmentation_stats(cfg, cache_dir)
        if stats_rows:
            from experiments.analysis.segstats import format_stats

            sections.append(("Segment lengths by document length", format_stats(stats_rows)))
            report.plot_segment_hist(out, stats_rows)
    if res.failed:
        failures = "\n".join(f"- {k}: {v}" for k, v in sorted(res.failed.items()))
        sections.append(("Runs without results", failures))
    results.write_results(
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
    title = f"BiPE experiment: {cfg.name}"
    report.write_summary(out, title, cfg.to_dict(), res.evals, sections, command, res.seconds)
    return res


def segmentation_stats(cfg: ExperimentConfig, cache_dir: str | Path | None) -> list[Any]:
    """Segment statistics for every corpus x segmenter of the config (on the train split)."""
    from experiments.analysis.segstats import segment_stats
    from experiments.lm.data import corpus_tokens

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
