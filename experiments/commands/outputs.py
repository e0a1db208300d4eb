"""The rule that a command never overwrites a user's files: a command claims its output path
before it writes, taking a new or empty directory (or one an earlier bipe command wrote, so that
runs resume) and refusing any other unless the user passed ``--overwrite``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from experiments.errors import ExperimentError

# Written into every directory a bipe command creates, so that running the same command again may
# resume or refresh it, while a directory holding someone else's files is refused.
OWNER_MARKER = ".bipe-output"


class OutputExistsError(ExperimentError):
    """An output path holds files that a bipe command did not write (pass --overwrite to replace)."""


def claim_dir(
    path: str | Path,
    overwrite: bool = False,
    ours: Callable[[Path], bool] | None = None,
) -> Path:
    """Create ``path`` for a bipe command's output, or reuse one that bipe made before.

    An empty or missing directory is taken; one holding ``OWNER_MARKER`` (or for which ``ours``
    says yes: outputs of versions before the marker) is reused so runs resume; any other
    non-empty directory raises OutputExistsError unless ``overwrite``.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ExperimentError(f"{path} is a file, not a directory; choose another output path")
    if path.is_dir() and not overwrite and not (path / OWNER_MARKER).exists():
        entries = sorted(p.name for p in path.iterdir())
        if entries and not (ours is not None and ours(path)):
            shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
            raise OutputExistsError(
                f"{path} already holds files that bipe did not write ({shown}); choose another "
                "output directory or pass --overwrite to replace them"
            )
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / OWNER_MARKER).write_text(
            "written by bipe: the same command may resume or refresh this directory\n",
            encoding="utf-8",
        )
    except OSError as exc:
        raise ExperimentError(f"cannot create output directory {path}: {exc.strerror}") from None
    return path


def claim_file(path: str | Path, overwrite: bool = False) -> Path:
    """Check that ``path`` may be written: it must not exist unless ``overwrite``."""
    path = Path(path)
    if path.is_dir():
        raise ExperimentError(f"{path} is a directory, not a file")
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"{path} already exists; choose another output file or pass --overwrite to replace it"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExperimentError(f"cannot create directory {path.parent}: {exc.strerror}") from None
    return path
