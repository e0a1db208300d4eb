"""Issue 11: code files reach the code segmenter with their names (CLI and corpora), unknown
segmenters are errors, and the commands that print data print JSON on request."""

from __future__ import annotations

import json

import pytest

from experiments.cli import main

SCRIPT = "#!/usr/bin/env python3\ndef f():\n    return 1\n\nprint(f())\n"


def test_segment_a_script_without_extension(tmp_path, capsys):
    pytest.importorskip("tree_sitter_python")
    path = tmp_path / "tool"
    path.write_text(SCRIPT, encoding="utf-8")
    assert main(["segment", str(path), "-s", "code", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["stats"]["count"] == 2 and doc["options"] == {"filename": str(path)}


def test_compare_segmenters_unknown_name_is_an_error(tmp_path, capsys):
    path = tmp_path / "t.txt"
    path.write_text("One. Two.\n", encoding="utf-8")
    assert main(["compare-segmenters", str(path), "-s", "punct", "-s", "nosuch"]) == 2
    captured = capsys.readouterr()
    assert "unknown segmenter 'nosuch'" in captured.err and captured.out == ""


def test_each_document_gets_the_segmenter_of_its_file_name():
    pytest.importorskip("tree_sitter_python")
    from experiments.pipeline.segmenting import DocumentSegmenters

    segs = DocumentSegmenters("code", {})
    first = segs.for_document("cpython/json/decoder.py")
    assert first is segs.for_document("cpython/os.py")  # one segmenter per extension
    assert first.segment(SCRIPT).info["language"] == "python"
    assert DocumentSegmenters("code", {"language": "python"}).for_document("x.rb").language == (
        "python"
    )  # options given by the user win over the file name


@pytest.mark.slow  # ~15 s: walks the stdlib and trains a tokenizer
def test_corpus_stats_hands_file_names_to_the_code_segmenter(tmp_path, capsys):
    pytest.importorskip("tree_sitter_python")
    argv = ["corpus", "stats", "cpython", "--segmenters", "code,punct", "--max-docs", "6"]
    assert main([*argv, "--vocab-size", "300", "--cache-dir", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["segmenter"] for s in doc["segments"]] == ["code", "punct"]
    assert doc["segments"][0]["segments"] > 0
    assert {s["split"] for s in doc["splits"].values()} == {"train", "val", "test"}


@pytest.mark.slow  # ~20 s: walks the stdlib, trains a tokenizer, segments, trains 3 steps
def test_train_on_cpython_with_the_code_segmenter(tmp_path, capsys):
    pytest.importorskip("tree_sitter_python")
    from tests.experiments.test_cli import MICRO

    argv = ["train", "--corpus", "cpython", "--scheme", "bipe_rope", "--segmenter", "code"]
    argv += ["--set", "data.max_docs=6", "--out", str(tmp_path / "run")]
    assert main([*argv, "--cache-dir", str(tmp_path / "cache"), *MICRO]) == 0
    assert "cpython-bipe_rope-code: step 3/3" in capsys.readouterr().out


def test_segmenters_and_corpus_list_print_json(capsys):
    assert main(["segmenters", "--json"]) == 0
    assert "punct" in json.loads(capsys.readouterr().out)
    assert main(["corpus", "list", "--json"]) == 0
    assert "sample" in {c["name"] for c in json.loads(capsys.readouterr().out)}
