"""`bipe segment` on the new modalities: numbers one per line, DNA, Markdown, the learned segmenter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments.cli import main

GENESIS = Path(__file__).resolve().parents[2] / "experiments" / "data" / "kjv_genesis.txt"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_segmenters_lists_the_new_ones(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["segmenters"], capsys)
    names = {line.split()[0] for line in out.splitlines()}
    assert {"changepoint", "dna", "protein", "markdown", "entropy"} <= names


def test_numbers_one_per_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ruptures")
    path = tmp_path / "series.txt"
    path.write_text("# level\n1\n1.1\n0.9\n1\n8\n8.2\n7.9\n8.1\n8\n", encoding="utf-8")
    rc, out, _ = run(
        ["segment", str(path), "-s", "changepoint:penalty=1", "--json", "--with-text"], capsys
    )
    assert rc == 0
    texts = [s["text"] for s in json.loads(out)["segments"]]
    assert texts == ["# level\n1\n1.1\n0.9\n1\n", "8\n8.2\n7.9\n8.1\n8\n"]
    path.write_text("1\n2\nnan\n", encoding="utf-8")
    rc, _, err = run(["segment", str(path), "-s", "changepoint"], capsys)
    assert rc != 0 and "NaN or infinite" in err and "Traceback" not in err


def test_dna_and_markdown_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("Bio")
    pytest.importorskip("markdown_it")
    dna = tmp_path / "seq.txt"
    dna.write_text("ATGAAACCCGGGTTTTAA\nCC\n", encoding="utf-8")
    rc, out, _ = run(["segment", str(dna), "-s", "dna:min_orf=2", "--level", "region"], capsys)
    assert rc == 0 and "orf" in out and "noncoding" in out
    dna.write_text(">seq1\nACGT\n", encoding="utf-8")
    rc, _, err = run(["segment", str(dna), "-s", "dna"], capsys)
    assert rc != 0 and "'>'" in err
    md = tmp_path / "broken.md"
    md.write_bytes(b"# Title\n\n```\nunclosed \xff fence\n")
    rc, _, err = run(["segment", str(md), "-s", "markdown"], capsys)
    assert rc != 0 and "not valid UTF-8 (byte 0xff" in err
    md.write_bytes(b"# Title\n\nText. More.\n\n```\nunclosed fence\n")
    rc, out, _ = run(["segment", str(md), "-s", "markdown", "--json"], capsys)
    assert rc == 0 and json.loads(out)["levels"] == ["section", "block", "sentence"]


def test_entropy_needs_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(["segment", str(GENESIS), "-s", "entropy"], capsys)
    assert rc != 0 and "not trained" in err
    rc, out, _ = run(
        ["segment", str(GENESIS), "-s", "entropy", "-o", f"train={GENESIS}", "-o", "mean_length=6"],
        capsys,
    )
    assert rc == 0 and "segments (segment)" in out
