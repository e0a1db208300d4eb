"""Segmenters: turn text into exact character spans, and align them to tokens.

Never imports torch. Heavy parsers (spaCy, tree-sitter) load only when their segmenter is asked for.
"""

from importlib import metadata

__bipe__ = True  # marker: this package is BiPE Lab's (experiments.check_packages looks for it)
__version__ = next((d.version for d in metadata.distributions(name="bipe")), "0+unknown")

from segmenters.base import (
    BaseSegmenter,
    Segment,
    Segmentation,
    Segmenter,
    check_segmentation,
    check_segments,
    check_text,
    make_segmentation,
)
from segmenters.errors import (
    InvariantError,
    MissingDependencyError,
    NotTrainedError,
    SegmenterError,
    SegmenterInputError,
    SegmenterOptionError,
    UnknownSegmenterError,
)
from segmenters.registry import (
    describe_segmenters,
    get_segmenter,
    list_segmenters,
    register_segmenter,
)

__all__ = [
    "BaseSegmenter",
    "InvariantError",
    "MissingDependencyError",
    "NotTrainedError",
    "Segment",
    "Segmentation",
    "Segmenter",
    "SegmenterError",
    "SegmenterInputError",
    "SegmenterOptionError",
    "UnknownSegmenterError",
    "check_segmentation",
    "check_segments",
    "check_text",
    "describe_segmenters",
    "get_segmenter",
    "list_segmenters",
    "make_segmentation",
    "register_segmenter",
]
