"""Corpora: parsing, deterministic document-level splits, synthetic arithmetic, missing sources."""

from __future__ import annotations

import itertools
import re
import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments import corpora
from experiments.corpora import (
    Document,
    arith_steps,
    doc_hash,
    load_corpus,
    make_arith_corpus,
    parse_kjv_dump,
    split_documents,
)
from experiments.errors import ExperimentError

DUMP = """
Genesis 1

  1 In the beginning God created the heaven and the earth.
  2 And the earth was without form, and void.

1 Kings 2

  1 Now the days of David drew nigh that he should die.
"""


def test_parse_kjv_dump_gives_chapters_without_verse_numbers():
    docs = parse_kjv_dump(DUMP)
    assert [d.id for d in docs] == ["kjv/Genesis 1", "kjv/1 Kings 2"]
    assert docs[0].text == (
        "In the beginning God created the heaven and the earth.\n"
        "And the earth was without form, and void.\n"
    )


def test_embedded_sample_loads_without_system_packages():
    c = load_corpus("sample")
    assert len(c.documents) == 50 and c.documents[0].id == "kjv/Genesis 1"
    assert c.documents[0].text.startswith("In the beginning God created")
    assert all(c.split(s) for s in ("train", "val", "test"))


def test_splits_are_disjoint_complete_and_deterministic():
    c = load_corpus("sample")
    parts = split_documents(c.documents)
    ids = [d.id for s in ("train", "val", "test") for d in parts[s]]
    assert sorted(ids) == sorted(d.id for d in c.documents)
    assert parts == split_documents(list(c.documents))


def _rule(doc_id: str, val: float, test: float) -> str:
    h = doc_hash(doc_id)
    return "test" if h < test else "val" if h < test + val else "train"


@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=40, unique=True))
def test_a_documents_split_depends_only_on_its_id_hash(ids):
    docs = [Document(i, "x") for i in ids]
    parts = split_documents(docs, 0.2, 0.2)
    by_rule = {s: [d for d in docs if _rule(d.id, 0.2, 0.2) == s] for s in ("train", "val", "test")}
    if all(by_rule.values()) or len(docs) < 3:
        assert parts == by_rule  # adding or removing other documents never moves this one
    else:  # tiny corpus: at most one document per empty split was moved out of train
        moved = [d for s in ("val", "test") for d in parts[s] if _rule(d.id, 0.2, 0.2) != s]
        assert len(moved) <= 2 and all(_rule(d.id, 0.2, 0.2) == "train" for d in moved)
        assert all(parts[s] for s in parts) or len(by_rule["train"]) <= 2


def test_split_rejects_duplicates_and_bad_fractions():
    with pytest.raises(ExperimentError, match="duplicate"):
        split_documents([Document("a", "x"), Document("a", "y")])
    with pytest.raises(ExperimentError, match="fractions"):
        split_documents([Document("a", "x")], 0.6, 0.5)
    with pytest.raises(ExperimentError, match="split"):
        load_corpus("sample").split("dev")


def _eval_mod(expr: str) -> int:
    # reference evaluator: every operation's result reduced mod 1000, as the generator does
    while "(" in expr:
        expr = re.sub(
            r"\((-?\d+)([+\-*])(-?\d+)\)",
            lambda m: str(eval(f"({m[1]}){m[2]}({m[3]})") % 1000),
            expr,
            count=1,
        )
    return int(expr)


def test_arith_steps_reduce_one_operation_per_line_to_the_value():
    corpus = make_arith_corpus(n_docs=20, seed=3)
    assert corpus.documents == make_arith_corpus(n_docs=20, seed=3).documents
    assert corpus.documents != make_arith_corpus(n_docs=20, seed=4).documents
    for doc in corpus.documents:
        lines = doc.text.splitlines()
        q = [i for i, line in enumerate(lines) if line.startswith("Q: ")]
        for i in q:
            expr = lines[i][3:]
            steps = arith_steps(expr)
            assert lines[i + 1 : i + len(steps)] == [f"= {s}" for s in steps[1:]]
            assert lines[i + len(steps)] == f"A: {_eval_mod(expr)}"
            assert all(a.count("(") == b.count("(") + 1 for a, b in itertools.pairwise(steps))


def test_missing_sources_name_the_debian_package(monkeypatch, tmp_path):
    with pytest.raises(ExperimentError, match=r"python3\.11-doc"):
        corpora.load_pydocs(root=tmp_path / "nowhere")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ExperimentError, match="bible-kjv"):
        load_corpus("kjv")


def test_unknown_corpus_and_bad_max_docs():
    with pytest.raises(ExperimentError, match="valid: kjv"):
        load_corpus("wikipedia")
    with pytest.raises(ExperimentError, match="max_docs"):
        load_corpus("sample", max_docs=0)


@pytest.mark.skipif(shutil.which("bible") is None, reason="Debian bible-kjv not installed")
def test_kjv_has_every_chapter_and_max_docs_spreads_over_books():
    c = load_corpus("kjv")
    assert len(c.documents) == 1189 and c.documents[-1].id == "kjv/Revelation 22"
    small = load_corpus("kjv", max_docs=10)
    assert len(small.documents) == 10 and small.documents[-1].id.startswith("kjv/")
    assert len({d.id.split()[0] for d in small.documents}) > 5


def test_cpython_excludes_tests():
    c = load_corpus("cpython", max_docs=200)
    assert c.documents and all("/test/" not in d.id and "/tests/" not in d.id for d in c.documents)
    assert not any(d.id.rsplit("/", 1)[-1].startswith("test_") for d in c.documents)


def test_corpus_table_lists_source_and_licence():
    table = corpora.corpus_table()
    for name in corpora.list_corpora():
        assert f"| {name} |" in table
    assert "public domain" in table and "PSF" in table
