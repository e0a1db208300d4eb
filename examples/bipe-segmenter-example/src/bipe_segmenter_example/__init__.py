"""`paragraph`: text split into paragraphs at blank lines, as a BiPE Lab segmenter plug-in.

A paragraph ends after the run of blank lines that follows it (``min_blank`` or more line breaks
in a row with only spaces or tabs between them), so the spans cover the text exactly: the blank
lines belong to the paragraph before them, and leading blank lines to the first paragraph.
"""

from __future__ import annotations

import re
from typing import Any

from segmenters import (
    BaseSegmenter,
    Segmentation,
    SegmenterOptionError,
    check_text,
    positive_int_option,
    spans_from_ends,
)

__all__ = ["ParagraphSegmenter"]
__version__ = "0.1.0"

OPTIONS = ("min_blank",)


class ParagraphSegmenter(BaseSegmenter):
    """Paragraphs: a run of at least ``min_blank`` blank lines (default 1) ends a paragraph."""

    name = "paragraph"
    description = "paragraphs separated by blank lines (example plug-in)"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)  # keeps the options: worker processes rebuild it by name
        for key in options:  # keyword options, so an unknown one is a typed error, not TypeError
            if key not in OPTIONS:
                raise SegmenterOptionError(f"paragraph: unknown option {key!r}; valid: {OPTIONS}")
        self.min_blank = positive_int_option("min_blank", options.get("min_blank", 1))
        # a line break, then min_blank lines holding only spaces/tabs, each closed by a line break
        # (\r\n counts once: its \r never matches alone); the match ends where the next
        # paragraph begins
        brk = r"(?:\r\n|\r(?!\n)|[\n\v\f\x1c-\x1e\x85\u2028\u2029])"
        self._pattern = re.compile(rf"{brk}(?:[ \t]*{brk}){{{self.min_blank},}}")

    def segment(self, text: str) -> Segmentation:
        """Split ``text`` into paragraphs; empty text gives no segments."""
        text = check_text(text)
        n = len(text)
        ends = [m.end() for m in self._pattern.finditer(text) if 0 < m.end() < n]
        if n:
            ends.append(n)
        segments = spans_from_ends(text, ends, "paragraph", "paragraph")
        return Segmentation(text, segments, "paragraph", {"paragraph": segments}, self.name)
