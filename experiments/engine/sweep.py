"""One sweep engine for every grid: a task's cells, each in its own directory under the sweep's
output, run by a local pool of worker processes or as submitit jobs (Slurm, or submitit's local
executor), skipped when done, resumed when interrupted, recomputed when their settings changed.

A cell is done when its result file exists and carries the fingerprint of the settings that
change its numbers (`experiments.engine.config.fingerprint`): a setting such as the worker count
or the log interval never reruns a cell, any setting that changes a number always does. A cell
that fails writes ``error.txt`` beside its result and the others go on; Ctrl-C or SIGTERM stops the
pool, each cell saving what it can (`CellInterrupted`).

A task (the language-model grid, the synthetic Bi-NFA sweep, ...) plugs in through the `Task`
protocol and registers in the task registry ``bipe.tasks``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from experiments.engine.config import fingerprint
from experiments.errors import ExperimentError
from experiments.registry import Registry

EXECUTORS = ("local", "slurm", "submitit-local")
ERROR_NAME = "error.txt"
Log = Callable[[str], Any]


class CellInterrupted(ExperimentError):
    """A signal stopped a cell after it saved what it could; the same sweep resumes it."""


class Task(Protocol):
    """What a task gives the sweep engine: its cells, how to run one, where results live."""

    name: str  # registry name, e.g. "lm"
    unit: str  # what a cell is called in logs: "run", "cell"
    folder: str  # the sweep directory's folder of cell directories: "runs", "cells"
    result_name: str  # each cell directory's result file: "eval.json", "result.json"

    def cells(self, cfg: Any) -> list[Any]:
        """Every cell of the grid, in the order they should run (each has a ``name``)."""
        ...

    def prepare(self, cfg: Any, cells: list[Any], options: dict[str, Any]) -> None:
        """Work done once in the parent before any worker starts (shared caches)."""
        ...

    def jobs(self, cells: list[Any]) -> list[tuple[str, list[Any]]]:
        """Pending cells grouped into worker jobs: (job name, cells run in turn by one worker)."""
        ...

    def run_cell(
        self, cfg: Any, cell: Any, cell_dir: Path, options: dict[str, Any], shared: dict[str, Any]
    ) -> dict[str, Any]:
        """Compute one cell and return its JSON-ready result (``shared``: one job's cache)."""
        ...


TASKS = Registry("tasks", "task")


def check_executor(executor: str) -> str:
    """``executor`` if the engine knows it, else an ExperimentError that names the choices."""
    if executor not in EXECUTORS:
        raise ExperimentError(
            f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}"
        )
    return executor


def check_workers(workers: Any) -> int:
    """``workers`` as a positive int, or ExperimentError (0 or less would never start a cell)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ExperimentError(f"workers must be a positive integer, got {workers!r}")
    return workers


def cell_dir(task: Task, out: str | Path, cell: Any) -> Path:
    """The directory of one cell of a sweep written to ``out``."""
    return Path(out) / task.folder / cell.name


def cell_result(task: Task, cfg: Any, out: str | Path, cell: Any) -> dict[str, Any] | None:
    """The finished result of a cell made with the current settings, or None."""
    try:
        res = json.loads((cell_dir(task, out, cell) / task.result_name).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return res if isinstance(res, dict) and res.get("fingerprint") == fingerprint(cfg) else None


def run_cells(
    task: Task, cfg: Any, cells: list[Any], out: str | Path, options: dict | None = None
) -> int:
    """Compute ``cells`` in turn (a worker's job); each result is written atomically.

    Returns 0 when every cell is done, 1 when some failed (each has its error.txt), 130 when a
    signal stopped a cell; a finished cell is skipped, so a stopped job picks up where it was.
    """
    failed, shared = 0, {}
    for cell in cells:
        if cell_result(task, cfg, out, cell) is not None:
            continue
        where = cell_dir(task, out, cell)
        where.mkdir(parents=True, exist_ok=True)
        try:
            result = task.run_cell(cfg, cell, where, options or {}, shared)
        except CellInterrupted:
            return 130
        except Exception as exc:  # recorded per cell so one failure does not lose the others
            (where / ERROR_NAME).write_text(f"{type(exc).__name__}: {exc}\n", encoding="utf-8")
            print(f"{task.unit} {cell.name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed += 1
            continue
        tmp = where / (task.result_name + ".tmp")
        record = {**result, "fingerprint": fingerprint(cfg)}
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, where / task.result_name)
        (where / ERROR_NAME).unlink(missing_ok=True)
    return 1 if failed else 0


def _worker_main(task: Task, cfg: Any, cells: list[Any], out: str, options: dict) -> None:
    """A local worker process's target: `run_cells`' code becomes the exit status the pool reads."""
    # Ctrl-C reaches the whole process group: the pool decides (it sends SIGTERM), not the signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(run_cells(task, cfg, cells, out, options))


@dataclass
class SweepResult:
    """What a sweep produced: the results of its finished cells and why the others have none."""

    out: Path
    results: list[dict[str, Any]]
    failed: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    seconds: float = 0.0
    ran: int = 0  # cells this invocation had to run (0: every cell was already done)


def collect(task: Task, cfg: Any, out: str | Path) -> SweepResult:
    """The finished results of every cell under ``out`` and why the others have none."""
    res = SweepResult(Path(out), [])
    for cell in task.cells(cfg):
        r = cell_result(task, cfg, out, cell)
        if r is not None:
            res.results.append(r)
        else:
            err = cell_dir(task, out, cell) / ERROR_NAME
            res.failed[cell.name] = err.read_text().strip() if err.exists() else "not finished"
    return res


def run_sweep(
    task: Task,
    cfg: Any,
    out: str | Path,
    *,
    workers: int = 1,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    log: Log = print,
) -> SweepResult:
    """Run every unfinished cell of ``task``'s grid under ``out``, then collect them all."""
    check_executor(executor)
    check_workers(workers)
    t0 = time.perf_counter()
    out, options = Path(out), dict(options or {})
    out.mkdir(parents=True, exist_ok=True)
    cells = task.cells(cfg)
    task.prepare(cfg, cells, options)
    pending = [c for c in cells if cell_result(task, cfg, out, c) is None]
    log(
        f"{len(cells)} {task.unit}s ({len(cells) - len(pending)} already done), "
        f"{workers} at a time, executor {executor}"
    )
    jobs = [(name, (task, cfg, group, str(out), options)) for name, group in task.jobs(pending)]
    if executor == "local":
        from experiments.engine.pool import Job, run_jobs

        interrupted = run_jobs([Job(n, _worker_main, a) for n, a in jobs], workers, log)
    else:
        from experiments.engine.submit import submit_and_wait

        folder = out / "submitit"
        interrupted = submit_and_wait(
            run_cells, jobs, folder, executor, executor_options or {}, log
        )
    res = collect(task, cfg, out)
    res.interrupted, res.ran = interrupted, len(pending)
    res.seconds = time.perf_counter() - t0
    return res
