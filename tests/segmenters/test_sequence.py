"""Sequences that are not text: the contract on 1-D arrays, the value-per-line format, alignment."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from segmenters import InvariantError, Segment, SegmenterInputError, check_segmentation
from segmenters.align import align_values, value_offsets
from segmenters.sequence import as_sequence, parse_values, sequence_segmentation

FLOATS = st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=60)


@given(values=FLOATS, data=st.data())
def test_array_segmentation_keeps_the_contract(values: list[float], data: st.DataObject) -> None:
    arr = as_sequence(values)
    n = len(arr)
    cuts = (
        sorted(set(data.draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=10))))
        if n > 1
        else []
    )
    seg = sequence_segmentation(arr, {"segment": cuts}, "segment", "test")
    check_segmentation(seg)
    assert not seg.is_text
    assert np.array_equal(np.concatenate([s.text for s in seg] or [np.zeros(0)]), arr)
    assert pickle.loads(pickle.dumps(seg)) == seg
    pos = align_values(seg)
    assert len(pos) == n
    if n:
        assert pos.n_segments == len(seg)


def test_checker_rejects_broken_array_partitions() -> None:
    arr = as_sequence([1.0, 2.0, 3.0])
    seg = sequence_segmentation(arr, {"segment": [1]}, "segment", "t")
    gap = type(seg)(arr, (Segment(0, 1, source=arr), Segment(2, 3, source=arr)))
    with pytest.raises(InvariantError, match="gap or overlap"):
        check_segmentation(gap)
    other = as_sequence([1.0, 2.0, 3.0])
    with pytest.raises(InvariantError, match="source is not the text"):
        check_segmentation(type(seg)(arr, (Segment(0, 3, source=other),)))
    with pytest.raises(InvariantError, match="str or a 1-D numpy array"):
        check_segmentation(type(seg)(np.zeros((2, 2)), ()))


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([1.0, float("nan"), 2.0], "NaN or infinite value.*index 1"),
        ([1.0, float("inf")], "index 1"),
        ([[1, 2], [3, 4]], "1-D"),
        (["a", "b"], "expected numbers"),
        ([True, False], "booleans"),
        ("1\n2", "got str"),
        (b"12", "got bytes"),
        (None, "got NoneType"),
        ({1: 2}, "got dict"),
    ],
)
def test_bad_sequences_are_named(bad: object, match: str) -> None:
    with pytest.raises(SegmenterInputError, match=match):
        as_sequence(bad)


def test_values_text_format() -> None:
    text = "# temperatures\n1.5\n\n2\n# note\n-3e2\n"
    lines = parse_values(text)
    assert lines.values.tolist() == [1.5, 2.0, -300.0]
    assert lines.line_starts.tolist() == [0, 20, 29]  # the first value also holds the header
    with pytest.raises(SegmenterInputError, match="line 2: 'x1' is not a number"):
        parse_values("1\nx1\n")
    with pytest.raises(SegmenterInputError, match="NaN"):
        parse_values("1\nnan\n")


def test_value_offsets_by_patch() -> None:
    assert value_offsets(5, 2).tolist() == [[0, 2], [2, 4], [4, 5]]
    assert value_offsets(0).shape == (0, 2)
    seg = sequence_segmentation(as_sequence(list(range(10))), {"segment": [4]}, "segment", "t")
    pos = align_values(seg, patch=3)  # tokens start at 0, 3, 6, 9: the one at 3 is in segment 0
    assert pos.segment.tolist() == [0, 0, 1, 1]
    assert pos.intra.tolist() == [0, 1, 0, 1]


def test_to_dict_of_a_sequence_is_json_ready() -> None:
    import json

    seg = sequence_segmentation(as_sequence([1.5, 2.0, 7.0]), {"segment": [2]}, "segment", "t")
    doc = json.loads(json.dumps(seg.to_dict(with_text=True)))
    assert [s["text"] for s in doc["segments"]] == [[1.5, 2.0], [7.0]]
