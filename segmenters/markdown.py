"""`markdown`: Markdown documents in three levels, section > block > sentence, on markdown-it-py.

markdown-it-py (CommonMark plus GFM tables) parses the text and gives each block token a source
map of lines. Boundaries are line starts:

- ``section``: each top-level heading (ATX or setext, depth at most ``section_depth``) opens one;
- ``block``: each paragraph, heading, list item (at any depth), code fence, indented code block,
  table, HTML block, thematic break and block quote opens one;
- ``sentence``: inside prose blocks, the boundaries of the ``sentence`` segmenter (``punct`` by
  default, or spaCy's ``sentence``); inside verbatim blocks (fences, code, tables, HTML), lines.

Blank lines belong to the block before them. The parser never rejects input: an unclosed fence
runs to the end of the document, as CommonMark says, and any str (lone surrogates included) is
segmented; only the levels' line starts come from the parse, so the spans always cover the text.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from segmenters.base import (
    BaseSegmenter,
    Segmentation,
    check_text,
)
from segmenters.errors import MissingDependencyError
from segmenters.options import Option
from segmenters.sequence import sequence_segmentation

LEVELS = ("section", "block", "sentence")
BLOCK_TOKENS = {
    "paragraph_open": "paragraph",
    "heading_open": "heading",
    "list_item_open": "list_item",
    "fence": "fence",
    "code_block": "code",
    "table_open": "table",
    "html_block": "html",
    "hr": "rule",
    "blockquote_open": "quote",
}
VERBATIM = {"fence", "code", "table", "html"}
# markdown-it-py splits lines exactly here (it normalises \r\n and \r to \n before parsing).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def load_markdown_it() -> Any:
    """A markdown-it-py parser (CommonMark + tables), or `MissingDependencyError`."""
    try:
        from markdown_it import MarkdownIt
    except ImportError as exc:
        raise MissingDependencyError(
            "the markdown segmenter needs markdown-it-py: pip install 'bipe[markdown]'"
        ) from exc
    return MarkdownIt("commonmark").enable("table")


def line_starts(text: str) -> np.ndarray:
    """Offset of each line's first character, lines split as markdown-it-py splits them."""
    return np.asarray([0, *(m.end() for m in _LINE_BREAK.finditer(text))], dtype=np.int64)


class MarkdownSegmenter(BaseSegmenter):
    """Markdown split by markdown-it-py into section > block > sentence."""

    name = "markdown"
    description = (
        "Markdown (markdown-it-py): section > block (paragraph, list item, fence, table) > sentence"
    )

    OPTIONS = (
        Option("level", (str,), "block", "the primary level", choices=LEVELS),
        Option(
            "sentence",
            (str,),
            "punct",
            "the segmenter of the sentence level",
            choices=("punct", "sentence"),
        ),
        Option(
            "section_depth", (int,), 6, "deepest heading (1-6) that opens a section", ge=1, le=6
        ),
    )

    def __init__(
        self, level: str = "block", sentence: str = "punct", section_depth: int = 6
    ) -> None:
        super().__init__(level=level, sentence=sentence, section_depth=section_depth)
        self.level, self.sentence, self.section_depth = level, sentence, section_depth
        self._md = load_markdown_it()
        from segmenters.registry import get_segmenter  # late: the registry lists this module

        self._sentences = get_segmenter(self.sentence)

    def segment(self, text: str) -> Segmentation:
        """The section, block and sentence levels of one Markdown text (character spans)."""
        text = check_text(text)
        n = len(text)
        info = {"sentence": self.sentence}
        if n == 0:
            return sequence_segmentation(
                text, {lv: [] for lv in LEVELS}, self.level, self.name, info
            )
        starts = line_starts(text)
        verbatim_lines: list[tuple[int, int]] = []
        blocks: dict[int, str] = {}
        sections: list[int] = []
        for tok in self._md.parse(text):
            kind = BLOCK_TOKENS.get(tok.type)
            if kind is None or not tok.map:
                continue
            first, last = tok.map
            blocks.setdefault(first, kind)  # the outermost block opening on a line names it
            if kind in VERBATIM:
                verbatim_lines.append((first, last))
            if kind == "heading" and tok.level == 0 and int(tok.tag[1:]) <= self.section_depth:
                sections.append(first)
        n_lines = len(starts)
        # The first block also holds the blank (or reference-definition) lines before it.
        block_lines = [ln for ln in sorted(blocks) if ln < n_lines][1:]
        block_cuts = _interior(starts[block_lines], n)
        section_lines = [ln for ln in sorted(set(sections)) if ln < n_lines and ln in block_lines]
        section_cuts = _interior(starts[section_lines], n)
        # Sentences: the sentence segmenter's cuts outside verbatim blocks, lines inside them.
        sent = np.asarray(self._sentences.segment(text).boundaries[:-1], dtype=np.int64)
        inside = np.zeros(len(sent), dtype=bool)
        verbatim_cuts = []
        for first, last in verbatim_lines:
            a = starts[first]
            b = starts[last] if last < n_lines else n
            inside |= (sent > a) & (sent < b)
            verbatim_cuts.append(starts[first : min(last, n_lines)])
        sentence_cuts = _interior(np.concatenate([sent[~inside], block_cuts, *verbatim_cuts]), n)
        kinds = {
            "section": "section",
            "block": [
                blocks[min(blocks)] if blocks else "blank",
                *(blocks[ln] for ln in block_lines),
            ],
            "sentence": "sentence",
        }
        cuts = {"section": section_cuts, "block": block_cuts, "sentence": sentence_cuts}
        return sequence_segmentation(text, cuts, self.level, self.name, info, kinds)


def _interior(cuts: np.ndarray, n: int) -> np.ndarray:
    """Sorted unique cut points strictly inside ``(0, n)``."""
    cuts = np.unique(np.asarray(cuts, dtype=np.int64))
    return cuts[(cuts > 0) & (cuts < n)]
