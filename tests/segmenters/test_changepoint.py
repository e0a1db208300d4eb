"""The `changepoint` segmenter against ruptures called directly, and its bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmenters import SegmenterInputError, SegmenterOptionError, check_segmentation, get_segmenter

rpt = pytest.importorskip("ruptures")


def _steps(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.r_[np.zeros(60), np.full(40, 6.0), np.full(50, -3.0)] + rng.normal(size=150)


def test_finds_the_steps_ruptures_finds() -> None:
    x = _steps()
    seg = get_segmenter("changepoint", method="pelt", penalty=20.0).segment(x)
    check_segmentation(seg)
    bare = rpt.Pelt(model="l2", min_size=2, jump=1).fit(x).predict(pen=20.0)
    assert seg.boundaries == bare
    assert [s.start for s in seg][1:] == [60, 100]
    counted = get_segmenter("changepoint", method="binseg", n_segments=3).segment(x)
    assert counted.boundaries == rpt.Binseg(model="l2", min_size=2).fit(x).predict(n_bkps=2)


def test_text_input_gives_line_spans() -> None:
    x = _steps()
    text = "# series\n" + "\n".join(f"{v:.3f}" for v in x) + "\n"
    seg = get_segmenter("changepoint", penalty=20.0).segment(text)
    check_segmentation(seg)
    assert seg.is_text
    lines = text.splitlines(keepends=True)
    assert seg[1].text.startswith(lines[61])  # value 60 is on line 61 (after the header)
    assert all(s.start == 0 or text[s.start - 1] == "\n" for s in seg)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=80),
    method=st.sampled_from(["pelt", "binseg", "bottomup", "window"]),
    min_size=st.integers(1, 6),
    k=st.none() | st.integers(1, 200),
)
def test_any_series_is_partitioned(
    values: list[float], method: str, min_size: int, k: int | None
) -> None:
    opts = {"method": method, "min_size": min_size}
    if k is not None and method != "pelt":
        opts["n_segments"] = k
    seg = get_segmenter("changepoint", **opts).segment(values)
    check_segmentation(seg)
    assert len(seg.text) == len(values)
    if k is not None and method != "pelt":
        assert len(seg) <= k


def test_bad_input_and_options() -> None:
    seg = get_segmenter("changepoint")
    assert seg.segment([]).spans == [] and seg.segment([4.0]).spans == [(0, 1)]
    with pytest.raises(SegmenterInputError, match="index 3"):
        seg.segment([1.0, 2.0, 3.0, float("nan")])
    with pytest.raises(SegmenterInputError, match="line 2"):
        seg.segment("1\nabc\n")
    with pytest.raises(SegmenterOptionError, match="not both"):
        get_segmenter("changepoint", method="binseg", penalty=3.0, n_segments=2)
    with pytest.raises(SegmenterOptionError, match="takes a penalty"):
        get_segmenter("changepoint", method="pelt", n_segments=2)
    assert get_segmenter("changepoint", penalty=20.0).segment(_steps()).boundaries == [60, 100, 150]
    with pytest.raises(SegmenterOptionError, match="needs n_segments"):
        get_segmenter("changepoint", method="dynp")
    with pytest.raises(SegmenterOptionError, match="penalty"):
        get_segmenter("changepoint", penalty=-1)
    with pytest.raises(SegmenterOptionError, match="unknown changepoint model"):
        get_segmenter("changepoint", model="l7")
