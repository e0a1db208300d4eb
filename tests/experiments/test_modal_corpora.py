"""Corpora of the new modalities: real data from installed packages, readable by their segmenters."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.corpora import corpus_table, load_corpus
from experiments.corpora import modal as modal_corpora
from experiments.errors import ExperimentError
from segmenters import check_segmentation, get_segmenter


def test_series_are_value_lines_the_changepoint_segmenter_reads() -> None:
    pytest.importorskip("statsmodels")
    pytest.importorskip("ruptures")
    corpus = load_corpus("series")
    assert len(corpus.documents) == 23
    by_id = {d.id: d.text for d in corpus.documents}
    assert by_id["series/sunspots/SUNACTIVITY"].count("\n") == 309
    assert by_id["series/co2/co2"].count("\n") == 2284 - 59  # missing weeks dropped
    seg = get_segmenter("changepoint")
    for doc in corpus.documents:
        if doc.text.count("\n") < 1000:  # co2 (2,225 values) is for the benchmark
            check_segmentation(seg.segment(doc.text))


@pytest.mark.skipif(not modal_corpora.EMBOSS_TEST.is_dir(), reason="apt-get install emboss-test")
def test_genbank_and_swissprot_records() -> None:
    pytest.importorskip("Bio")
    dna = load_corpus("genbank-dna", max_docs=8)
    assert all(set(d.text) <= set("ACGTRYSWKMBDHVN") for d in dna.documents)
    seg = get_segmenter("dna", level="region")
    for doc in dna.documents:
        if len(doc.text) < 100_000:  # the 2.2 Mbp contig is for the benchmark
            check_segmentation(seg.segment(doc.text))
    prot = load_corpus("swissprot")
    assert len(prot.documents) == 100
    motif = get_segmenter("protein", mode="motif")
    assert sum(len(motif.segment(d.text)) - 1 for d in prot.documents) > 50


def test_markdown_docs(tmp_path: Path) -> None:
    pytest.importorskip("markdown_it")
    with pytest.raises(ExperimentError, match="apt-get install nodejs-doc"):
        modal_corpora.load_markdown_docs(root=tmp_path)
    import gzip

    (tmp_path / "a.md.gz").write_bytes(gzip.compress(b"# A\n\nText. More.\n"))
    (tmp_path / "b.md").write_text("```\nunclosed", encoding="utf-8")
    docs = modal_corpora.load_markdown_docs(root=tmp_path).documents
    assert [d.id for d in docs] == ["markdown/nodejs/a", "markdown/nodejs/b"]
    if modal_corpora.NODE_API_DOCS.is_dir():
        seg = get_segmenter("markdown")
        for doc in load_corpus("markdown", max_docs=3).documents:
            out = seg.segment(doc.text)
            check_segmentation(out)
            assert len(out.levels["section"]) > 1


def test_registry_lists_sources_and_licences() -> None:
    table = corpus_table()
    for name in ("series", "genbank-dna", "swissprot", "markdown"):
        assert f"| {name} |" in table
