"""The token cache never hands back an array that another spec, a damaged file or a foreign
tokenizer made, and a cache it cannot write is a typed error, never a traceback or a SIGBUS."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.corpora import Corpus, CorpusInfo, Document, load_corpus
from experiments.pipeline import (
    CACHE_MARKER,
    CacheError,
    CorpusTokens,
    PositionSource,
    encoding,
    register_position_source,
)
from experiments.pipeline.shards import ArraySpec, build_sharded, cache_os_error, spec_name

INFO = CorpusInfo("toy", "toy", "test", "none", "nothing")


def _toy(n: int = 30) -> Corpus:
    docs = [Document(f"d{i}", f"One {i}! Two {i}? Three {i}. Four.\n" * 3) for i in range(n)]
    return Corpus(INFO, docs)


def test_specs_that_share_a_safe_name_never_share_a_cache_entry(tmp_path):
    # '.!' and '.?' both became '___' in the old file names, and the second read the first's cache
    bang = CorpusTokens(_toy(), 260, tmp_path).stream("train", "punct:terminals=.!")
    ask = CorpusTokens(_toy(), 260, tmp_path).stream("train", "punct:terminals=.?")
    fresh = CorpusTokens(_toy(), 260, tmp_path / "fresh").stream("train", "punct:terminals=.?")
    assert np.array_equal(ask.segment, fresh.segment)
    assert not np.array_equal(bang.segment, ask.segment)


def test_a_spec_of_any_length_gives_a_file_name_the_system_accepts(tmp_path):
    long = "punct:terminals=." + "!" * 400  # its old file name was over 255 bytes
    name = spec_name(long + "a" * 5000)
    assert len(name) <= 60 and spec_name("a" * 5000) != spec_name("a" * 5001)
    stream = CorpusTokens(_toy(), 260, tmp_path).stream("train", long)
    assert stream.segment is not None


def test_a_same_size_corrupted_array_is_rebuilt_with_a_warning(tmp_path):
    t = CorpusTokens(_toy(), 260, tmp_path)
    ids = np.array(t.stream("train").ids)
    path = t.dir / "train.ids.npy"
    raw = bytearray(path.read_bytes())
    raw[-8:] = bytes(8)  # same size, other values: a load that checks only shapes takes it
    path.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="checksum"):
        again = CorpusTokens(_toy(), 260, tmp_path).stream("train").ids
    assert np.array_equal(again, ids)


def test_a_foreign_tokenizer_in_the_cache_is_not_used(tmp_path):
    mine = CorpusTokens(_toy(), 260, tmp_path)
    ids = np.array(mine.stream("train").ids)
    other = CorpusTokens(load_corpus("sample"), 300, tmp_path / "other")
    other.tokenizer  # noqa: B018
    (mine.dir / "tokenizer.json").write_bytes((other.dir / "tokenizer.json").read_bytes())
    with pytest.warns(UserWarning, match="tokenizer"):
        again = CorpusTokens(_toy(), 260, tmp_path)
        assert again.actual_vocab_size() == 260
    assert np.array_equal(again.stream("train").ids, ids)


def test_the_cache_root_carries_its_marker(tmp_path):
    CorpusTokens(_toy(), 260, tmp_path / "c").stream("train")
    assert (tmp_path / "c" / CACHE_MARKER).is_file()


def test_a_cache_dir_that_cannot_be_written_is_a_typed_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(CacheError, match="cannot write the token cache"):
        CorpusTokens(_toy(), 260, blocker / "cache")


_FULL_DISK = """
import resource, signal, sys, warnings
from pathlib import Path
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
from experiments.corpora import Corpus, CorpusInfo, Document
from experiments.pipeline import CacheError, CorpusTokens
docs = [Document(f"d{i}", "Words and more words. " * 400) for i in range(60)]
corpus = Corpus(CorpusInfo("big", "big", "test", "none", "x"), docs)
t = CorpusTokens(corpus, 260, sys.argv[1], shard_chars=int(sys.argv[3]))
t.tokenizer
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    t.stream("train", "fixed:size=4,unit=chars")
except CacheError as exc:
    print("CacheError:", exc)
    sys.exit(3)
