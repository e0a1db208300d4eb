"""Signs of life for long commands: short status lines on stderr, only when stderr is a terminal
(pipes, files and CI logs stay clean)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def status_printer(stream: TextIO | None = None) -> Callable[[str], None]:
    """A function that prints one status line to ``stream`` (default stderr) if it is a TTY,
    else does nothing."""
    out = stream if stream is not None else sys.stderr
    isatty = getattr(out, "isatty", None)
    if not (callable(isatty) and isatty()):
        return lambda message: None
    start = time.perf_counter()

    def show(message: str) -> None:
        out.write(f"[{time.perf_counter() - start:6.1f} s] {message}\n")
        out.flush()

    return show
