"""Invariants for every registered segmenter whose dependencies are installed, on any Unicode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segmenters import (
    MissingDependencyError,
    SegmenterInputError,
    SegmenterOptionError,
    check_segmentation,
    get_segmenter,
    list_segmenters,
)

# Options a segmenter needs to run on arbitrary text (the code segmenter needs a language, the
# learned one a training text).
GENESIS = Path(__file__).resolve().parents[2] / "experiments" / "data" / "kjv_genesis.txt"
NEEDS = {"code": {"language": "python"}, "entropy": {"train": str(GENESIS)}}
# Segmenters of a narrower input domain: arbitrary text either segments exactly or raises
# SegmenterInputError (tests/segmenters/test_modalities.py covers their domains); their
# workers check runs on texts of their domain.
DOMAIN = {
    "changepoint": [f"{i % 7}\n{(i * 3) % 11}\n# c\n\n{i}.5\n" * (i % 5 + 1) for i in range(40)],
    "dna": [("ACGTTGATGCCA\nTTTAGN" * (i % 5 + 1))[i % 3 :] for i in range(40)],
    "protein": [("MKNGSAANVTQ\nNGTAW*" * (i % 5 + 1))[i % 4 :] for i in range(40)],
}
# Extra configurations worth covering beyond each segmenter's defaults.
EXTRA = [
    ("punct", {"preset": "paper"}),
    ("punct", {"lines": True}),
    ("fixed", {"size": 1}),
    ("fixed", {"size": 7}),
]
# Segmenters whose worker processes load heavy models: their workers=2 check is slow.
HEAVY = {"sentence", "code"}

PIECES = [
    "\r\n", "\r", "\n", "\u2028", "\u2029", "\x85", "\u00a0", "\t", " ", ". ", "...", "?!",
    "Dr. ", "3.14", "e.g.", "http://x.org/a?b.", "a@b.co", "\n1. ", "。", "।", "؟", "\u0301",
    "e\u0301", "👩\u200d👩\u200d👧", "🇫🇷", "\ud800", "\udfff", "\ufeff", "\x00", "\u200b", '"', ")",
]  # fmt: skip
TEXT = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(PIECES)), max_size=25).map("".join)


def _configs() -> list[Any]:
    out = []
    for name in list_segmenters():
        out.append(pytest.param(name, NEEDS.get(name, {}), id=name))
    out += [pytest.param(n, o, id=f"{n}-{'-'.join(map(str, o.values()))}") for n, o in EXTRA]
    return out


_cache: dict[str, Any] = {}


def _segmenter(name: str, options: dict[str, Any]) -> Any:
    key = f"{name}{sorted(options.items())}"
    if key not in _cache:
        try:
            _cache[key] = get_segmenter(name, **options)
        except (MissingDependencyError, ImportError) as exc:
            _cache[key] = exc
        except SegmenterOptionError as exc:  # a plug-in needing options we do not know
            _cache[key] = exc
    seg = _cache[key]
    if isinstance(seg, Exception):
        pytest.skip(f"{name} unavailable here: {seg}")
    return seg


@pytest.mark.parametrize(("name", "options"), _configs())
@given(text=TEXT)
def test_partition_invariants(name: str, options: dict[str, Any], text: str) -> None:
    seg = _segmenter(name, options)
    if name in DOMAIN:
        try:
            out = seg.segment(text)
        except SegmenterInputError:
            return
    else:
        out = seg.segment(text)
    check_segmentation(out)
    assert "".join(s.text for s in out.segments) == text
    if name in ("punct", "fixed"):
        assert all(not (text[s.end - 1] == "\r" and text[s.end : s.end + 1] == "\n") for s in out)


@pytest.mark.parametrize(("name", "options"), _configs())
@pytest.mark.parametrize("bad", [b"bytes", None, 3, ["a list"]])
def test_non_text_is_rejected(name: str, options: dict[str, Any], bad: object) -> None:
    seg = _segmenter(name, options)
    with pytest.raises(SegmenterInputError):
        seg.segment(bad)
    with pytest.raises(SegmenterInputError):
        seg.segment_many(["fine", bad])


def _workers_params() -> list[Any]:
    out = []
    for name in list_segmenters():
        marks = [pytest.mark.slow] if name in HEAVY else []
        out.append(pytest.param(name, NEEDS.get(name, {}), id=name, marks=marks))
    return out


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("name", "options"), _workers_params())
def test_segment_many_with_workers_keeps_order(name: str, options: dict[str, Any]) -> None:
    seg = _segmenter(name, options)
    prose = [f"Text {i}. It has {i} parts.\r\nLine two? " * (i % 5 + 1) for i in range(40)]
    texts = [*DOMAIN.get(name, prose), ""]
    sequential = seg.segment_many(texts)
    parallel = seg.segment_many(texts, workers=2)
    assert [s.spans for s in parallel] == [s.spans for s in sequential]
    assert [s.text for s in parallel] == texts
    with pytest.raises(SegmenterOptionError, match="workers must be a positive int"):
        seg.segment_many(texts, workers=0)
