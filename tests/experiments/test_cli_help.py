"""Issue 11: every option of every command has help text, and states its default when it has one."""

from __future__ import annotations

import argparse

from experiments.cli import build_parser


def _commands(parser: argparse.ArgumentParser, prefix: str = "bipe"):
    """(command path, parser) for every sub-command, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", sub
                yield from _commands(sub, f"{prefix} {name}")


def test_every_option_has_help_and_states_its_default():
    missing = []
    for path, parser in _commands(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            name = "/".join(action.option_strings) or action.dest
            text = action.help or ""
            if not text:
                missing.append(f"{path} {name}: no help")
            elif (
                action.option_strings
                and action.default not in (None, False, [], argparse.SUPPRESS)
                and "default" not in text
            ):
                missing.append(f"{path} {name}: default {action.default!r} not stated")
    assert not missing, "\n".join(missing)
