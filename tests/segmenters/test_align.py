"""Token alignment against a slow obvious implementation; special tokens; split vs clamp."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from segmenters import (
    SegmenterInputError,
    SegmenterOptionError,
    get_segmenter,
    make_segmentation,
)
from segmenters.align import align_encoding, align_levels, align_tokens
from segmenters.base import Segmentation


def slow_align(seg: Segmentation, offsets: list[tuple[int, int]], max_intra=None, overflow="split"):
    """The documented semantics, one token at a time."""
    n = len(offsets)
    anchors = []
    for i, (s, e) in enumerate(offsets):
        if e > s:
            anchors.append(s)
            continue
        nxt = [offsets[j][0] for j in range(i + 1, n) if offsets[j][1] > offsets[j][0]]
        prv = [offsets[j][0] for j in range(i) if offsets[j][1] > offsets[j][0]]
        anchors.append(nxt[0] if nxt else prv[-1] if prv else 0)
    source = []
    for a in anchors:
        inside = [k for k, sg in enumerate(seg.segments) if sg.start <= a < sg.end]
        source.append(inside[0] if inside else max(len(seg.segments) - 1, 0))
    intra, segment = [], []
    cur, pos = -1, 0
    for i, src in enumerate(source):
        full = max_intra is not None and overflow == "split" and pos + 1 >= max_intra
        if i == 0 or src != source[i - 1] or full:
            cur, pos = cur + 1, 0
        else:
            pos += 1
        intra.append(pos if max_intra is None or overflow == "split" else min(pos, max_intra - 1))
        segment.append(cur)
    return intra, segment


@st.composite
def seg_and_offsets(draw):
    n = draw(st.integers(0, 40))
    text = "x" * n
    cuts = sorted(draw(st.sets(st.integers(1, max(n - 1, 1)), max_size=10))) if n > 1 else []
    cuts = [c for c in cuts if 0 < c < n]
    ends = [*cuts, n] if n else []
    seg = make_segmentation(text, zip([0, *ends[:-1]], ends))
    pos, offsets = 0, []
    for _ in range(draw(st.integers(0, 30))):
        if draw(st.booleans()) or pos >= n:  # special token
            s = draw(st.integers(0, n))
            offsets.append((s, s))
        else:
            length = draw(st.integers(1, max(1, min(4, n - pos))))
            offsets.append((pos, pos + length))
            pos += length + draw(st.integers(0, 2))
    return seg, offsets


@given(seg_and_offsets(), st.sampled_from([None, 1, 2, 3]), st.sampled_from(["split", "clamp"]))
def test_matches_slow_reference(data, max_intra, overflow) -> None:
    seg, offsets = data
    got = align_tokens(seg, offsets, max_intra=max_intra, overflow=overflow)
    intra, segment = slow_align(seg, offsets, max_intra, overflow)
    assert got.intra.tolist() == intra
    assert got.segment.tolist() == segment
    assert got.intra.dtype == np.int64 and got.segment.dtype == np.int64


def test_special_tokens_join_next_then_previous() -> None:
    seg = get_segmenter("punct").segment("Hi there. Bye now.")
    offsets = [(0, 0), (0, 2), (3, 8), (8, 9), (0, 0), (10, 13), (14, 17), (17, 18), (0, 0)]
    pos = align_tokens(seg, offsets)
    # [CLS] Hi there . [SEP] Bye now . [SEP]
    assert pos.intra.tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 4]
    assert pos.segment.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert pos.as_tuple()[0] is pos.intra
    assert pos.n_segments == 2


def test_split_versus_clamp() -> None:
    seg = make_segmentation("abcdefg", [(0, 7)])
    offsets = [(i, i + 1) for i in range(7)]
    split = align_tokens(seg, offsets, max_intra=3)
    assert split.intra.tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert split.segment.tolist() == [0, 0, 0, 1, 1, 1, 2]
    clamp = align_tokens(seg, offsets, max_intra=3, overflow="clamp")
    assert clamp.intra.tolist() == [0, 1, 2, 2, 2, 2, 2]
    assert clamp.segment.tolist() == [0] * 7


def test_later_segments_shift_after_a_split() -> None:
    seg = make_segmentation("aaab", [(0, 3), (3, 4)])
    pos = align_tokens(seg, [(0, 1), (1, 2), (2, 3), (3, 4)], max_intra=2)
    assert pos.segment.tolist() == [0, 0, 1, 2]
    assert pos.source.tolist() == [0, 0, 0, 1]


def test_segments_without_tokens_leave_no_gap() -> None:
    seg = make_segmentation("a \n\nb", [(0, 2), (2, 3), (3, 4), (4, 5)])
    pos = align_tokens(seg, [(0, 1), (4, 5)])
    assert pos.segment.tolist() == [0, 1]
    assert pos.source.tolist() == [0, 3]


def test_empty_inputs() -> None:
    seg = get_segmenter("punct").segment("")
    assert len(align_tokens(seg, [])) == 0
    pos = align_tokens(seg, [(0, 0), (0, 0)])
    assert pos.intra.tolist() == [0, 1] and pos.segment.tolist() == [0, 0]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_intra": 0}, SegmenterOptionError, "max_intra must be a positive int"),
        ({"max_intra": 2.0}, SegmenterOptionError, "max_intra must be a positive int"),
        ({"overflow": "wrap"}, SegmenterOptionError, "overflow must be one of 'split', 'clamp'"),
    ],
)
def test_bad_limits(kwargs, error, message) -> None:
    seg = make_segmentation("ab", [(0, 2)])
    with pytest.raises(error, match=message):
        align_tokens(seg, [(0, 1)], **kwargs)


def test_bad_offsets_and_segmentation() -> None:
    seg = make_segmentation("ab", [(0, 2)])
    with pytest.raises(SegmenterInputError, match="need 0 <= start <= end"):
        align_tokens(seg, [(1, 0)])
    with pytest.raises(SegmenterInputError, match="takes a Segmentation"):
        align_tokens([(0, 2)], [(0, 1)])


def test_levels_coarse_to_fine() -> None:
    text = "ab cd\nef"
    coarse = make_segmentation(text, [(0, 6), (6, 8)]).segments
    fine = make_segmentation(text, [(0, 3), (3, 6), (6, 8)]).segments
    seg = Segmentation(text, fine, "fine", {"coarse": coarse, "fine": fine})
    lv = align_levels(seg, [(0, 2), (3, 5), (6, 8)])
    assert lv.levels == ("coarse", "fine")
    assert lv.segment.tolist() == [[0, 0], [0, 1], [1, 2]]
    assert lv.intra.tolist() == [[0, 0], [1, 0], [0, 0]]
    assert lv.at("fine").segment.tolist() == [0, 1, 2]


def test_many_tokens_vectorised() -> None:
    n = 2_000_000
    text = "ab " * (n // 3)
    seg = get_segmenter("fixed", size=30).segment(text)
    offsets = np.stack([np.arange(len(text)), np.arange(len(text)) + 1], axis=1)
    pos = align_tokens(seg, offsets)
    assert pos.intra.max() == 29 and pos.n_segments == len(seg)


def _tiny_tokenizer():
    """A word-level HF tokenizer with [CLS]/[SEP] around each text; skips without `tokenizers`."""
    tokenizers = pytest.importorskip("tokenizers")
    models, pre_tokenizers = tokenizers.models, tokenizers.pre_tokenizers
    processors, trainers = tokenizers.processors, tokenizers.trainers
    tok = tokenizers.Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["[UNK]", "[CLS]", "[SEP]"])
    tok.train_from_iterator(["Hello world. How are you? Fine."], trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 1), ("[SEP]", 2)]
    )
    return tok


def test_real_hf_encoding() -> None:
    text = "Hello world. How are you? Fine."
    enc = _tiny_tokenizer().encode(text)
    seg = get_segmenter("punct").segment(text)
    pos = align_encoding(seg, enc)
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]"
    # [CLS] Hello world . | How are you ? | Fine . [SEP]
    assert pos.segment.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    assert pos.intra.tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2]
    assert (align_tokens(seg, enc.offsets).segment == pos.segment).all()
    with pytest.raises(SegmenterInputError, match=r"tokenizers\.Encoding"):
        align_encoding(seg, object())


# ------------------------------------------------------------------ boundary="word" (issue 12)


@st.composite
def spaced_seg_and_tiling(draw):
    """A text of words, spaces and newlines, cut into segments, and tokens tiling it."""
    text = draw(st.text(alphabet="ab .\n\u00a0", min_size=1, max_size=40))
    n = len(text)
    cuts = sorted(c for c in draw(st.sets(st.integers(1, n), max_size=8)) if c < n)
    ends = [*cuts, n]
    seg = make_segmentation(text, zip([0, *ends[:-1]], ends))
    bounds = sorted(c for c in draw(st.sets(st.integers(1, n), max_size=20)) if c < n)
    offsets = list(zip([0, *bounds], [*bounds, n]))
    return seg, offsets


def _segment_of(seg: Segmentation, char: int) -> int:
    return next(k for k, s in enumerate(seg.segments) if s.start <= char < s.end)


@given(spaced_seg_and_tiling())
def test_word_boundary_places_tokens_by_first_non_space_char(data) -> None:
    seg, offsets = data
    got = align_tokens(seg, offsets, boundary="word")
    for (s, e), src in zip(offsets, got.source.tolist()):
        solid = [i for i in range(s, e) if not seg.text[i].isspace()]
        assert src == _segment_of(seg, solid[0] if solid else s)


@given(spaced_seg_and_tiling())
def test_word_boundary_equals_start_without_leading_space(data) -> None:
    seg, offsets = data
    if any(seg.text[s].isspace() for s, _ in offsets):
        return
    a = align_tokens(seg, offsets, boundary="word")
    b = align_tokens(seg, offsets, boundary="start")
    assert a.segment.tolist() == b.segment.tolist() and a.intra.tolist() == b.intra.tolist()


def test_bad_boundary_is_a_typed_error() -> None:
    seg = get_segmenter("punct").segment("Hi. Bye.")
    with pytest.raises(SegmenterOptionError, match="boundary"):
        align_tokens(seg, [(0, 2)], boundary="left")


def test_word_boundary_on_a_real_byte_level_bpe() -> None:
    """With a locally trained byte-level BPE (as experiments.data trains it), "start" places the
    space-led first word of a sentence in the previous segment; "word" never opens a segment
    inside a word and puts every token's letters in its segment."""
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import decoders, models, pre_tokenizers, trainers

    sentences = [
        "And God said, Let there be light. And there was light.",
        "Haste thee; the hasty man hath haste. Hast thou seen him? He hasteth away!",
        "The evening and the morning were the first day. Then the second.",
    ]
    corpus = [" ".join(sentences[i % 3 :] + sentences[: i % 3]) for i in range(30)]
    tok = tokenizers.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    text = "\n".join(corpus[:3])
    seg = get_segmenter("punct").segment(text)
    enc = tok.encode(text)
    offsets = np.asarray(enc.offsets)
    starts = {s.start for s in seg.segments}

    def opening_chars(pos):
        opens = np.flatnonzero(np.diff(pos.segment) > 0) + 1
        out = []
        for i in opens:
            s, e = offsets[i]
            solid = [c for c in range(s, e) if not text[c].isspace()]
            out.append((int(s), solid[0] if solid else int(s)))
        return out

    old = align_encoding(seg, enc, boundary="start")
    new = align_encoding(seg, enc, boundary="word")
    # the old alignment opens segments after a space-led word (" And" stays behind)
    assert any(first not in starts for _, first in opening_chars(old))
    for s, first in opening_chars(new):
        assert first in starts  # every new segment opens at a segment's first word
        assert s == 0 or not (text[s - 1].isalnum() and text[s].isalnum())  # never mid-word
    for (s, e), src in zip(offsets.tolist(), new.source.tolist()):
        solid = [c for c in range(s, e) if not text[c].isspace()]
        if solid:
            assert seg.segments[src].start <= solid[0] < seg.segments[src].end
