"""Cells as cluster jobs through submitit: Slurm (``--executor slurm``) or submitit's local executor
(``submitit-local``, the stand-in CI tests with). No scheduler of our own beyond the local pool
(`experiments.engine.pool`); `experiments.engine.sweep` picks between the two.

submitit is an optional dependency (the ``slurm`` extra), imported only here and only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from experiments.errors import ExperimentError, MissingDependencyError

# submitit's name of the cluster behind each executor of experiments.engine.sweep.EXECUTORS
CLUSTERS = {"slurm": "slurm", "submitit-local": "local"}


def _submitit() -> Any:
    try:
        import submitit
    except ImportError as exc:
        raise MissingDependencyError(
            'this executor needs submitit: pip install "bipe[slurm]" (or pip install submitit)'
        ) from exc
    return submitit


def submit_and_wait(
    target: Callable[..., int],
    jobs: Sequence[tuple[str, tuple[Any, ...]]],
    folder: Path,
    executor: str,
    options: dict[str, Any],
    log: Callable[[str], Any] = print,
    exits: dict[str, int] | None = None,
) -> bool:
    """Submit ``target(*args)`` for every (name, args) as one job array and wait for all of them.

    ``options`` go to ``AutoExecutor.update_parameters`` (e.g. slurm_partition, timeout_min,
    cpus_per_task). Returns True when Ctrl-C stopped the wait; unfinished jobs are then cancelled,
    finished cells keep their results. ``exits``, when given, receives 1 for each job that crashed
    (its cells are then reported with the reason).
    """
    if not jobs:
        return False
    submitit = _submitit()
    ex = submitit.AutoExecutor(folder=str(folder), cluster=CLUSTERS[executor])
    params = {"timeout_min": 60, "cpus_per_task": 1, "name": "bipe", **options}
    try:
        ex.update_parameters(**params)
    except (TypeError, ValueError) as exc:
        raise ExperimentError(f"bad executor option for {executor}: {exc}") from exc
    with ex.batch():
        handles = [ex.submit(target, *args) for _, args in jobs]
    log(f"submitted {len(handles)} jobs to {executor} (logs in {folder})")
    try:
        for (name, _), job in zip(jobs, handles):
            try:
                code = job.result()
            except Exception as exc:  # a crashed job: its cells have no result and are reported
                log(f"job {job.job_id} ({name}) failed: {type(exc).__name__}: {exc}")
                if exits is not None:
                    exits[name] = 1
                continue
            log(f"finished {name} (job {job.job_id}, result {code})")
    except KeyboardInterrupt:
        for job in handles:
            if not job.done():
                job.cancel(check=False)
        return True
    return False
