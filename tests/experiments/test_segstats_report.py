"""Segment statistics by document length, and the JSON/CSV/PNG/Markdown report files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from experiments.analysis.report import plot_ppl, plot_segment_hist, write_summary
from experiments.analysis.results import flat_rows, write_results
from experiments.analysis.segstats import format_stats, per_document_lengths, segment_stats
from experiments.corpora import load_corpus
from experiments.pipeline import CorpusTokens


def test_per_document_lengths_count_tokens_per_segment():
    segment = np.array([0, 0, 1, 2, 2, 2, 3, 3, 4])
    starts = np.array([0, 6])
    out = per_document_lengths(segment, starts)
    assert [x.tolist() for x in out] == [[2, 1, 3], [2, 1]]


@pytest.fixture(scope="module")
def stats(cache_dir):
    tokens = CorpusTokens(load_corpus("sample"), 300, cache_dir)
    return segment_stats(tokens, "sep", "train", n_bins=3)


def test_segment_stats_bins_cover_all_documents(stats):
    assert sum(b.documents for b in stats.bins) == stats.documents == 43
    assert sum(b.segments for b in stats.bins) == stats.segments == len(stats.lengths)
    assert sum(stats.lengths) == stats.tokens
    assert [b.lo for b in stats.bins] == sorted(b.lo for b in stats.bins)
    assert 0 <= stats.share_short <= 1 and stats.ks_p is not None and 0 <= stats.mw_p <= 1
    assert stats.segments_per_window["128"] > 1
    table = format_stats([stats])
    assert "| sample | sep |" in table and "KS p" in table


def _fake_eval(scheme, segmenter=None):
    return {
        "corpus": "sample",
        "scheme": scheme,
        "segmenter": segmenter,
        "split": "test",
        "train_len": 32,
        "step": 5,
        "results": [
            {
                "length": n,
                "multiplier": n / 32,
                "loss": 2.0 + n / 100,
                "ppl": float(np.exp(2.0 + n / 100)),
                "blocks": 256 // n,
                "tokens": 256,
                "seconds": 0.1,
            }
            for n in (32, 64, 128)
        ],
    }


def test_report_files(tmp_path, stats):
    evals = [_fake_eval("rope"), _fake_eval("bipe_alibi", "punct")]
    write_results(tmp_path, evals, {"note": "x"})
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["note"] == "x" and len(data["evaluations"]) == 2
    with open(tmp_path / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and rows[3]["segmenter"] == "punct" and rows[0]["length"] == "32"
    assert len(flat_rows(evals)) == 6
    pngs = plot_ppl(tmp_path, evals) + plot_segment_hist(tmp_path, [stats])
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    summary = write_summary(
        tmp_path, "t", {"a": 1}, evals, [("Extra", "body")], "bipe run"
    ).read_text()
    assert "commit: `" in summary and "machine:" in summary and "bipe run" in summary
    assert "| sample | bipe_alibi (punct) | 5 |" in summary and '"a": 1' in summary
