"""Typed errors of `bipe_core`: each names the bad input and what is allowed."""

from __future__ import annotations


class BipeCoreError(Exception):
    """Base class of every error raised by `bipe_core`."""


class UnknownSchemeError(BipeCoreError, KeyError):
    """A positional scheme name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ShapeError(BipeCoreError, ValueError):
    """Tensors whose shapes or dtypes do not fit together."""


class ConfigError(BipeCoreError, ValueError):
    """An invalid model or encoding configuration value."""


class InputError(BipeCoreError, ValueError):
    """Invalid input values: ids outside the vocabulary, empty batches, NaN/inf in debug mode."""


class CheckpointError(BipeCoreError, ValueError):
    """A checkpoint that is corrupt, foreign or incompatible with the configuration."""
