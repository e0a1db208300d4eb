"""The exception hierarchy of `segmenters`: every bad input raises one of these, never a bare crash."""

from __future__ import annotations


class SegmenterError(Exception):
    """Base class of every error raised by `segmenters`."""


class UnknownSegmenterError(SegmenterError, KeyError):
    """A segmenter name that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SegmenterOptionError(SegmenterError, ValueError):
    """An option value that a segmenter does not accept (names the option and the valid choices)."""


class SegmenterInputError(SegmenterError, TypeError):
    """Input that is not text (bytes, None, ...) or a file that is not UTF-8 text."""


class MissingDependencyError(SegmenterError, ImportError):
    """An optional dependency (spaCy model, tree-sitter grammar) is not installed; names what to install."""


class InvariantError(SegmenterError, AssertionError):
    """A segmentation that breaks the partition contract (raised by `check_segmentation`)."""


class NotTrainedError(SegmenterError, RuntimeError):
    """A learned segmenter used before it was trained (names how to train or load it)."""
