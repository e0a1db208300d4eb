"""The contract: `Segment`, `Segmentation`, the shared checker, nested levels, bulk building."""

from __future__ import annotations

import pickle

import pytest

from segmenters import (
    InvariantError,
    Segment,
    Segmentation,
    SegmenterInputError,
    SegmenterOptionError,
    check_segmentation,
    check_segments,
    check_text,
    make_segmentation,
)
from segmenters.base import segments_from_ends, spans_from_ends


def test_segment_text_and_dict() -> None:
    seg = make_segmentation("Hello world", [(0, 6), (6, 11, "word", True)], segmenter="t")
    assert [s.text for s in seg] == ["Hello ", "world"]
    assert len(seg[0]) == 6
    assert seg[1].to_dict() == {
        "start": 6,
        "end": 11,
        "kind": "word",
        "has_error": True,
        "level": "segment",
    }
    assert seg.to_dict(with_text=True)["segments"][0]["text"] == "Hello "
    assert seg.spans == [(0, 6), (6, 11)] and seg.boundaries == [6, 11] and seg.lengths() == [6, 5]


@pytest.mark.parametrize(
    ("text", "spans", "message"),
    [
        ("abc", [(0, 1), (2, 3)], "starts at 2, expected 1"),  # gap
        ("abc", [(0, 2), (1, 3)], "starts at 1, expected 2"),  # overlap
        ("abc", [(0, 0), (0, 3)], "empty or reversed"),
        ("abc", [(0, 2)], "segments end at 2, text has length 3"),  # short cover
        ("abc", [], "gave zero segments"),
        ("", [(0, 0)], "empty text must give zero segments"),
        ("abc", [(1, 3)], "starts at 1, expected 0"),
    ],
)
def test_checker_catches_broken_partitions(text: str, spans, message: str) -> None:
    segs = [Segment(a, b, source=text) for a, b in spans]
    with pytest.raises(InvariantError, match=message):
        check_segments(text, segs)


def test_checker_accepts_a_partition_and_empty_text() -> None:
    check_segmentation(make_segmentation("abc", [(0, 1), (1, 3)]))
    check_segmentation(make_segmentation("", []))


def test_checker_catches_wrong_source() -> None:
    segs = (Segment(0, 3, source="xyz"),)
    with pytest.raises(InvariantError, match="joined segment texts differ"):
        check_segmentation(Segmentation("abc", segs))


def _nested(coarse_ends: list[int], fine_ends: list[int], text: str = "abcdef") -> Segmentation:
    def segs(ends: list[int], level: str) -> tuple[Segment, ...]:
        return tuple(Segment(a, b, level=level, source=text) for a, b in zip([0, *ends[:-1]], ends))

    coarse, fine = segs(coarse_ends, "coarse"), segs(fine_ends, "fine")
    return Segmentation(text, fine, "fine", {"coarse": coarse, "fine": fine})


def test_nested_levels() -> None:
    seg = _nested([4, 6], [2, 4, 6])
    check_segmentation(seg)
    coarse = seg.at_level("coarse")
    assert coarse.level == "coarse" and [s.text for s in coarse] == ["abcd", "ef"]
    assert seg.to_dict()["levels"] == {"coarse": [[0, 4], [4, 6]], "fine": [[0, 2], [2, 4], [4, 6]]}


def test_coarse_boundary_must_be_fine_boundary() -> None:
    with pytest.raises(
        InvariantError, match="boundary at 3 is not a boundary of finer level 'fine'"
    ):
        check_segmentation(_nested([3, 6], [2, 4, 6]))


def test_unknown_level() -> None:
    with pytest.raises(SegmenterOptionError, match=r"available: \['coarse', 'fine'\]"):
        _nested([4, 6], [2, 4, 6]).at_level("word")


@pytest.mark.parametrize(
    ("value", "message"), [(b"x", "got bytes"), (None, "got NoneType"), (3, "got int")]
)
def test_check_text(value: object, message: str) -> None:
    with pytest.raises(SegmenterInputError, match=message):
        check_text(value)


def test_segments_from_ends_equals_constructor() -> None:
    text = "abcdef"
    fast = segments_from_ends(text, [1, 4, 6], ["x", "y", "z"], "lv")
    slow = tuple(
        Segment(a, b, k, False, "lv", text) for a, b, k in [(0, 1, "x"), (1, 4, "y"), (4, 6, "z")]
    )
    assert fast == slow
    assert [s.text for s in fast] == ["a", "bcd", "ef"]
    assert segments_from_ends(text, [6], "k")[0].kind == "k"
    assert segments_from_ends("", []) == ()
    with pytest.raises(AttributeError):
        fast[0].start = 3  # still frozen


def test_spans_from_ends_is_lazy_equal_and_pickles() -> None:
    text = "abcdef"
    lazy = spans_from_ends(text, [1, 4, 6], ["x", "y", "z"], "lv")
    assert lazy == segments_from_ends(text, [1, 4, 6], ["x", "y", "z"], "lv")
    seg = Segmentation(text, lazy, "lv", {"lv": lazy})
    check_segmentation(seg)
    assert seg.boundaries == [1, 4, 6] and seg.lengths() == [1, 3, 2]
    back = pickle.loads(pickle.dumps(seg))
    assert back == seg and [s.kind for s in back] == ["x", "y", "z"]
    assert len(spans_from_ends("", [])) == 0
