"""Nested levels: `nest_segmentations` stacks segmentations into exact, nested partitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from segmenters import SegmenterInputError, check_segmentation, get_segmenter, make_segmentation
from segmenters.nested import nest_segmentations


def _ends(seg) -> set[int]:
    return {s.end for s in seg}


def test_paragraph_line_sentence_levels_nest():
    text = "One. Two\nthree. Four\n\nFive. Six"
    lines = get_segmenter("punct", lines=True).segment(text).at_level("line")
    sents = get_segmenter("punct").segment(text)
    out = nest_segmentations([lines, sents], ["line", "sentence"])
    assert list(out.levels) == ["line", "sentence"] and out.level == "sentence"
    check_segmentation(out)
    assert [s.text for s in out.levels["line"]] == ["One. Two\n", "three. Four\n\n", "Five. Six"]
    assert _ends(out.levels["line"]) <= _ends(out.levels["sentence"])


def test_a_fine_segment_that_crosses_a_coarse_boundary_is_cut_there():
    text = "abcdefghij"
    coarse = make_segmentation(text, [(0, 5), (5, 10)])
    fine = make_segmentation(text, [(0, 3), (3, 8), (8, 10)])
    out = nest_segmentations([coarse, fine])
    assert [s.text for s in out] == ["abc", "de", "fgh", "ij"]


@given(
    st.text(alphabet="ab. \n", max_size=60),
    st.lists(st.lists(st.integers(0, 60), max_size=8), min_size=1, max_size=4),
)
def test_every_level_is_an_exact_partition_and_coarser_ends_are_finer_ends(text, cut_lists):
    n = len(text)
    parts = []
    for cuts in cut_lists:
        inner = sorted({c for c in cuts if 0 < c < n})
        ends = [*inner, n] if n else []
        starts = [0, *inner]
        parts.append(make_segmentation(text, list(zip(starts, ends))))
    out = nest_segmentations(parts)
    check_segmentation(out)
    names = list(out.levels)
    for k, name in enumerate(names):
        level = out.levels[name]
        check_segmentation(out.at_level(name))
        assert _ends(level) == set().union(*(_ends(p) for p in parts[: k + 1]))
        if k:
            assert _ends(out.levels[names[k - 1]]) <= _ends(level)
    assert np.all(np.diff([s.end for s in out]) > 0)


def test_bad_input_is_a_typed_error():
    a = make_segmentation("ab", [(0, 2)])
    with pytest.raises(SegmenterInputError, match="non-empty"):
        nest_segmentations([])
    with pytest.raises(SegmenterInputError, match="same text"):
        nest_segmentations([a, make_segmentation("xy", [(0, 2)])])
    with pytest.raises(SegmenterInputError, match="distinct name"):
        nest_segmentations([a, a], ["x", "x"])
