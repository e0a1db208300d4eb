"""`fixed`: exact sizes by characters, CRLF kept whole, by tokens from offsets, bad sizes."""

from __future__ import annotations

import pytest

from segmenters import SegmenterInputError, SegmenterOptionError, check_segmentation, get_segmenter
from segmenters.align import align_tokens


def texts(text: str, **options: object) -> list[str]:
    seg = get_segmenter("fixed", **options).segment(text)
    check_segmentation(seg)
    return [s.text for s in seg]


def test_default_size_is_64() -> None:
    out = texts("x" * 130)
    assert [len(t) for t in out] == [64, 64, 2]


@pytest.mark.parametrize(
    ("text", "size", "expected"),
    [
        ("", 3, []),
        ("ab", 3, ["ab"]),
        ("abcdef", 3, ["abc", "def"]),
        ("abcdefg", 3, ["abc", "def", "g"]),
        ("a😀b́c", 2, ["a😀", "b\u0301", "c"]),  # code points, never bytes
    ],
)
def test_by_characters(text: str, size: int, expected: list[str]) -> None:
    assert texts(text, size=size) == expected


def test_crlf_is_never_split_by_default() -> None:
    assert texts("ab\r\ncd", size=3) == ["ab\r\n", "cd"]
    assert texts("a\r\nb\r\n", size=1) == ["a", "\r\n", "b", "\r\n"]
    assert texts("ab\r\ncd", size=3, keep_crlf=False) == ["ab\r", "\ncd"]


@pytest.mark.parametrize("size", [0, -1, 2.5, "8", True, None])
def test_bad_sizes(size: object) -> None:
    with pytest.raises(SegmenterOptionError, match="size must be a positive int"):
        get_segmenter("fixed", size=size)


def test_unknown_option() -> None:
    with pytest.raises(SegmenterOptionError, match="valid options: size, keep_crlf"):
        get_segmenter("fixed", length=3)


def test_by_tokens() -> None:
    text = "one two three four five"
    offsets = [(0, 3), (4, 7), (8, 13), (14, 18), (19, 23)]
    seg = get_segmenter("fixed", size=2).segment(text, offsets=offsets)
    check_segmentation(seg)
    assert [s.text for s in seg] == ["one two ", "three four ", "five"]
    assert seg.info == {"size": 2, "unit": "tokens"}
    pos = align_tokens(seg, offsets)
    assert pos.intra.tolist() == [0, 1, 0, 1, 0]
    assert pos.segment.tolist() == [0, 0, 1, 1, 2]


def test_by_tokens_with_special_tokens() -> None:
    text = "a b c d"
    offsets = [(0, 0), (0, 1), (2, 3), (4, 5), (6, 7), (0, 0)]  # [CLS] a b c d [SEP]
    fixed = get_segmenter("fixed", size=2)
    seg = fixed.segment_tokens(text, offsets)
    assert [s.text for s in seg] == ["a ", "b c ", "d"]
    pos = align_tokens(seg, offsets)
    assert pos.intra.tolist() == [0, 1, 0, 1, 0, 1]


def test_by_tokens_bad_offsets() -> None:
    fixed = get_segmenter("fixed", size=2)
    with pytest.raises(SegmenterInputError, match="need 0 <= start <= end"):
        fixed.segment_tokens("abc", [(0, 9)])
    with pytest.raises(SegmenterInputError, match="shape"):
        fixed.segment_tokens("abc", [(0, 1, 2)])
    with pytest.raises(SegmenterInputError, match="pairs"):
        fixed.segment_tokens("abc", [("a", "b")])


def test_bytes_rejected() -> None:
    with pytest.raises(SegmenterInputError, match="got bytes"):
        get_segmenter("fixed").segment(b"abc")
