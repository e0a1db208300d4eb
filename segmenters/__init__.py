"""Segmenters: turn text into exact character spans, and align them to tokens.

Never imports torch. Heavy parsers (spaCy, tree-sitter, ruptures, Biopython, markdown-it) load
only when their segmenter is asked for; importing this package brings numpy and regex only.
"""

from importlib import metadata

__bipe__ = True  # marker: this package is BiPE Lab's (experiments.check_packages looks for it)
__version__ = next((d.version for d in metadata.distributions(name="bipe")), "0+unknown")

from segmenters.align import align_encoding, align_levels, align_tokens, align_values
from segmenters.base import (
    BaseSegmenter,
    Segmentation,
    Segmenter,
    check_segmentation,
    check_segments,
    check_text,
    make_segmentation,
    positive_int_option,
    segments_from_ends,
    spans_from_ends,
)
from segmenters.entropy import EntropySegmenter
from segmenters.errors import (
    InvariantError,
    MissingDependencyError,
    NotTrainedError,
    SegmenterError,
    SegmenterInputError,
    SegmenterOptionError,
    UnknownSegmenterError,
)
from segmenters.nested import nest_segmentations
from segmenters.registry import (
    describe_segmenters,
    get_segmenter,
    list_segmenters,
    register_segmenter,
)
from segmenters.segment import Segment
from segmenters.sentence_eval import load_eval_set, score

__all__ = [
    "BaseSegmenter",
    "EntropySegmenter",
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
    "align_encoding",
    "align_levels",
    "align_tokens",
    "align_values",
    "check_segmentation",
    "check_segments",
    "check_text",
    "describe_segmenters",
    "get_segmenter",
    "list_segmenters",
    "load_eval_set",
    "make_segmentation",
    "nest_segmentations",
    "positive_int_option",
    "register_segmenter",
    "score",
    "segments_from_ends",
    "spans_from_ends",
]
