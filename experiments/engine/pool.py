"""Local worker processes: run jobs at most `workers` at a time, stopping cleanly on Ctrl-C/SIGTERM.

One pool for every grid (`bipe run`'s runs, `bipe synthetic`'s cells). A job is a picklable
module-level function and its arguments, run in a spawned process; on a signal, running jobs are
sent SIGTERM (each job decides what to save) and no new job starts. A worker never outlives the
pool: on Linux the kernel sends it SIGTERM when its parent dies, even by SIGKILL (prctl
PR_SET_PDEATHSIG), and a parent that fails terminates its workers before it raises.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import sys
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


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGTERM when the parent exits; exit now if it already has."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover (no libc prctl)
            pass
    if os.getppid() != parent:  # the parent died before the request: nobody will read our work
        os._exit(143)


def _child(parent: int, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """A worker process's entry: bound to its parent's life, then the job."""
    _die_with_parent(parent)
    target(*args)


def run_jobs(
    jobs: Sequence[Job],
    workers: int,
    log: Callable[[str], Any] = print,
    exits: dict[str, int] | None = None,
) -> bool:
    """Run ``jobs`` at most ``workers`` at a time; True when a signal stopped the pool.

    ``exits``, when given, receives each finished job's exit code (negative: the signal that
    killed it), so that the caller can say why a job's cells have no result."""
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
                p = ctx.Process(
                    target=_child, name=job.name, args=(os.getpid(), job.target, job.args)
                )
                p.start()
                live[job.name] = p
                log(f"started {job.name}")
            for name, p in list(live.items()):
                if not p.is_alive():
                    p.join()
                    del live[name]
                    if exits is not None:
                        exits[name] = p.exitcode
                    log(f"{_EXIT_WORDS.get(p.exitcode, 'failed')} {name} (exit {p.exitcode})")
            if stop["sig"] is not None and not live:
                break
            time.sleep(0.2)
    except BaseException:
        for p in live.values():  # the pool itself failed: no worker may go on without it
            if p.is_alive():
                p.terminate()
        raise
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return stop["sig"] is not None
