"""The `bipe automata` sub-command(s) (placeholder: filled in by the owning issue)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's sub-commands to the `bipe` parser."""
    return None
