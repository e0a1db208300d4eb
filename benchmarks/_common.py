"""Plumbing shared by the benchmark scripts: the script-folder path fix, best-of timing, --quick.

Importing this module drops ``benchmarks/`` from ``sys.path``: scripts named ``automata.py`` and
``segmenters.py`` would otherwise shadow the packages of the same names. Import it before those.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import sysconfig
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


TEST_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"}


def kjv_text() -> str | None:
    """The KJV dump from the `bible` program, or None when bible-kjv is not installed.

    ``bible -l 100000 "gen1:1-rev22:21" </dev/null`` (Debian package bible-kjv), 4.30 MB.
    """
    if shutil.which("bible") is None:
        return None
    out = subprocess.run(
        ["bible", "-l", "100000", "gen1:1-rev22:21"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    return out.stdout.decode("utf-8", "replace") if out.returncode == 0 and out.stdout else None


def stdlib_files(limit: int | None = None) -> list[str]:
    """The CPython standard library's ``.py`` sources without tests, in path order (UTF-8 only)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    parts, size = [], 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in TEST_DIRS)
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            try:
                parts.append((Path(dirpath) / name).read_text("utf-8"))
            except (UnicodeDecodeError, OSError):
                continue
            size += len(parts[-1])
            if limit and size >= limit:
                return parts
    return parts
