"""Local worker processes: run jobs at most `workers` at a time, stopping cleanly on Ctrl-C/SIGTERM.

One pool for every grid (`bipe run`'s runs, `bipe synthetic`'s cells). A job is a picklable
module-level function and its arguments, run in a spawned process; on a signal, running jobs are
sent SIGTERM (each job decides what to save) and no new job starts.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# How a job's exit status reads in the log (130 or a signal: stopped, after saving what it could).
_EXIT_WORDS = {0: "finished", 130: "interrupted", -15: "interrupted", -2: "interrupted"}


@dataclass(frozen=True)
class Job:
    """One unit of work: `target(*args)` in its own process, shown in logs as `name`."""

    name: str
    target: Callable[..., Any]
    args: tuple[Any, ...]


def run_jobs(jobs: Sequence[Job], workers: int, log: Callable[[str], Any] = print) -> bool:
    """Run ``jobs`` at most ``workers`` at a time; True when a signal stopped the pool."""
    ctx = mp.get_context("spawn")
    live: dict[str, Any] = {}
    stop: dict[str, int | None] = {"sig": None}

    def on_signal(signum: int, frame: Any) -> None:
        stop["sig"] = signum
        for p in live.values():
            if p.is_alive():
                p.terminate()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        queue = list(jobs)
        while queue or live:
            while queue and len(live) < workers and stop["sig"] is None:
                job = queue.pop(0)
                p = ctx.Process(target=job.target, name=job.name, args=job.args)
                p.start()
                live[job.name] = p
                log(f"started {job.name}")
            for name, p in list(live.items()):
                if not p.is_alive():
                    p.join()
                    del live[name]
                    log(f"{_EXIT_WORDS.get(p.exitcode, 'failed')} {name} (exit {p.exitcode})")
            if stop["sig"] is not None and not live:
                break
            time.sleep(0.2)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return stop["sig"] is not None
