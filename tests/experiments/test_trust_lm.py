"""A trained model is never evaluated or continued on other data, a report directory holds one
configuration, the same run is never counted twice, and no command replaces a user's file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from experiments.cli import main
from experiments.commands.outputs import OWNER_MARKER
from tests.experiments.test_cli import MICRO

TEXT = "In the beginning was a word. Then another word came! And a third one?\n"


def _folder(tmp_path: Path, docs: int = 24) -> str:
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(docs):
        (notes / f"n{i}.txt").write_text(TEXT * (3 + i % 4), encoding="utf-8")
    return f"folder:path={notes}"


def _train(corpus: str, out: Path, cache: Path, *extra: str) -> int:
    argv = ["train", "--corpus", corpus, "--scheme", "bipe_rope", "--segmenter", "punct"]
    argv += ["--out", str(out), "--cache-dir", str(cache), *MICRO, "--set", "data.vocab_size=260"]
    return main([*argv, *extra])


def test_eval_and_resume_refuse_a_model_whose_corpus_changed(tmp_path, capsys):
    corpus = _folder(tmp_path)
    run, cache = tmp_path / "run", tmp_path / "cache"
    assert _train(corpus, run, cache) == 0
    info = json.loads((run / "eval.json").read_text()) if (run / "eval.json").exists() else None
    assert info is None  # training alone writes no evaluation
    assert main(["eval", str(run), "--cache-dir", str(cache)]) == 0
    capsys.readouterr()
    # the user edits the corpus: a new tokenizer is trained on it, whose ids mean other strings
    (tmp_path / "notes" / "n0.txt").write_text("Completely different text now. " * 40)
    assert main(["eval", str(run), "--cache-dir", str(cache), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "trained on other data" in err and "corpus" in err and "tokenizer" in err
    assert _train(corpus, run, cache, "--set", "train.steps=5") == 2
    assert "trained on other data" in capsys.readouterr().err


def test_eval_never_replaces_an_eval_json_it_did_not_write(tmp_path, capsys, cache_dir):
    run = tmp_path / "run"
    argv = ["train", "--scheme", "rope", "--out", str(run), "--cache-dir", str(cache_dir), *MICRO]
    assert main(argv) == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(run / "checkpoint.safetensors", mine / "checkpoint.safetensors")
    (mine / "eval.json").write_text("my own notes\n")
    assert main(["eval", str(mine), "--cache-dir", str(cache_dir)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (mine / "eval.json").read_text() == "my own notes\n"
    assert main(["eval", str(mine), "--cache-dir", str(cache_dir), "--overwrite"]) == 0
    assert json.loads((mine / "eval.json").read_text())["scheme"] == "rope"
    # in the run directory bipe made, eval.json is bipe's to refresh
    assert main(["eval", str(run), "--cache-dir", str(cache_dir)]) == 0


@pytest.mark.parametrize(
    "duplicate",
    ["schemes=rope,rope", "data.corpora=sample,sample", "seeds=0,0", "segmenters=punct,punct"],
)
def test_a_grid_that_lists_a_run_twice_is_refused_and_leaves_no_trace(tmp_path, capsys, duplicate):
    out = tmp_path / "report"
    argv = ["run", "--preset", "tiny", "--out", str(out), "--set", duplicate, *MICRO]
    if duplicate.startswith("segmenters"):
        argv += ["--set", "schemes=bipe_rope"]
    assert main(argv) == 2
    assert "twice" in capsys.readouterr().err
    assert not out.exists()  # refused before anything: not even the owner marker remains


def test_a_refused_command_leaves_no_marker_in_an_existing_empty_folder(tmp_path, capsys):
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["run", "--preset", "tiny", "--out", str(out), "--set", "schemes=rope,rope"]) == 2
    assert out.is_dir() and not (out / OWNER_MARKER).exists()


def test_a_project_folder_that_looks_like_a_report_is_not_taken(tmp_path, capsys):
    project = tmp_path / "project"
    (project / "runs").mkdir(parents=True)
    (project / "results.json").write_text('{"mine": true}')
    argv = ["run", "--preset", "tiny", "--out", str(project), "--set", "schemes=rope", *MICRO]
    assert main(argv) == 2
    assert "did not write" in capsys.readouterr().err
    assert (project / "results.json").read_text() == '{"mine": true}'


@pytest.mark.parametrize("bad", ["", "x" * 300])
def test_an_output_path_the_system_cannot_hold_is_refused(tmp_path, capsys, bad):
    assert main(["run", "--preset", "tiny", "--out", bad]) == 2
    assert "--out" in capsys.readouterr().err
