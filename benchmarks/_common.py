"""Plumbing shared by the benchmark scripts: the script-folder path fix, best-of timing, --quick.

Importing this module drops ``benchmarks/`` from ``sys.path``: scripts named ``automata.py`` and
``segmenters.py`` would otherwise shadow the packages of the same names. Import it before those.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path


def drop_script_folder() -> None:
    """Remove this folder from the front of ``sys.path`` so package imports find the packages."""
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        sys.path.pop(0)


drop_script_folder()


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` runs, in seconds (the least disturbed by other processes)."""
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def quick_parser(doc: str | None, quick_help: str) -> argparse.ArgumentParser:
    """An argument parser described by the first line of ``doc``, with a ``--quick`` flag."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser
