"""Command-line options in one place: argparse types for numbers, lists, paths and specs, options
declared as data (`Option`, added by `add_options`), and the option groups several commands share
(config, cache, output, workers, executors).

The argparse types raise `argparse.ArgumentTypeError`, so argparse reports the option by name and
exits with status 2 before any work starts or any file is touched.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.engine.sweep import EXECUTORS
from experiments.errors import ExperimentError


def int_at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low`` (and <= ``high`` when given)."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high}, got {value}")
        return value

    # argparse names the type in its messages
    convert.__name__ = f"integer >= {low}" + (f" and <= {high}" if high is not None else "")
    return convert


positive_int = int_at_least(1)
nonneg_int = int_at_least(0)


MAX_LIST = 10_000  # values one list option may expand to: '1-100000000000' is refused, not built


def int_list(text: str, low: int | None = None, high: int | None = None) -> list[int]:
    """Parse '1,2,3' or '1-4' (or a mix) into a list of ints, each within [low, high] if given."""
    out: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part.strip("-"):
                lo, hi = part.split("-", 1)
                if int(hi) - int(lo) + len(out) >= MAX_LIST:
                    raise argparse.ArgumentTypeError(
                        f"{part!r} lists more than {MAX_LIST:,} values"
                    )
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
    if high is not None and max(out) > high:
        raise argparse.ArgumentTypeError(
            f"every value must be <= {high}, got {max(out)} in {text!r}"
        )
    return out


def int_list_at_least(low: int, high: int | None = None) -> Callable[[str], list[int]]:
    """An argparse type: `int_list` whose values are all >= ``low`` (and <= ``high``)."""

    def convert(text: str) -> list[int]:
        return int_list(text, low, high)

    convert.__name__ = f"list of integers >= {low}" + (f" and <= {high}" if high else "")
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
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path names nothing; give a file or directory")
    path = Path(text).expanduser()
    too_long = [part for part in path.parts if len(part.encode("utf-8")) > 255]
    if too_long or len(str(path.absolute()).encode("utf-8")) > 4095:
        raise argparse.ArgumentTypeError(
            f"{text[:60]}...: a name in it is longer than the file system allows "
            "(255 bytes per name, 4,095 per path)"
        )
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


def probability(text: str) -> float:
    """An argparse type: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {value:g}")
    return value


def spec_list(text: str) -> list[str]:
    """An argparse type: comma-separated specs, each keeping its own ``key=value`` options."""
    from experiments.specs import split_specs

    try:
        specs = split_specs(text)
    except ExperimentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not specs:
        raise argparse.ArgumentTypeError(f"no spec in {text!r}")
    return specs


def name_list(text: str) -> list[str]:
    """An argparse type: comma-separated names (e.g. schemes)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"no name in {text!r}")
    return names


# -- options as data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One command-line option: its flags and what `argparse.ArgumentParser.add_argument` takes."""

    flags: tuple[str, ...]
    settings: dict[str, Any]


def opt(*flags: str, **settings: Any) -> Option:
    """Declare an option: ``opt("--steps", type=positive_int, help="...")``."""
    return Option(flags, settings)


def add_options(parser: argparse.ArgumentParser, *groups: Iterable[Option]) -> None:
    """Add every option of ``groups`` to ``parser``, in order."""
    for group in groups:
        for o in group:
            parser.add_argument(*o.flags, **o.settings)


def command_line() -> str:
    """The command as typed (``bipe run --preset tiny ...``), recorded in reports."""
    return " ".join(["bipe", *(shlex.quote(a) for a in sys.argv[1:])])


CACHE = (
    opt(
        "--cache-dir",
        metavar="DIR",
        type=dir_path,
        help="tokenizer/token cache (default: $BIPE_CACHE or ~/.cache/bipe)",
    ),
)
OVERWRITE = (
    opt(
        "--overwrite",
        action="store_true",
        help="replace files in --out that bipe did not write (default: refuse)",
    ),
)
EXECUTOR = (
    opt(
        "--executor",
        default="local",
        choices=EXECUTORS,
        help="local (worker processes), slurm or submitit-local (via submitit; default: %(default)s)",
    ),
    opt(
        "--executor-option",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="submitit parameter, e.g. slurm_partition=gpu, timeout_min=30 (repeatable)",
    ),
)


def config_options(presets: list[str], default: str | None, note: str) -> tuple[Option, ...]:
    """--preset (one of the task's ``presets``), --config and --set: the one way every command
    is configured."""
    return (
        opt(
            "--preset",
            default=default,
            choices=presets,
            help=f"configuration to start from (default: {note})",
        ),
        opt(
            "--config", metavar="FILE", type=existing_file, help="JSON config laid over the preset"
        ),
        opt(
            "--set",
            metavar="KEY=VALUE",
            action="append",
            default=[],
            help="override one setting, e.g. --set train.steps=200 (repeatable)",
        ),
    )


def workers_option(what: str, default: int | None = None) -> tuple[Option, ...]:
    """--workers: how many runs or cells train side by side."""
    note = f"default: {default}" if default is not None else "default: the config's workers"
    return (opt("--workers", type=positive_int, default=default, help=f"{what} ({note})"),)


def executor_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``executor`` and ``executor_options`` (the ``--executor-option KEY=VALUE`` pairs, parsed)
    as the keyword arguments every sweep takes."""
    from experiments.specs import parse_options

    options = parse_options(args.executor_option, where="--executor-option")
    return {"executor": args.executor, "executor_options": options}