"""


@pytest.mark.parametrize(
    ("limit", "shard_chars"),
    [(20_000, 2_000_000), (60_000, 4_000)],
    ids=["while-writing-a-shard", "while-merging-shards-through-a-map"],
)
def test_a_full_disk_during_a_build_is_a_typed_error_and_leaves_no_temporary_file(
    tmp_path, limit, shard_chars
):
    # the merge writes through a memory map: without allocating the file first, a full disk
    # killed the process with SIGBUS and left the temporary file behind
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(_FULL_DISK),
            str(tmp_path),
            str(limit),
            str(shard_chars),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 3, run.stderr[-2000:]
    assert "cannot write the token cache" in run.stdout
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".") and "npy" in p.name]
    assert leftovers == []


# ------------------------------------------------------------------ long documents, bounded memory

_TEXT = st.lists(
    st.sampled_from([*"ab Z9.,'!\n\t\r", "\u00e9", "e\u0301", "\u00a0", "\x1c", "  "]),
    max_size=80,
).map("".join)


@pytest.fixture(scope="module")
def small_tokenizer(tmp_path_factory):
    return CorpusTokens(_toy(), 300, tmp_path_factory.mktemp("tok")).tokenizer


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(_TEXT, min_size=1, max_size=4), piece=st.integers(1, 8))
def test_encoding_in_pieces_gives_the_ids_and_offsets_of_one_whole_encode(
    small_tokenizer, monkeypatch, texts, piece
):
    monkeypatch.setattr(encoding, "PIECE_CHARS", piece)
    monkeypatch.setattr(encoding, "BATCH_CHARS", 2 * piece)
    assert "".join(p for _, p in encoding.pieces(texts[0], piece)) == texts[0]
    got = encoding.encode_documents(small_tokenizer, texts, offsets=True)
    for enc, (ids, offsets) in zip(small_tokenizer.encode_batch(texts), got):
        assert ids.tolist() == enc.ids
        assert offsets.tolist() == [list(o) for o in enc.offsets]


_ONE_LINE = """
import resource, sys
from experiments.corpora import Corpus, CorpusInfo, Document
from experiments.pipeline import CorpusTokens
line = "".join(f"Sentence {i} has some words in it. " for i in range(30_000))  # ~1 MB, no newline
docs = [Document("big", line)] + [Document(f"s{i}", "Small. Doc.") for i in range(30)]
corpus = Corpus(CorpusInfo("one", "one", "test", "none", "x"), docs)
warm = Corpus(CorpusInfo("warm", "warm", "test", "none", "x"), docs[1:])
CorpusTokens(warm, 300, sys.argv[1]).stream("train", "punct")  # imports counted before
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
CorpusTokens(corpus, 300, sys.argv[1]).stream("train", "punct")
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_a_long_single_line_document_is_prepared_in_bounded_memory(tmp_path):
    # encoding (and training on) a 1 MB line whole held ~140 bytes per character
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_ONE_LINE), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    # MB above the peak before the build: 54 measured, 387 before
    assert int(run.stdout.split()[-1]) < 150


# ------------------------------------------------------------------ names and checksums, everywhere


