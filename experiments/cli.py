"""The `bipe` command line: one sub-command module per concern, each registering its own parsers."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Sequence

from experiments import __version__

# Each module exposes `register(subparsers)`. Modules keep heavy imports (torch, spaCy) inside
# their run functions so that `bipe --help` and `bipe segment` start fast.
COMMAND_MODULES = (
    "experiments.commands.segment",
    "experiments.commands.automata",
    "experiments.commands.demo",
    "experiments.commands.train",
    "experiments.commands.run",
    "experiments.commands.corpus",
    "experiments.commands.synthetic",
    "experiments.commands.budget",
    "experiments.commands.seeds",
)

# The modules of the "lm" extra; a light install (`pip install bipe`) has none of them.
LM_EXTRA_MODULES = ("torch", "safetensors", "tokenizers", "matplotlib", "tqdm")


class CLIError(Exception):
    """A user error on the command line (bad path, bad option): printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="bipe",
        description="BiPE Lab: segmenters, bilevel positional encodings, Bi-NFA automata, experiments.",
    )
    parser.add_argument("--version", action="version", version=f"bipe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod_name in COMMAND_MODULES:
        mod = importlib.import_module(mod_name)
        mod.register(sub)
    return parser


def _typed_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [CLIError]
    for mod, attr in (
        ("segmenters.errors", "SegmenterError"),
        ("automata.exceptions", "AutomataError"),
        ("bipe_core.errors", "BipeCoreError"),
        ("experiments.errors", "ExperimentError"),
    ):
        if mod.split(".")[0] == "bipe_core" and "torch" not in sys.modules:
            continue  # a bipe_core error cannot have been raised without torch loaded
        with contextlib.suppress(ImportError, AttributeError):
            errors.append(getattr(importlib.import_module(mod), attr))
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `bipe` console script; returns the process exit code.

    A refused option returns 2 after argparse's message (--help and --version exit as usual).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code in (0, None):
            raise
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    from experiments.commands.outputs import keep_claims, release_claims

    rc = 2
    try:
        rc = _dispatch(args)
    finally:
        # a failed command gives back the output directories it claimed and wrote nothing into
        if rc == 0:
            keep_claims()
        else:
            release_claims()
    return rc


def _dispatch(args: argparse.Namespace) -> int:
    """Run the chosen command; its typed errors become a one-line message and exit code 2."""
    try:
        rc = args.func(args)
    except KeyboardInterrupt:
        print("bipe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in LM_EXTRA_MODULES:
            raise
        print(
            f"bipe {args.command}: error: this command needs {exc.name}, which comes with the "
            '"lm" extra: pip install torch==2.13.0 "bipe[lm]" (in a checkout: '
            'pip install torch==2.13.0 -e ".[lm]")',
            file=sys.stderr,
        )
        return 2
    except Exception as exc:  # only the project's typed errors are reported briefly
        if isinstance(exc, _typed_errors()):
            print(f"bipe {args.command}: error: {exc}", file=sys.stderr)
            return 2
        raise
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
