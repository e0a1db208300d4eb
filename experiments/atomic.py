"""Writing a file whole or not at all: every report, result and record goes through a temporary
file in the same directory and a rename, so a reader (or a later run) never sees half a file, even
after a full disk or a kill."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(target: str | Path, write: Callable[[str], object], suffix: str = ".tmp") -> None:
    """Write ``target`` through ``write(tmp_path)`` and a rename: never half a file."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_text(target: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` through a temporary file and a rename."""
    atomic_write(target, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def text_digest(text: str) -> str:
    """The SHA-256 of ``text``'s UTF-8 bytes: the checksum a manifest records for a text file."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
