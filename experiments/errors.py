"""Typed errors of `experiments` (bad corpora, configs, checkpoints): reported without a traceback."""

from __future__ import annotations


class ExperimentError(Exception):
    """Base class of every error raised by `experiments`."""


class MissingDependencyError(ExperimentError, ImportError):
    """An optional package that a chosen feature needs is not installed (the message names it)."""
