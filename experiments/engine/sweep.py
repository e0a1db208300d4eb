"""One sweep engine for every grid: a task's cells, each in its own directory under the sweep's
output, run by a local pool of worker processes or as submitit jobs (Slurm, or submitit's local
executor), skipped when done, resumed when interrupted, recomputed when their settings changed.

A cell is done when its result file exists and carries the fingerprint of the settings that
change its numbers (`experiments.engine.config.fingerprint`): a setting such as the worker count
or the log interval never reruns a cell, any setting that changes a number always does. A cell
that fails writes ``error.txt`` beside its result and the others go on; Ctrl-C or SIGTERM stops the
pool, each cell saving what it can (`CellInterrupted`).

A sweep directory holds one configuration: ``sweep.json`` records the fingerprint and the number
settings it was made with, and a sweep (or a report) with other number settings in the same
directory is refused (`SweepConfigError`), so that no report mixes or hides results of two
configurations. A grid that lists one cell twice is refused (`DuplicateCellError`): the same
numbers counted twice would pass for two seeds. `SweepResult.status` is the exit status a
command returns: 1 when any cell failed or is missing, 130 when interrupted.

A task (the language-model grid, the synthetic Bi-NFA sweep, ...) plugs in through the `Task`
protocol and registers in the task registry ``bipe.tasks``.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from experiments.atomic import atomic_text
from experiments.engine.config import fingerprint, number_settings
from experiments.errors import ExperimentError
from experiments.registry import Registry

EXECUTORS = ("local", "slurm", "submitit-local")
ERROR_NAME = "error.txt"
SWEEP_NAME = "sweep.json"  # the configuration a sweep directory belongs to
Log = Callable[[str], Any]


class CellInterrupted(ExperimentError):
    """A signal stopped a cell after it saved what it could; the same sweep resumes it."""


class SweepConfigError(ExperimentError):
    """A sweep directory holds results made with other number settings than the ones given."""


class DuplicateCellError(ExperimentError):
    """A grid lists the same cell twice, which would count one result as two."""


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
    check_unique_cells(task, cells)  # a job, too, must not count one cell twice
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
            atomic_text(where / ERROR_NAME, f"{type(exc).__name__}: {exc}\n")
            print(f"{task.unit} {cell.name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed += 1
            continue
        record = {**result, "fingerprint": fingerprint(cfg)}
        atomic_text(where / task.result_name, json.dumps(record, indent=2) + "\n")
        (where / ERROR_NAME).unlink(missing_ok=True)
    return 1 if failed else 0


def check_unique_cells(task: Task, cells: list[Any]) -> None:
    """Refuse a grid that lists one cell twice (the same name is the same directory and numbers)."""
    seen: set[str] = set()
    for cell in cells:
        if cell.name in seen:
            raise DuplicateCellError(
                f"the grid lists {task.unit} {cell.name!r} twice (a repeated scheme, corpus, "
                "segmenter, width or seed); one result counted twice would pass for two, so "
                "remove the duplicate"
            )
        seen.add(cell.name)


def grid_cells(task: Task, cfg: Any) -> list[Any]:
    """The cells of ``task``'s grid, refused when empty or when one is listed twice."""
    cells = list(task.cells(cfg))
    if not cells:
        # nothing to compute is no result: a report of zero cells must not pass for success
        raise ExperimentError(f"the {task.name} grid of this configuration has no {task.unit}s")
    check_unique_cells(task, cells)
    return cells


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        out.update(_flat(v, key + ".") if isinstance(v, dict) else {key: v})
    return out


