"""Corpus specs: every option is typed and bounded, a repeated key is refused, and a corpus folder
never reads bipe's own cache or reports back as documents."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.corpora import (
    CorpusOptionError,
    corpus_entry,
    list_corpora,
    load_corpus,
    make_arith_corpus,
    named,
)
from experiments.corpora.options import check_options, declared_options
from experiments.errors import ExperimentError
from experiments.pipeline import CACHE_MARKER, CorpusTokens
from experiments.specs import parse_spec


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("arith:seed=abc", "must be an integer"),
        ("arith:seed=-1", "seed='-1' must be >= 0"),
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


# ------------------------------------------------- one declaration: type, range, default, text


def test_a_repeated_key_is_refused_in_every_kind_of_spec():
    for spec in ("punct:terminals=.,terminals=?", "fixed:size=4,size=8", "sample:x=1,x=1"):
        with pytest.raises(ExperimentError, match="given twice"):
            parse_spec(spec)


def test_every_builtin_corpus_declares_the_type_of_each_option():
    for name in list_corpora():
        for option in declared_options(corpus_entry(name).load):
            assert option.kinds, f"corpus {name!r} option {option.name!r} has no declared type"


def test_a_bad_option_lists_the_options_with_their_ranges():
    with pytest.raises(CorpusOptionError, match=r"max_depth \(an integer, between 2 and 12"):
        load_corpus("arith:max_depth=5000")
    with pytest.raises(CorpusOptionError, match=r"batch_rows \(an integer, between 1 and"):
        load_corpus("parquet:path=x.parquet,batch_rows=0")


def test_text_options_keep_their_text_as_written(tmp_path, monkeypatch):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"007": "Some text here.", "1e3": "x"}) + "\n", encoding="utf-8")
    docs = list(load_corpus(f"jsonl:path={data},text=007,id=1e3").iter_documents())
    assert [(d.id, d.text) for d in docs] == [("x", "Some text here.")]  # not field 7 nor 1000.0
    (tmp_path / "2019.10").mkdir()
    (tmp_path / "2019.10" / "a.txt").write_text("A note.")
    monkeypatch.chdir(tmp_path)
    assert len(list(load_corpus("folder:path=2019.10").iter_documents())) == 1


@pytest.mark.parametrize("word", ["true", "false"])
def test_a_path_option_given_a_bool_word_is_a_path_not_the_default(word):
    # before: root=true was Path(True), a TypeError; root=false silently read the stdlib
    with pytest.raises(ExperimentError, match=f"{word} not found"):
        load_corpus(f"cpython:root={word}")


@pytest.mark.parametrize("spec", ["jsonl:path=x.jsonl,text=", "hf:dataset=json,split=   "])
def test_an_empty_text_option_is_refused_before_reading(spec):
    with pytest.raises(CorpusOptionError, match="is empty"):
        load_corpus(spec)


def test_max_docs_true_is_not_one_document():
    with pytest.raises(ExperimentError, match="max_docs"):
        load_corpus("sample", max_docs=True)


def test_arith_refuses_what_it_cannot_make_when_called_directly():
    with pytest.raises(ExperimentError, match="between 2 and 12"):
        make_arith_corpus(10, 0, max_depth=5000)  # was a RecursionError
    with pytest.raises(ExperimentError, match=r"GB of text.*limit 2 GB"):
        make_arith_corpus(1_000_000, 0, max_depth=12)  # was hours and hundreds of GB
    with pytest.raises(ExperimentError, match="GB of text"):
        load_corpus("arith:max_depth=12", max_docs=100_000)


def test_a_docs_root_too_big_to_be_one_is_refused_before_it_is_walked(tmp_path, monkeypatch):
    for i in range(5):
        (tmp_path / f"d{i}").mkdir()
    monkeypatch.setattr(named, "MAX_STDLIB_DIRS", 3)
    for spec in ("pydocs", "cpython"):
        with pytest.raises(ExperimentError, match="more than 3 directories"):
            load_corpus(f"{spec}:root={tmp_path}")


def test_hf_own_splits_must_be_a_bool_when_called_directly():
    pytest.importorskip("datasets")
    from experiments.corpora.sources_hf import load_hf

    with pytest.raises(ExperimentError, match="own_splits must be true or false"):
        load_hf(dataset="json", own_splits="false")  # bool("false") is True


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(list_corpora())), st.data())
def test_any_option_text_is_read_as_declared_or_refused(name, data):
    load = corpus_entry(name).load
    options = declared_options(load)
    if not options:
        return
    option = data.draw(st.sampled_from(options))
    text = data.draw(
        st.one_of(st.text(max_size=12), st.from_regex(r"-?\d{1,25}(\.\d+)?", fullmatch=True))
    )
    try:
        value = check_options(name, load, {option.name: text})[option.name]
    except CorpusOptionError as exc:
        assert option.name in str(exc)
        return
    assert type(value) in option.kinds
    if isinstance(value, int | float) and not isinstance(value, bool) and option.limit:
        assert option.limit.holds(value)


@pytest.mark.parametrize("marker", [".bipe-cache", ".bipe-output"])
def test_a_folder_inside_a_bipe_directory_is_refused(tmp_path, marker):
    (tmp_path / marker).write_text("")
    (tmp_path / "shards").mkdir()
    (tmp_path / "shards" / "manifest.txt").write_text("Not a document.")
    with pytest.raises(ExperimentError, match=f"lies inside {tmp_path}.*{marker}"):
        load_corpus(f"folder:path={tmp_path / 'shards'}")
