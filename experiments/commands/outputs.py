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


# Directories this process claimed that were new or empty: a command that fails gives them back
# (`release_claims`), so a refused or failed command never leaves a marker in a user's folder.
_CLAIMED: list[tuple[Path, bool, frozenset[str]]] = []


def claim_dir(
    path: str | Path,
    overwrite: bool = False,
    ours: Callable[[Path], bool] | None = None,
) -> Path:
    """Create ``path`` for a bipe command's output, or reuse one that bipe made before.

    A missing or empty directory is taken and gets ``OWNER_MARKER``; one holding the marker is
    reused so runs resume; any other directory raises OutputExistsError unless ``overwrite``.
    Ownership is the marker alone: ``ours`` is accepted for old callers and ignored, since
    deciding from contents (a ``runs/`` folder, a ``results.json``) took users' folders.
    """
    del ours
    path = Path(path)
    try:
        if path.exists() and not path.is_dir():
            raise ExperimentError(f"{path} is a file, not a directory; choose another output path")
        existed = path.is_dir()
        marked = (path / OWNER_MARKER).exists()
        entries = sorted(p.name for p in path.iterdir()) if existed else []
        if entries and not marked and not overwrite:
            shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
            raise OutputExistsError(
                f"{path} already holds files that bipe did not write ({shown}); choose another "
                "output directory or pass --overwrite to write there anyway"
            )
        path.mkdir(parents=True, exist_ok=True)
        if not marked:
            (path / OWNER_MARKER).write_text(
                "written by bipe: the same command may resume or refresh this directory\n",
                encoding="utf-8",
            )
            _CLAIMED.append((path, not existed, frozenset(entries)))
    except OSError as exc:
        raise ExperimentError(
            f"cannot create output directory {path}: {exc.strerror or exc}"
        ) from None
    return path


def release_claims() -> None:
    """Give back the directories this process claimed where it wrote nothing but the marker: the
    marker goes, and so does a directory it created (a refused command leaves no trace). Where it
    wrote results, the marker stays, so that the same command resumes them."""
    while _CLAIMED:
        path, created, before = _CLAIMED.pop()
        marker = path / OWNER_MARKER
        try:
            if {p.name for p in path.iterdir()} - before != {OWNER_MARKER}:
                continue
            marker.unlink()
            if created and not any(path.iterdir()):
                path.rmdir()
        except OSError:
            pass  # best effort: the command's own error is what the user must see


def keep_claims() -> None:
    """The command succeeded: its directories keep their markers."""
    _CLAIMED.clear()


def claim_file(path: str | Path, overwrite: bool = False) -> Path:
    """Check that ``path`` may be written: it must not exist unless ``overwrite``."""
    path = Path(path)
    if not str(path).strip() or path.is_dir():
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
