"""Corpus sources (folder, JSONL, Parquet, HF datasets), sharded caches, resume, bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from experiments.cli import main
from experiments.corpora import (
    Corpus,
    CorpusInfo,
    CorpusSourceError,
    list_corpora,
    load_corpus,
    split_documents,
)
from experiments.errors import ExperimentError
from experiments.pipeline import TOKEN_SEPARATORS, CorpusTokens
from experiments.pipeline.shards import ArraySpec, build_sharded

DATA = Path(__file__).resolve().parents[1] / "data" / "corpora"
NOTES = f"folder:path={DATA / 'notes'}"
JSONL = f"jsonl:path={DATA / 'chapters.jsonl'},text=body,id=uid"
PARQUET = f"parquet:path={DATA / 'chapters.parquet'},text=body,id=uid"
HF_JSON = f"hf:dataset=json,data_files={DATA / 'chapters.jsonl'},text=body,id=uid"


def _docs(spec: str) -> list[tuple[str, str]]:
    return [(d.id, d.text) for d in load_corpus(spec).iter_documents()]


def test_sources_and_named_corpora_share_one_registry():
    names = list_corpora()
    assert names[:5] == ["kjv", "cpython", "pydocs", "arith", "sample"]
    assert {"folder", "jsonl", "parquet", "hf"} <= set(names)
    assert load_corpus("arith:seed=3", max_docs=5).documents[0].id == "arith/3/0"
    with pytest.raises(ExperimentError, match="no option 'sed'"):
        load_corpus("arith:sed=3")


def test_jsonl_parquet_and_hf_read_the_same_documents():
    jsonl = _docs(JSONL)
    assert len(jsonl) == 10 and jsonl[0][0] == "genesis-1"
    assert jsonl[0][1].startswith("In the beginning God created")
    assert _docs(PARQUET) == jsonl
    pytest.importorskip("datasets")
    assert _docs(HF_JSON) == jsonl


def test_folder_is_one_document_per_file_and_counts_undecodable_files():
    corpus = load_corpus(NOTES)
    docs = list(corpus.iter_documents())
    assert corpus.streamed and corpus.documents is None
    assert len(docs) == 10 and docs[0].id == "genesis-1.md"
    assert docs[0].text == (DATA / "notes" / "genesis-1.md").read_text(encoding="utf-8")
    assert corpus.reader.skipped == 1  # latin1.txt
    with pytest.raises(CorpusSourceError, match=r"latin1\.txt is not UTF-8"):
        list(load_corpus(NOTES + ",errors=fail").iter_documents())
    markdown = load_corpus(NOTES + ",glob=*.md,errors=fail")
    assert [d.id for d in markdown.iter_documents()] == [d.id for d in docs]


def test_a_bare_path_names_its_source_and_max_docs_takes_the_first():
    assert load_corpus(str(DATA / "notes")).name == "folder-notes"
    with pytest.raises(CorpusSourceError, match=r"no text field 'text'.*uid, body, lang"):
        list(load_corpus(str(DATA / "chapters.jsonl")).iter_documents())
    assert len(list(load_corpus(JSONL, max_docs=3).iter_documents())) == 3


def test_streamed_splits_match_the_in_memory_rule():
    streamed = load_corpus(JSONL)
    listed = Corpus(CorpusInfo("x", "", "", "", ""), list(streamed.iter_documents()))
    parts = split_documents(listed.documents)
    for s in ("train", "val", "test"):
        assert [d.id for d in streamed.split(s)] == [d.id for d in parts[s]]
        assert parts[s]  # ten documents: the tiny-corpus rule fills every split


def test_bad_input_is_a_typed_error_naming_the_problem(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": oops}\n', encoding="utf-8")
    nofield = tmp_path / "nofield.jsonl"
    nofield.write_text('{"text": "a"}\n\n{"body": "b"}\n', encoding="utf-8")
    cases = [
        (f"folder:path={tmp_path / 'nowhere'}", "does not exist"),
        (f"folder:path={empty}", "no file under"),
        (f"jsonl:path={tmp_path / 'nowhere.jsonl'}", "does not exist"),
        (f"jsonl:path={bad}", r"bad\.jsonl:2: not JSON"),
        (f"jsonl:path={nofield}", r"nofield\.jsonl:3: no text field 'text'"),
        (f"jsonl:path={DATA / 'chapters.jsonl'},text=body,id=nope", "no id field 'nope'"),
        (f"jsonl:path={bad},errors=maybe", "errors='maybe'"),
        ("folder", "folder needs path=DIR"),
    ]
    for spec, message in cases:
        with pytest.raises(CorpusSourceError, match=message):
            list(load_corpus(spec).iter_documents())
    pytest.importorskip("pyarrow")
    with pytest.raises(CorpusSourceError, match=r"no column 'content'.*uid, body, lang"):
        load_corpus(f"parquet:path={DATA / 'chapters.parquet'},text=content")


def test_a_dataset_not_in_the_local_cache_is_never_downloaded():
    pytest.importorskip("datasets")
    with pytest.raises(CorpusSourceError, match=r"Nothing is downloaded.*save_to_disk"):
        load_corpus("hf:dataset=no-such-org/no-such-dataset")
    with pytest.raises(CorpusSourceError, match="dataset=NAME"):
        load_corpus("hf:text=body")


def test_hf_load_from_disk_and_own_splits(tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = [json.loads(line) for line in (DATA / "chapters.jsonl").read_text().splitlines()]
    ds = datasets.Dataset.from_list(rows)
    ds.save_to_disk(str(tmp_path / "one"))
    one = load_corpus(f"hf:disk={tmp_path / 'one'},text=body,id=uid")
    assert [(d.id, d.text) for d in one.iter_documents()] == _docs(JSONL)
    dd = datasets.DatasetDict(
        train=ds.select(range(6)), validation=ds.select(range(6, 8)), test=ds.select(range(8, 10))
    )
    dd.save_to_disk(str(tmp_path / "dict"))
    own = load_corpus(f"hf:disk={tmp_path / 'dict'},text=body,id=uid,own_splits=true")
    assert [d.id for d in own.split("val")] == ["genesis-7", "genesis-8"]
    tokens = CorpusTokens(own, 256, tmp_path / "cache")
    assert len(tokens.stream("test").doc_starts) == 2 and tokens.index.plan.own
    with pytest.raises(CorpusSourceError, match="no split 'dev'"):
        load_corpus(f"hf:disk={tmp_path / 'dict'},text=body,split=dev")


def test_a_sharded_cache_equals_a_single_shard_one(tmp_path):
    corpus = load_corpus(JSONL)
    whole = CorpusTokens(corpus, 300, tmp_path / "a")
    sharded = CorpusTokens(corpus, 300, tmp_path / "b", shard_chars=1500)
    whole.tokenizer.save(str(sharded.dir / "tokenizer.json"))  # the same BPE for both
    for spec in (None, "punct", TOKEN_SEPARATORS):
        a, b = whole.stream("train", spec, 32), sharded.stream("train", spec, 32)
        assert np.array_equal(a.ids, b.ids) and np.array_equal(a.doc_starts, b.doc_starts)
        if spec:
            assert np.array_equal(a.intra, b.intra) and np.array_equal(a.segment, b.segment)
    man = json.loads((sharded.dir / "train.manifest.json").read_text())
    assert man["shards"] > 3 and man["meta"]["docs"] == len(a.doc_starts)
    assert isinstance(b.ids, np.memmap)  # read back memory-mapped, not loaded


@pytest.mark.slow
def test_two_worker_processes_give_the_same_cache(tmp_path):
    corpus = load_corpus(JSONL)
    one = CorpusTokens(corpus, 300, tmp_path / "a", shard_chars=1500)
    two = CorpusTokens(corpus, 300, tmp_path / "b", shard_chars=1500, workers=2)
    one.tokenizer.save(str(two.dir / "tokenizer.json"))
    a, b = one.stream("train", "punct", 32), two.stream("train", "punct", 32)
    assert np.array_equal(a.ids, b.ids) and np.array_equal(a.segment, b.segment)


def _shard(k: int, calls: list[int], fail_at: int | None):
    calls.append(k)
    if k == fail_at:
        raise KeyboardInterrupt  # an interruption in the middle of the build
    return {"v": np.full(k + 1, k, dtype=np.int32)}, {"n": 1}


def test_an_interrupted_build_resumes_and_is_never_taken_for_whole(tmp_path):
    arrays = (ArraySpec("v", "int32"),)
    calls: list[int] = []

    def tasks(fail_at):
        return lambda: ((_shard, (k, calls, fail_at)) for k in range(5))

    with pytest.raises(KeyboardInterrupt):
        build_sharded(tmp_path, "s", arrays, "key1", tasks(3))
    assert not (tmp_path / "s.manifest.json").exists() and not (tmp_path / "s.v.npy").exists()
    (tmp_path / "s.parts" / "3.v.npy").write_bytes(b"half a shard")  # no done marker: redone
    calls.clear()
    out, man = build_sharded(tmp_path, "s", arrays, "key1", tasks(None))
    assert calls == [3, 4]  # the completed shards 0-2 were kept
    assert out["v"].tolist() == [k for k in range(5) for _ in range(k + 1)]
    assert man["meta"]["n"] == 5 and not (tmp_path / "s.parts").exists()
    calls.clear()
    build_sharded(tmp_path, "s", arrays, "key1", tasks(None))
    assert calls == []  # complete: loaded from the manifest
    (tmp_path / "s.manifest.json").write_text("{")  # damaged manifest: rebuilt
    build_sharded(tmp_path, "s", arrays, "key1", tasks(None))
    assert calls == list(range(5))
    calls.clear()
    build_sharded(tmp_path, "s", arrays, "key2", tasks(None))  # other options: never reused
    assert calls == list(range(5))


def test_a_changed_file_never_reuses_a_stale_cache(tmp_path):
    path = tmp_path / "c.jsonl"
    shutil.copy(DATA / "chapters.jsonl", path)
    spec = f"jsonl:path={path},text=body,id=uid"
    first = CorpusTokens(load_corpus(spec), 256, tmp_path / "cache")
    ids = np.array(first.stream("train").ids)
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("God", "Dog"), encoding="utf-8")  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same modification time
    second = CorpusTokens(load_corpus(spec), 256, tmp_path / "cache")
    assert second.dir != first.dir
    assert not np.array_equal(np.array(second.stream("train").ids), ids)


def test_corpus_stats_on_each_source_and_errors_without_traceback(tmp_path, capsys):
    specs = [NOTES, JSONL, PARQUET]
    for spec in specs:
        assert (
            main(["corpus", "stats", spec, "--vocab-size", "260", "--cache-dir", str(tmp_path)])
            == 0
        )
    out, err = capsys.readouterr()
    assert "skipped 1 undecodable" in err and "| jsonl-chapters | punct |" in out
    assert "| parquet-chapters | punct |" in out
    bad = ["corpus", "stats", f"jsonl:path={tmp_path / 'x.jsonl'}", "--cache-dir", str(tmp_path)]
    assert main(bad) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_run_trains_and_evaluates_on_a_jsonl_corpus(micro, tmp_path):
    from experiments.lm.config import RunSpec
    from experiments.lm.evaluate import evaluate_run
    from experiments.lm.train import train_run

    cfg = micro(steps=2)
    cfg.data.corpora = [JSONL]
    cfg.eval.eval_tokens = 256
    spec = RunSpec(JSONL, "bipe_rope", "punct")
    res = train_run(cfg, spec, tmp_path / "run", cache_dir=tmp_path / "cache")
    assert res.step == 2
    ev = evaluate_run(tmp_path / "run", None, tmp_path / "cache")
    assert (
        ev["corpus"] == JSONL
        and ev["results"]
        and all(np.isfinite(r["ppl"]) for r in ev["results"])
    )


def test_duplicate_ids_in_a_source_are_named_before_anything_is_cached(tmp_path):
    path = tmp_path / "dup.jsonl"
    rows = [{"k": k, "text": f"document {i}."} for i, k in enumerate("abcab")]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(ExperimentError, match="duplicate document id 'a'"):
        CorpusTokens(load_corpus(f"jsonl:path={path},id=k"), 256, tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("jsonl-*"))


def test_set_data_corpora_keeps_each_specs_options_together():
    from experiments.lm.config import load_config

    cfg = load_config("tiny", None, [f"data.corpora=sample,{JSONL},arith:seed=2"])
    assert cfg.data.corpora == ["sample", JSONL, "arith:seed=2"]
