"""The rule that a command never overwrites a user's files: a command claims its output path
before it writes, taking a new or empty directory (or one an earlier bipe command marked as its
own, so that runs resume) and refusing any other unless the user passed ``--overwrite``.

Ownership is the marker file alone. A command that fails gives back what it claimed and did not
write into (`release_claims`, called by `experiments.cli.main`): no marker is left in a user's
folder and no empty directory is left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from experiments.errors import ExperimentError

# Written into every directory a bipe command creates, so that running the same command again may
# resume or refresh it, while a directory holding someone else's files is refused.
OWNER_MARKER = ".bipe-output"
MARKER_TEXT = "written by bipe: the same command may resume or refresh this directory\n"


class OutputExistsError(ExperimentError):
    """An output path holds files that a bipe command did not write (pass --overwrite to replace)."""


class OutputPathError(ExperimentError):
    """An output path cannot be used at all: empty, too long, under a file, not writable."""


@dataclass(frozen=True)
class _Claim:
    """What one claim changed: the marker it wrote (if any), what the directory held before, and
    the highest directory it created (removed again, when empty, if the command fails)."""

    path: Path
    marked: bool
    before: frozenset[str]
    created: Path | None


_CLAIMED: list[_Claim] = []


def _checked(path: str | Path) -> Path:
    """``path`` as a Path, refusing the empty string (``Path("")`` would be the current folder)."""
    if not str(path).strip():
        raise OutputPathError("an empty output path names nothing; give a file or directory")
    return Path(path)


def _first_missing(path: Path) -> Path | None:
    """The highest of ``path`` and its ancestors that does not exist yet (what mkdir creates)."""
    missing = None
    for p in [path, *path.parents]:
        if p.exists():
            break
        missing = p
    return missing


def _os_error(path: Path, exc: OSError) -> OutputPathError:
    """A typed error naming ``path`` for an OSError (a name too long, no permission, a full disk)."""
    shown = str(path) if len(str(path)) <= 120 else str(path)[:117] + "..."
    return OutputPathError(f"cannot use output path {shown}: {exc.strerror or exc}")


def claim_dir(
    path: str | Path,
    overwrite: bool = False,
    ours: Callable[[Path], bool] | None = None,
) -> Path:
    """Create ``path`` for a bipe command's output, or reuse one that bipe marked before.

    A missing or empty directory is taken and gets ``OWNER_MARKER``; one holding the marker is
    reused so runs resume; any other directory raises OutputExistsError unless ``overwrite``.
    Ownership is the marker alone: ``ours`` is accepted for old callers and IGNORED, since deciding
    from contents (a ``runs/`` folder, a ``results.json``, a ``sizes.csv``) took users' folders.
    """
    del ours
    path = _checked(path)
    try:
        if path.exists() and not path.is_dir():
            raise OutputPathError(f"{path} is a file, not a directory; choose another output path")
        marked = (path / OWNER_MARKER).is_file()
        entries = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
        if entries and not marked and not overwrite:
            shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
            raise OutputExistsError(
                f"{path} already holds files that bipe did not write ({shown}); choose another "
                "output directory or pass --overwrite to write there anyway"
            )
        created = _first_missing(path)
        path.mkdir(parents=True, exist_ok=True)
        if not marked:
            _CLAIMED.append(_Claim(path, True, frozenset(entries), created))
            (path / OWNER_MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    except OSError as exc:
        raise _os_error(path, exc) from None
    return path


def claim_file(path: str | Path, overwrite: bool = False) -> Path:
    """Check that ``path`` may be written: it must not exist unless ``overwrite``."""
    path = _checked(path)
    try:
        if path.is_dir():
            raise OutputPathError(f"{path} is a directory, not a file")
        if path.exists() and not overwrite:
            raise OutputExistsError(
                f"{path} already exists; choose another output file or pass --overwrite to "
                "replace it"
            )
        created = _first_missing(path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(path, exc) from None
    if created is not None:
        _CLAIMED.append(_Claim(path.parent, False, frozenset(), created))
    return path


def release_claims() -> None:
    """Give back what this process claimed and wrote nothing into (a command failed): the marker
    goes, and so do the directories the claim created once they are empty. Where the command wrote
    results, they and the marker stay, so that the same command resumes them."""
    while _CLAIMED:
        claim = _CLAIMED.pop()
        try:
            now = {p.name for p in claim.path.iterdir()}
            if claim.marked and now - claim.before == {OWNER_MARKER}:
                (claim.path / OWNER_MARKER).unlink(missing_ok=True)
            _remove_empty(claim.path, claim.created)
        except OSError:
            pass  # best effort: the command's own error is what the user must see


def _remove_empty(path: Path, top: Path | None) -> None:
    """Remove ``path`` and its ancestors up to ``top`` (the claim created them) while empty."""
    if top is None:
        return
    for p in [path, *path.parents]:
        if any(p.iterdir()):
            return
        p.rmdir()
        if p == top:
            return


def keep_claims() -> None:
    """The command succeeded: its directories keep their markers."""
    _CLAIMED.clear()
