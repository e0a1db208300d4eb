"""`sentence`: real spaCy pipelines, exact spans, long texts in pieces, fallbacks, labelled accuracy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from segmenters import (
    SegmenterInputError,
    SegmenterOptionError,
    check_segmentation,
    get_segmenter,
)
from segmenters.sentence import _attach
from segmenters.sentence_eval import load_eval_set, score
from segmenters.spacy_pipelines import SentenceModelWarning

spacy = pytest.importorskip("spacy")
PROSE = (
    'It was late.  The rain had stopped... Dr. Moreau said "Go!" and left.\n\n'
    "Prices rose 2.5% in May. See https://example.org/a.b?c=1 for more! Why? Because.\n"
    "  1. First item.\n  2. Second item.\n\nThe end"
)


@pytest.fixture(scope="session")
def sentencizer():
    return get_segmenter("sentence", mode="sentencizer")


@pytest.fixture(scope="session")
def senter():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SentenceModelWarning)
        return get_segmenter("sentence", mode="senter")


@pytest.fixture(scope="session")
def spacy_sentencizer():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = 10**7
    return nlp


_REFERENCE = spacy.blank("en")
_REFERENCE.add_pipe("sentencizer")


def spacy_reference(nlp, text: str) -> list[int]:
    """Boundaries from spaCy's own pipeline on the whole text, with our whitespace convention."""
    from spacy.attrs import IDX, IS_SPACE, SENT_START

    doc = nlp(text)
    if not len(doc):
        return []
    arr = doc.to_array([SENT_START, IDX, IS_SPACE]).view(np.int64)
    starts = arr[:, 0] == 1
    starts[0] = True
    cuts = _attach(starts, arr[:, 1], arr[:, 2].astype(bool))
    return [int(c) for c in cuts if 0 < c < len(text)]


def inner(seg) -> list[int]:
    return [s.start for s in seg][1:]


def test_whitespace_belongs_to_the_preceding_sentence(sentencizer) -> None:
    seg = sentencizer.segment("  Hello there.  How are you?\n\nFine. ")
    check_segmentation(seg)
    assert [s.text for s in seg] == ["  Hello there.  ", "How are you?\n\n", "Fine. "]
    assert seg.info == {
        "mode": "sentencizer",
        "requested_mode": "sentencizer",
        "model": "blank:en",
        "fallback": False,
        "language": "en",
    }


def test_empty_and_whitespace_only(sentencizer, senter) -> None:
    for seg in (sentencizer, senter):
        assert len(seg.segment("")) == 0
        ws = seg.segment(" \n\t ")
        check_segmentation(ws)
        assert len(ws) == 1


@pytest.mark.parametrize("mode", ["sentencizer", "senter", "parser"])
def test_modes_give_exact_partitions(mode: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SentenceModelWarning)
        seg = get_segmenter("sentence", mode=mode).segment(PROSE)
    check_segmentation(seg)
    assert seg.info["requested_mode"] == mode
    assert len(seg) >= 5
    assert seg[-1].text == "The end"


def test_sentencizer_equals_spacy_component(sentencizer, spacy_sentencizer) -> None:
    assert inner(sentencizer.segment(PROSE)) == spacy_reference(spacy_sentencizer, PROSE)


@given(
    st.text(st.sampled_from(list("ab .!?\"')\n\t\r\x0c\xa0\u3000…。¿;:,0123")), max_size=200),
    st.integers(1, 40),
)
def test_pieces_never_change_the_sentencizer(text: str, piece: int) -> None:
    seg = get_segmenter("sentence", piece_chars=piece).segment(text)
    check_segmentation(seg)
    assert inner(seg) == spacy_reference(_REFERENCE, text)


@given(st.text(max_size=150))
def test_any_unicode_partitions(text: str) -> None:
    seg = get_segmenter("sentence").segment(text)
    check_segmentation(seg)


def test_long_text_in_pieces_equals_whole(senter) -> None:
    text = " ".join(f"Sentence number {i} is here. It has {i % 7} parts!" for i in range(400))
    text += "\n\n" + "word " * 3000  # a long stretch with no sentence end
    text += "x" * 5000 + ". Last one."  # and one with no whitespace at all
    whole = senter.segment(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SentenceModelWarning)
        windowed = get_segmenter("sentence", mode="senter", max_length=3000).segment(text)
    check_segmentation(windowed)
    assert windowed.spans == whole.spans
    rule_small = get_segmenter("sentence", piece_chars=64).segment(text)
    assert rule_small.spans == get_segmenter("sentence").segment(text).spans


def test_segment_many_batches_equal_single(senter, sentencizer) -> None:
    texts = [PROSE, "", "One. Two.", "No end here", PROSE[::-1]]
    for seg in (senter, sentencizer):
        assert seg.segment_many(texts) == [seg.segment(t) for t in texts]


def test_workers_two_equals_sequential(sentencizer) -> None:
    texts = [PROSE * (i % 3 + 1) for i in range(8)]
    assert sentencizer.segment_many(texts, workers=2) == sentencizer.segment_many(texts)


def test_fallback_warns_and_is_recorded() -> None:
    with pytest.warns(SentenceModelWarning, match="blank:en"):
        seg = get_segmenter("sentence", mode="senter", model="no_such_model_xyz")
    out = seg.segment("One. Two.")
    assert out.info["fallback"] is True and out.info["mode"] == "sentencizer"
    assert out.info["requested_mode"] == "senter" and out.info["model"] == "blank:en"
    assert out.to_dict()["info"]["model"] == "blank:en"


def test_other_language_by_code() -> None:
    seg = get_segmenter("sentence", language="de").segment("Das ist gut. Wir gehen jetzt.")
    assert [s.text for s in seg] == ["Das ist gut. ", "Wir gehen jetzt."]


def test_bad_options_and_input(sentencizer) -> None:
    with pytest.raises(SegmenterOptionError, match="sentencizer"):
        get_segmenter("sentence", mode="rules")
    with pytest.raises(SegmenterOptionError, match="en"):
        get_segmenter("sentence", language="xx_nope")
    with pytest.raises(SegmenterOptionError, match="max_length"):
        get_segmenter("sentence", max_length=0)
    with pytest.raises(SegmenterInputError, match="bytes"):
        sentencizer.segment(b"One. Two.")
    with pytest.raises(SegmenterOptionError, match="workers"):
        sentencizer.segment_many(["a"], workers=0)


@pytest.mark.parametrize(
    "options, floor",
    [({"mode": "sentencizer"}, 0.55), ({"mode": "senter"}, 0.45), ({"mode": "parser"}, 0.55)],
)
def test_labelled_accuracy(options: dict, floor: float) -> None:
    """Exact sentence lists on tests/data/sentences_eval.jsonl (punct's floor: test_sentence_eval)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SentenceModelWarning)
        seg = get_segmenter("sentence", **options)
    result = score(lambda text: [s.text for s in seg.segment(text)], load_eval_set())
    print(f"\nsentence {options}: accuracy {result.accuracy:.3f}, F1 {result.f1:.3f}")
    assert result.accuracy >= floor
