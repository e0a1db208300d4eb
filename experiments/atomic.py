"""Writing a file whole or not at all: every report, result and record goes through a temporary
file in the same directory and a rename, so a reader (or a later run) never sees half a file, even
after a full disk or a kill."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from experiments.errors import ExperimentError


class WriteFailedError(ExperimentError, OSError):
    """A file could not be written (a full disk, no permission); its old content is untouched.

    Also an OSError (same errno), so that callers which turn OSErrors into their own typed
    errors (the token cache) keep doing so."""

    def __init__(self, target: str, errno: int | None, why: str) -> None:
        OSError.__init__(self, errno, why)
        self.target, self.why = target, why
        self.filename = target

    def __str__(self) -> str:
        return (
            f"cannot write {self.target}: {self.why} (the file was left as it was; "
            "free space there or choose another output path)"
        )

    def __reduce__(self) -> tuple:
        return (type(self), (self.target, self.errno, self.why))


def atomic_write(target: str | Path, write: Callable[[str], object], suffix: str = ".tmp") -> None:
    """Write ``target`` through ``write(tmp_path)`` and a rename: never half a file.

    An OSError (a full disk, a read-only folder) becomes `WriteFailedError` naming ``target``,
    with no temporary file left behind."""
    target = Path(target)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
        os.close(fd)
        write(tmp)
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, WriteFailedError):
            raise WriteFailedError(str(target), exc.errno, exc.strerror or str(exc)) from exc
        raise


def atomic_text(target: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` through a temporary file and a rename."""
    atomic_write(target, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def text_digest(text: str) -> str:
    """The SHA-256 of ``text``'s UTF-8 bytes: the checksum a manifest records for a text file."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
