"""The example plug-in, tested as users would use it: installed, found through the entry point."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segmenters import (
    SegmenterInputError,
    SegmenterOptionError,
    check_segmentation,
    describe_segmenters,
    get_segmenter,
    list_segmenters,
    nest_segmentations,
)


def test_the_entry_point_registers_the_segmenter():
    from bipe_segmenter_example import ParagraphSegmenter

    assert "paragraph" in list_segmenters()
    assert describe_segmenters()["paragraph"].startswith("plug-in bipe_segmenter_example")
    assert isinstance(get_segmenter("paragraph"), ParagraphSegmenter)


def test_paragraphs_end_after_their_blank_lines():
    text = "\nFirst line.\nstill first.\n\n  \nSecond.\r\n\r\nThird"
    seg = get_segmenter("paragraph").segment(text)
    assert [s.text for s in seg] == [
        "\nFirst line.\nstill first.\n\n  \n",
        "Second.\r\n\r\n",
        "Third",
    ]
    two = get_segmenter("paragraph", min_blank=2).segment(text)
    assert [s.text for s in two] == ["\nFirst line.\nstill first.\n\n  \n", "Second.\r\n\r\nThird"]
    assert len(get_segmenter("paragraph").segment("")) == 0


@given(st.text(alphabet="ab. \t\n\r", max_size=80), st.integers(1, 3))
def test_any_text_gives_an_exact_partition(text, min_blank):
    seg = get_segmenter("paragraph", min_blank=min_blank).segment(text)
    check_segmentation(seg)
    assert "".join(s.text for s in seg) == text


def test_paragraphs_nest_over_sentences():
    text = "One. Two\nthree.\n\nFour. Five"
    para = get_segmenter("paragraph").segment(text)
    sent = get_segmenter("punct").segment(text)
    both = nest_segmentations([para, sent], ["paragraph", "sentence"])
    check_segmentation(both)
    assert [s.text for s in both.levels["paragraph"]] == ["One. Two\nthree.\n\n", "Four. Five"]


@pytest.mark.parametrize("options", [{"min_blank": 0}, {"min_blank": "2"}, {"blank": 1}])
def test_bad_options_are_typed_errors(options):
    with pytest.raises(SegmenterOptionError):
        get_segmenter("paragraph", **options)


def test_bytes_are_a_typed_error():
    with pytest.raises(SegmenterInputError, match="decode"):
        get_segmenter("paragraph").segment(b"a\n\nb")
