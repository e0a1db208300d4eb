"""The `markdown` segmenter: section > block > sentence from markdown-it-py's source maps."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmenters import SegmenterOptionError, check_segmentation, get_segmenter

pytest.importorskip("markdown_it")

DOC = """Intro line. Second sentence.

# Title

Para one. Para two?
Still para two.

- item a
- item b
  - nested c

```python
x = 1. y = 2
```

| a | b |
|---|---|
| 1 | 2 |

## Sub
> quoted. text

    indented code
---
"""


def test_levels_follow_the_document() -> None:
    seg = get_segmenter("markdown").segment(DOC)
    check_segmentation(seg)
    sections = [s.text.splitlines()[0] for s in seg.levels["section"]]
    assert sections == ["Intro line. Second sentence.", "# Title", "## Sub"]
    blocks = [(s.kind, s.text.splitlines()[0]) for s in seg.levels["block"]]
    assert blocks == [
        ("paragraph", "Intro line. Second sentence."),
        ("heading", "# Title"),
        ("paragraph", "Para one. Para two?"),
        ("list_item", "- item a"),
        ("list_item", "- item b"),
        ("list_item", "  - nested c"),
        ("fence", "```python"),
        ("table", "| a | b |"),
        ("heading", "## Sub"),
        ("quote", "> quoted. text"),
        ("code", "    indented code"),
        ("rule", "---"),
    ]
    sentences = [s.text for s in seg.levels["sentence"]]
    assert "Para one. " in sentences and "Para two?\n" in sentences
    assert "x = 1. y = 2\n" in sentences  # code lines are never split inside
    assert "| 1 | 2 |\n\n" in sentences  # blank lines stay with the line before


def test_unclosed_fence_runs_to_the_end() -> None:
    text = "Text. More.\n\n```\ncode. still code\n\n# not a heading\n"
    seg = get_segmenter("markdown", level="sentence").segment(text)
    check_segmentation(seg)
    assert [s.kind for s in seg.levels["block"]] == ["paragraph", "fence"]
    assert len(seg.levels["section"]) == 1
    assert "code. still code\n" in [s.text for s in seg]


def test_section_depth_and_options() -> None:
    seg = get_segmenter("markdown", section_depth=1).segment(DOC)
    assert len(seg.levels["section"]) == 2  # "## Sub" stays inside "# Title"
    with pytest.raises(SegmenterOptionError, match="section_depth"):
        get_segmenter("markdown", section_depth=7)
    with pytest.raises(SegmenterOptionError, match="unknown markdown level"):
        get_segmenter("markdown", level="word")


PIECES = ["```", "~~~", "# ", "## ", "\n", "\r\n", "\r", "- ", "1. ", "> ", "    ", "|a|b|\n|-|-|\n", "---\n",
          "Text. ", "Dr. X? ", "<div>\n", "\ud800", "\x00", "\u2028", "[a]: /u\n", "Title\n===\n", "\t"]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    text=st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=30).map("".join)
)
def test_any_text_gives_exact_nested_spans(text: str) -> None:
    seg = get_segmenter("markdown").segment(text)
    check_segmentation(seg)
    assert list(seg.levels) == ["section", "block", "sentence"]


@pytest.mark.slow
def test_spacy_sentences_inside_blocks() -> None:
    pytest.importorskip("spacy")
    seg = get_segmenter("markdown", sentence="sentence", level="sentence").segment(DOC)
    check_segmentation(seg)
    assert "x = 1. y = 2\n" in [s.text for s in seg]


def test_invalid_utf8_escaped_is_segmented() -> None:
    text = b"# T\xff\xfe\n\nText \xc3. More.\n".decode("utf-8", "surrogateescape")
    seg = get_segmenter("markdown", level="sentence").segment(text)
    check_segmentation(seg)
    assert [s.kind for s in seg.levels["block"]] == ["heading", "paragraph"]