def check_sweep_config(task: Task, cfg: Any, out: str | Path) -> None:
    """Refuse ``out`` when its ``sweep.json`` records other number settings than ``cfg``'s."""
    try:
        old = json.loads((Path(out) / SWEEP_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        raise SweepConfigError(f"{Path(out) / SWEEP_NAME} cannot be read ({exc})") from None
    if old.get("fingerprint") == fingerprint(cfg):
        return
    was = _flat(old.get("settings") or {})
    now = _flat(json.loads(json.dumps(number_settings(cfg), default=str)))
    # a task may name sections whose change only re-evaluates its cells (the LM's "eval"): those
    # cells are recomputed under the new fingerprint, so no old number survives either way
    free = tuple(f"{section}." for section in getattr(task, "reevaluable", ()))
    diff = [
        f"{k}: {was.get(k)!r} -> {now.get(k)!r}"
        for k in sorted(set(was) | set(now))
        if was.get(k) != now.get(k) and not k.startswith(free)
    ]
    if not diff:
        return
    shown = "; ".join(diff[:6]) + (f"; and {len(diff) - 6} more" if len(diff) > 6 else "")
    raise SweepConfigError(
        f"{out} holds a {old.get('task', task.name)} sweep made with other settings "
        f"({shown or 'a different configuration'}); "
        "its results would be reported under this configuration, so choose another output "
        "directory (or delete this one to start it afresh)"
    )


def _record_sweep_config(task: Task, cfg: Any, out: Path) -> None:
    settings = json.loads(json.dumps(number_settings(cfg), default=str))
    record = {"task": task.name, "fingerprint": fingerprint(cfg), "settings": settings}
    atomic_text(out / SWEEP_NAME, json.dumps(record, indent=2) + "\n")


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

    @property
    def status(self) -> int:
        """The exit status of the command that ran the sweep: 130 interrupted, 1 any cell failed."""
        if self.interrupted:
            return 130
        return 1 if self.failed else 0


def collect(task: Task, cfg: Any, out: str | Path) -> SweepResult:
    """The finished results of every cell under ``out`` and why the others have none."""
    check_sweep_config(task, cfg, out)
    res = SweepResult(Path(out), [])
    cells = grid_cells(task, cfg)
    for cell in cells:
        r = cell_result(task, cfg, out, cell)
        if r is not None:
            res.results.append(r)
        else:
            err = cell_dir(task, out, cell) / ERROR_NAME
            res.failed[cell.name] = err.read_text().strip() if err.exists() else "not finished"
    return res


def _record_lost_cells(
    task: Task, cfg: Any, out: Path, groups: list[tuple[str, list[Any]]], exits: dict[str, int]
) -> None:
    """Give each cell whose worker died before it (killed, out of memory, a crash in C) an
    error.txt that says so, so that the report names why it has no result."""
    for name, group in groups:
        code = exits.get(name, 0)
        if code == 0:
            continue
        how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
        for cell in group:
            where = cell_dir(task, out, cell)
            if cell_result(task, cfg, out, cell) is None and not (where / ERROR_NAME).exists():
                where.mkdir(parents=True, exist_ok=True)
                atomic_text(
                    where / ERROR_NAME,
                    f"WorkerDied: job {name} ended ({how}) before this {task.unit} finished; "
                    "it may have run out of memory (see the log)\n",
                )


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
    cells = grid_cells(task, cfg)
    check_sweep_config(task, cfg, out)
    out.mkdir(parents=True, exist_ok=True)
    _record_sweep_config(task, cfg, out)
    task.prepare(cfg, cells, options)
    pending = [c for c in cells if cell_result(task, cfg, out, c) is None]
    log(
        f"{len(cells)} {task.unit}s ({len(cells) - len(pending)} already done), "
        f"{workers} at a time, executor {executor}"
    )
    groups = task.jobs(pending)
    jobs = [(name, (task, cfg, group, str(out), options)) for name, group in groups]
    exits: dict[str, int] = {}
    if executor == "local":
        from experiments.engine.pool import Job, run_jobs

        interrupted = run_jobs([Job(n, _worker_main, a) for n, a in jobs], workers, log, exits)
    else:
        from experiments.engine.submit import submit_and_wait

        folder = out / "submitit"
        interrupted = submit_and_wait(
            run_cells, jobs, folder, executor, executor_options or {}, log, exits
        )
    if not interrupted:
        _record_lost_cells(task, cfg, out, groups, exits)
    res = collect(task, cfg, out)
    res.interrupted, res.ran = interrupted, len(pending)
    res.seconds = time.perf_counter() - t0
    return res
