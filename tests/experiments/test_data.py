"""Tokenisation: local byte-level BPE, on-disk caches, and segment positions per token."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from experiments.corpora import Corpus, CorpusInfo, Document, load_corpus
from experiments.errors import ExperimentError
from experiments.pipeline import TOKEN_SEPARATORS, CorpusTokens, window_positions

INFO = CorpusInfo("toy", "toy", "test", "none", "nothing")


def _toy() -> Corpus:
    docs = [
        Document(f"d{i}", f"Ünïcode {i} here. Second part!\nA new line, é日本.\n")
        for i in range(30)
    ]
    return Corpus(INFO, docs)


def test_bpe_is_trained_once_then_read_from_the_cache(cache_dir):
    a = CorpusTokens(load_corpus("sample"), 300, cache_dir)
    ids = a.stream("train").ids
    assert (a.dir / "tokenizer.json").is_file() and (a.dir / "train.ids.npy").is_file()
    b = CorpusTokens(load_corpus("sample"), 300, cache_dir)
    assert np.array_equal(b.stream("train").ids, ids)
    assert a.actual_vocab_size() == 300 and ids.max() < 300
    text = load_corpus("sample").split("train")[0].text
    assert b.tokenizer.decode(b.tokenizer.encode(text).ids) == text


def test_byte_level_round_trips_unicode_and_separators_are_found(tmp_path):
    t = CorpusTokens(_toy(), 256, tmp_path)
    text = _toy().documents[0].text
    assert t.tokenizer.decode(t.tokenizer.encode(text).ids) == text
    seps = t.separator_ids()
    assert {t.tokenizer.decode([i]) for i in seps} >= {".", "\n"}


def test_a_damaged_cache_file_is_recomputed(tmp_path):
    t = CorpusTokens(_toy(), 260, tmp_path)
    ids = t.stream("train").ids.copy()
    (t.dir / "train.ids.npy").write_bytes(b"garbage")
    again = CorpusTokens(_toy(), 260, tmp_path).stream("train").ids
    assert np.array_equal(again, ids)


def test_token_separator_positions_follow_the_paper(tmp_path):
    t = CorpusTokens(_toy(), 256, tmp_path)
    s = t.stream("train", TOKEN_SEPARATORS, max_intra=64)
    seps = set(t.separator_ids())
    assert s.intra.shape == s.ids.shape == s.segment.shape
    assert np.all(np.diff(s.segment) >= 0)
    first = s.doc_starts[1]  # a document boundary always opens a new segment
    assert s.intra[first] == 0 and s.segment[first] == s.segment[first - 1] + 1
    doc = s.ids[: s.doc_starts[1]]
    from bipe_core.positions import bilevel_ids

    intra, seg = bilevel_ids(torch.from_numpy(doc.astype(np.int64))[None], sorted(seps))
    assert np.array_equal(s.intra[: len(doc)], intra[0].numpy())
    assert np.array_equal(s.segment[: len(doc)], seg[0].numpy())


def test_segmenter_positions_cached_next_to_the_ids(tmp_path):
    t = CorpusTokens(_toy(), 256, tmp_path)
    # the original alignment keeps the original file names (the default, "word", adds -bword)
    s = t.stream("train", "punct", max_intra=16, boundary="start")
    assert list(t.dir.glob("train.punct-*-m16.*.npy"))  # readable prefix, digest of the spec
    assert s.intra.max() < 16 and np.all(np.diff(s.segment) >= 0)
    # a segment boundary follows each "." / "!" / newline of the text
    text = "".join(d.text for d in t.corpus.split("train"))
    assert s.segment[-1] + 1 >= text.count("\n")
    again = CorpusTokens(_toy(), 256, tmp_path).stream(
        "train", "punct", max_intra=16, boundary="start"
    )
    assert np.array_equal(again.segment, s.segment)


@given(st.lists(st.integers(0, 3), min_size=1, max_size=40), st.integers(0, 39))
def test_window_positions_match_recomputing_from_the_window(seg_steps, start):
    # stream positions from segment increments; a window is re-based as if it started the text
    segment = np.cumsum([0, *seg_steps]).astype(np.int64)
    intra = np.zeros_like(segment)
    for i in range(1, len(segment)):
        intra[i] = intra[i - 1] + 1 if segment[i] == segment[i - 1] else 0
    start = min(start, len(segment) - 1)
    wi, ws = window_positions(intra[start:], segment[start:])
    assert ws[0] == 0 and wi[0] == 0
    ref_intra = np.zeros_like(ws)
    for i in range(1, len(ws)):
        ref_intra[i] = ref_intra[i - 1] + 1 if ws[i] == ws[i - 1] else 0
    assert np.array_equal(wi, ref_intra)


def test_bad_vocab_and_empty_split_raise(tmp_path):
    with pytest.raises(ExperimentError, match="vocab_size"):
        CorpusTokens(_toy(), 100, tmp_path)
    one = Corpus(INFO, [Document("only", "just one document.\n")])
    with pytest.raises(ExperimentError, match="no documents in split 'test'"):
        CorpusTokens(one, 256, tmp_path).stream("test")


def test_sep_is_a_registered_position_source_and_segmenters_are_the_default():
    from experiments.pipeline import position_source

    sep, punct = position_source("sep"), position_source("fixed:size=3")
    assert sep.name == TOKEN_SEPARATORS and not sep.segments_text
    assert punct.name == "segmenter" and punct.segments_text
    assert sep.cache_tag("sep", ".\n") != sep.cache_tag("sep", "!")


def test_alignment_boundary_is_part_of_the_positions_cache_key(tmp_path):
    t = CorpusTokens(_toy(), 300, tmp_path)
    old = t.stream("train", "punct", max_intra=16, boundary="start")
    new = t.stream("train", "punct", max_intra=16, boundary="word")
    names = sorted(p.name.split("-m16")[1] for p in t.dir.glob("train.punct-*.segment.npy"))
    assert names == ["-bword.segment.npy", ".segment.npy"]  # "start" adds no suffix
    # " Second" follows "here. " inside a line: it moves to the next segment under "word"
    assert not np.array_equal(old.segment, new.segment)
    assert new.segment.max() == old.segment.max()  # same boundaries, placed differently
    again = CorpusTokens(_toy(), 300, tmp_path).stream(
        "train", "punct", max_intra=16, boundary="start"
    )
    assert np.array_equal(again.segment, old.segment)  # no stale "word" cache reused for "start"
    sep = t.stream("train", "sep", max_intra=16, boundary="word")  # token-level: no alignment
    assert np.array_equal(sep.segment, t.stream("train", "sep", max_intra=16).segment)


def test_boundary_stats_count_what_the_word_boundary_moves(tmp_path):
    from experiments.analysis.alignstats import boundary_stats, format_boundary_stats

    t = CorpusTokens(_toy(), 300, tmp_path)
    old, new = (boundary_stats(t, "punct", "train", b) for b in ("start", "word"))
    assert old.boundaries == new.boundaries > 0 and old.tokens == new.tokens
    assert old.moved == new.moved > 0  # " Second" after "here. " changes segment
    assert new.inside_word == 0
    assert "| word |" in format_boundary_stats([old, new])