def _every_kth(batch, context, spec, max_intra):
    # a registered source whose positions depend on its option: a new segment every k tokens
    k = int(spec.split("=")[1])
    n = len(batch.ids)
    return np.arange(n, dtype=np.int32) % k, (np.arange(n) // k).astype(np.int64)


LOSSY = register_position_source(
    PositionSource("lossytag", _every_kth, False, lambda spec, chars: "same-tag-for-all")
)


def test_a_registered_source_with_a_lossy_tag_keeps_one_entry_per_spec(tmp_path):
    # the old file name was the source's own tag: two specs shared (and rebuilt) one file
    t = CorpusTokens(_toy(), 260, tmp_path)
    three = t.stream("train", "lossytag:k=3")
    five = t.stream("train", "lossytag:k=5")
    assert len(list(t.dir.glob("train.same-tag-for-all*.manifest.json"))) == 2
    stamps = {p: p.stat().st_mtime_ns for p in t.dir.glob("train.same-tag-*.npy")}
    again = CorpusTokens(_toy(), 260, tmp_path).stream("train", "lossytag:k=3")
    assert np.array_equal(again.segment, three.segment) and three.segment[-1] != five.segment[-1]
    assert stamps == {p: p.stat().st_mtime_ns for p in stamps}  # read back, not rebuilt


def test_a_damaged_corpus_index_is_recomputed_with_a_warning(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(30):
        (folder / f"d{i}.txt").write_text(f"One {i}! Two {i}? Three.\n")
    spec = f"folder:path={folder}"
    right = CorpusTokens(load_corpus(spec), 260, tmp_path / "c").index.fingerprint
    (index,) = (tmp_path / "c" / "index").glob("*.json")
    index.write_text(index.read_text().replace(right, "f" * len(right)))  # valid JSON, wrong
    with pytest.warns(UserWarning, match="checksum"):
        again = CorpusTokens(load_corpus(spec), 260, tmp_path / "c")
    assert again.index.fingerprint == right


def _shard(values, fail):
    if fail:
        raise RuntimeError("interrupted")
    return {"x": np.asarray(values, dtype=np.int64)}, {}


def test_a_resumed_build_redoes_a_damaged_shard(tmp_path):
    spec = (ArraySpec("x", "int64"),)

    def tasks(fail_at):
        return lambda: iter([(_shard, ([1, 2, 3], fail_at == 0)), (_shard, ([4, 5], fail_at == 1))])

    with pytest.raises(RuntimeError):
        build_sharded(tmp_path, "s", spec, "key", tasks(fail_at=1))  # shard 0 done, then a kill
    shard = tmp_path / "s.parts" / "0.x.npy"
    raw = bytearray(shard.read_bytes())
    raw[-8:] = (99).to_bytes(8, "little")  # same size, another value
    shard.write_bytes(bytes(raw))
    arrays, _ = build_sharded(tmp_path, "s", spec, "key", tasks(fail_at=None))
    assert arrays["x"].tolist() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("code", "hint"),
    [(errno.EROFS, "not writable"), (errno.EACCES, "not writable"), (errno.ENOSPC, "free space")],
)
def test_an_unwritable_cache_is_told_apart_from_a_full_one(tmp_path, code, hint):
    # a read-only --cache-dir was told to "free space there"
    err = cache_os_error(tmp_path, OSError(code, os.strerror(code)))
    assert isinstance(err, CacheError) and str(tmp_path) in str(err) and hint in str(err)


def test_split_fractions_that_print_alike_keep_their_own_tokenizer(tmp_path, recwarn):
    # ':g' wrote both as 0.1: the two settings shared (and retrained) one tokenizer directory
    a = CorpusTokens(_toy(), 260, tmp_path, val_frac=0.1)
    b = CorpusTokens(_toy(), 260, tmp_path, val_frac=0.1000001)
    assert a.dir != b.dir
    a.tokenizer, b.tokenizer  # noqa: B018
    CorpusTokens(_toy(), 260, tmp_path, val_frac=0.1).tokenizer  # noqa: B018
    assert not [w for w in recwarn if "tokenizer" in str(w.message)]


def test_the_temporary_file_of_a_killed_build_is_removed_by_the_next(tmp_path):
    # a build killed mid-merge (SIGKILL, SIGBUS) leaves its temporary file: 17 MB stayed for good
    t = CorpusTokens(_toy(), 260, tmp_path)
    stale = t.dir / ".train.ids.npy.k1ll3d.npy"
    stale.write_bytes(bytes(1000))
    t.stream("train")
    assert not stale.exists()
