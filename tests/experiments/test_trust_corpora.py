"""Corpus specs: every option is typed and bounded, a repeated key is refused, and a corpus folder
never reads bipe's own cache or reports back as documents."""

from __future__ import annotations

import random

import pytest

from experiments.corpora import load_corpus
from experiments.errors import ExperimentError
from experiments.pipeline import CACHE_MARKER, CorpusTokens


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("arith:seed=abc", "must be an integer"),
        ("arith:seed=-1", "seed must be >= 0"),
        ("arith:max_depth=5000", "between 2 and 12"),
        ("arith:max_depth=-3", "between 2 and 12"),
        ("arith:max_depth=2.5", "must be an integer"),
        ("arith:seed=1,seed=2", "given twice"),
        ("hf:dataset=json,own_splits=maybe", "true or false"),
    ],
)
def test_corpus_options_are_typed_and_bounded(spec, words):
    with pytest.raises(ExperimentError, match=words):
        load_corpus(spec)


@pytest.mark.parametrize(
    ("glob", "words"),
    [("", "is empty"), ("/etc/*", "inside the folder"), ("../*", "inside the folder")],
)
def test_a_folder_glob_stays_inside_the_folder(tmp_path, glob, words):
    (tmp_path / "a.txt").write_text("Some text.")
    with pytest.raises(ExperimentError, match=words):
        load_corpus(f"folder:path={tmp_path},glob={glob}")


def test_a_folder_holding_a_bipe_cache_is_refused(tmp_path):
    corpus = tmp_path / "notes"
    corpus.mkdir()
    for i in range(12):
        (corpus / f"n{i}.txt").write_text(f"Note {i}. It says things.\n" * 5)
    spec = f"folder:path={corpus}"
    CorpusTokens(load_corpus(spec), 260, corpus / "cache").stream("train")
    assert (corpus / "cache" / CACHE_MARKER).is_file()
    with pytest.raises(ExperimentError, match="holds bipe's own files"):
        load_corpus(spec)  # its tokenizer.json and manifests would have become documents
    assert len(list(load_corpus(f"{spec},glob=*.txt").iter_documents())) == 12


def test_hf_data_files_that_match_nothing_name_the_pattern(tmp_path):
    pytest.importorskip("datasets")
    with pytest.raises(ExperimentError, match="matches no file"):
        load_corpus(f"hf:dataset=json,data_files={tmp_path}/none*.json")


def test_parquet_batch_rows_and_damaged_pages(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = random.Random(0)
    rows = [f"Row {i} says {rng.random()}. And more." for i in range(5000)]
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"text": rows}), good, compression="snappy")
    for bad, words in (("0", "between 1 and"), ("2.5", "integer"), ("abc", "integer")):
        with pytest.raises(ExperimentError, match=words):
            load_corpus(f"parquet:path={good},batch_rows={bad}")
    raw = bytearray(good.read_bytes())
    raw[100:3000] = bytes([7]) * 2900  # the first data page, past the magic bytes
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(bytes(raw))
    with pytest.raises(ExperimentError, match="damaged"):
        list(load_corpus(f"parquet:path={damaged}").iter_documents())
