"""The learned `entropy` segmenter: training, thresholds, modalities, persistence, bad use."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmenters import (
    SegmenterInputError,
    SegmenterOptionError,
    check_segmentation,
    get_segmenter,
)
from segmenters.entropy import EntropySegmenter
from segmenters.errors import NotTrainedError
from segmenters.io import read_text_file

GENESIS = Path(__file__).resolve().parents[2] / "experiments" / "data" / "kjv_genesis.txt"
TEXT = read_text_file(GENESIS)


@pytest.fixture(scope="module")
def trained() -> EntropySegmenter:
    return EntropySegmenter(mean_length=6).fit([TEXT])


def test_untrained_use_is_a_typed_error(tmp_path: Path) -> None:
    seg = get_segmenter("entropy")
    assert not seg.trained
    with pytest.raises(NotTrainedError, match=r"not trained: call \.fit"):
        seg.segment("In the beginning")
    with pytest.raises(NotTrainedError):
        seg.save(tmp_path / "m.npz")
    with pytest.raises(NotTrainedError):
        seg.segment_many([[1.0, 2.0], "text"])
    with pytest.raises(SegmenterInputError, match="nothing to train on"):
        seg.fit(["", ""])
    with pytest.raises(SegmenterInputError, match="not a mix"):
        seg.fit(["abc", [1, 2, 3]])
    with pytest.raises(SegmenterOptionError, match="not both"):
        get_segmenter("entropy", threshold=1.0, mean_length=4)
    with pytest.raises(SegmenterOptionError, match="greater than 1"):
        get_segmenter("entropy", mean_length=1)


def test_mean_length_target_and_word_like_cuts(trained: EntropySegmenter) -> None:
    assert trained.train_mean_length == pytest.approx(6, rel=0.15)
    seg = trained.segment(TEXT[:2000])
    check_segmentation(seg)
    # Uncertainty peaks after a space (the next word is open): most cuts start a word.
    starts = [s.start for s in seg][1:]
    after_space = sum(TEXT[i - 1] in " \n" for i in starts) / len(starts)
    assert after_space > 0.5
    strict = EntropySegmenter(threshold=trained.fitted_threshold + 1.0).fit([TEXT])
    assert len(strict.segment(TEXT[:2000])) < len(seg)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_after_training(trained: EntropySegmenter, text: str) -> None:
    for seg in (trained, EntropySegmenter(order=1, rule="jump", measure="surprise").fit(["ab"])):
        check_segmentation(seg.segment(text))


def test_save_load_and_pickle(trained: EntropySegmenter, tmp_path: Path) -> None:
    path = tmp_path / "genesis.npz"
    trained.save(path)
    loaded = get_segmenter("entropy", model=str(path))
    sample = TEXT[5000:7000]
    assert loaded.segment(sample).spans == trained.segment(sample).spans
    assert (
        pickle.loads(pickle.dumps(trained)).segment(sample).spans == trained.segment(sample).spans
    )
    par = trained.segment_many([sample, TEXT[:300], ""], workers=2)  # ships the trained model
    assert [p.spans for p in par] == [trained.segment(t).spans for t in (sample, TEXT[:300], "")]
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    with pytest.raises(SegmenterInputError, match="not a readable entropy model"):
        get_segmenter("entropy", model=str(tmp_path / "bad.npz"))


def test_numeric_series_and_symbol_codes() -> None:
    rng = np.random.default_rng(0)
    # A quiet regime then bursts: the quantised model is unsure where the bursts start.
    x = np.concatenate([np.r_[np.zeros(40), rng.normal(0, 5, 10)] for _ in range(20)])
    seg = EntropySegmenter(order=3, bins=8, mean_length=25).fit([x])
    out = seg.segment(x)
    check_segmentation(out)
    assert not out.is_text and 5 < len(out) < 200
    as_lines = seg.segment("".join(f"{v}\n" for v in x[:200]))  # the value-per-line format
    assert as_lines.is_text and len(as_lines) == len(seg.segment(x[:200]))
    with pytest.raises(SegmenterInputError, match="line 1: 'abc' is not a number"):
        seg.segment("abc")
    with pytest.raises(SegmenterInputError, match="NaN"):
        seg.segment([1.0, float("nan")])
    codes = EntropySegmenter(order=2, rule="jump").fit([np.arange(300) % 5])
    check_segmentation(codes.segment(np.array([0, 1, 2, 9, 9, 3])))  # 9 is unseen: UNK
    with pytest.raises(SegmenterInputError, match="integer codes, got floats"):
        codes.segment([0.5, 1.5])
    with pytest.raises(SegmenterInputError, match="take str, got list"):
        get_segmenter("entropy", train=str(GENESIS)).segment([1, 2, 3])
