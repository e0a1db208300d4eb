"""Shared checks of command-line values: argparse types for numbers, lists and paths, and the rule
that a command never overwrites a user's files.

The argparse types raise `argparse.ArgumentTypeError`, so argparse reports the option by name and
exits with status 2 before any work starts or any file is touched. `claim_dir` and `claim_file`
are called by commands once they know their output path.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from experiments.errors import ExperimentError

# Written into every directory a bipe command creates, so that running the same command again may
# resume or refresh it, while a directory holding someone else's files is refused.
OWNER_MARKER = ".bipe-output"


class OutputExistsError(ExperimentError):
    """An output path holds files that a bipe command did not write (pass --overwrite to replace)."""


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low``."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    convert.__name__ = f"integer >= {low}"  # argparse names the type in its messages
    return convert


positive_int = int_at_least(1)
nonneg_int = int_at_least(0)


def int_list(text: str, low: int | None = None) -> list[int]:
    """Parse '1,2,3' or '1-4' (or a mix) into a list of ints, each >= ``low`` when given."""
    out: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part.strip("-"):
                lo, hi = part.split("-", 1)
                out.extend(range(int(lo), int(hi) + 1))
            elif part:
                out.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers like '1,2,3' or '1-4', got {text!r}"
        ) from None
    if not out:
        raise argparse.ArgumentTypeError(f"no integers in {text!r}")
    if low is not None and min(out) < low:
        raise argparse.ArgumentTypeError(
            f"every value must be >= {low}, got {min(out)} in {text!r}"
        )
    return out


def int_list_at_least(low: int) -> Callable[[str], list[int]]:
    """An argparse type: `int_list` whose values are all >= ``low``."""

    def convert(text: str) -> list[int]:
        return int_list(text, low)

    convert.__name__ = f"list of integers >= {low}"
    return convert


def int_range_at_least(low: int) -> Callable[[str], tuple[int, int]]:
    """An argparse type: '4' or '1-8' as an inclusive (min, max) pair, both >= ``low``."""

    def convert(text: str) -> tuple[int, int]:
        values = int_list(text, low)
        return (min(values), max(values))

    convert.__name__ = f"range of integers >= {low}"
    return convert


def _blocking_file(path: Path) -> Path | None:
    """The first existing non-directory among ``path``'s ancestors (a dir cannot be made there)."""
    for parent in reversed(path.absolute().parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def _checked_path(text: str, want_dir: bool) -> Path:
    """``text`` as a path that is (or can become) a directory / a file."""
    path = Path(text).expanduser()
    if path.exists() and path.is_dir() != want_dir:
        have, want = ("directory", "file") if path.is_dir() else ("file", "directory")
        raise argparse.ArgumentTypeError(f"{text} is a {have}, not a {want}")
    blocker = _blocking_file(path)
    if blocker is not None:
        raise argparse.ArgumentTypeError(f"cannot create {text}: {blocker} is a file")
    return path


def dir_path(text: str) -> Path:
    """An argparse type: a directory to read or create; refuses a path that is or lies in a file."""
    return _checked_path(text, want_dir=True)


def file_path(text: str) -> Path:
    """An argparse type: a file to write; refuses a directory or a path under a file."""
    return _checked_path(text, want_dir=False)


def existing_file(text: str) -> Path:
    """An argparse type: a file that exists and is not a directory."""
    path = Path(text).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text} does not exist")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory, not a file")
    return path


def add_overwrite_arg(p: argparse.ArgumentParser, what: str = "--out") -> None:
    """The --overwrite flag of commands that write to a user-chosen path."""
    p.add_argument(
        "--overwrite",
        action="store_true",
        help=f"replace files in {what} that bipe did not write (default: refuse)",
    )


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
