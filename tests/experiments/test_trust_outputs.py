"""Output ownership: a directory is a command's own by its marker alone, a failed command gives
back what it claimed, and a path that cannot be used is a typed error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.cli import main
from experiments.commands import outputs
from experiments.commands.outputs import OWNER_MARKER, OutputExistsError, claim_dir, claim_file
from experiments.errors import ExperimentError

# What a typical ML project folder holds, which the old `ours=` callbacks took for bipe's output.
PROJECT_FOLDERS = {
    "runs+results": ["runs/a/eval.json", "results.json"],
    "cells": ["cells/x/result.json"],
    "sizes": ["sizes.csv"],
    "checkpoint": ["model.safetensors", "train_state.json"],
}


@pytest.fixture(autouse=True)
def _no_leftover_claims():
    forget = getattr(outputs, "keep_claims", lambda: None)  # (the old code kept no claims)
    forget()
    yield
    forget()


def _fill(folder: Path, files: list[str]) -> dict[str, str]:
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"the user's {name}\n")
    return _files(folder)


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("kind", sorted(PROJECT_FOLDERS))
def test_a_project_folder_is_never_taken_for_ours_from_its_contents(tmp_path, kind):
    before = _fill(tmp_path, PROJECT_FOLDERS[kind])
    with pytest.raises(OutputExistsError, match="did not write"):
        claim_dir(tmp_path, ours=lambda p: True)  # the callback is ignored
    assert _files(tmp_path) == before


def test_automata_compare_refuses_a_folder_holding_someone_elses_sizes_csv(tmp_path, capsys):
    before = _fill(tmp_path, ["sizes.csv"])
    argv = ["automata", "compare", "--out", str(tmp_path), "--families", "mod-marked"]
    argv += ["--types", "1-2", "--states", "2"]
    assert main(argv) == 2
    assert "did not write" in capsys.readouterr().err
    assert (tmp_path / "sizes.csv").read_text() == before["sizes.csv"]
    assert not (tmp_path / OWNER_MARKER).exists()


def test_a_marked_directory_is_reused_and_an_empty_one_is_taken(tmp_path):
    claim_dir(tmp_path / "a")
    (tmp_path / "a" / "results.json").write_text("{}")
    assert claim_dir(tmp_path / "a") == tmp_path / "a"
    (tmp_path / "empty").mkdir()
    claim_dir(tmp_path / "empty")
    assert (tmp_path / "empty" / OWNER_MARKER).is_file()


def test_a_failed_command_leaves_no_marker_and_no_directory_it_made(tmp_path, capsys):
    out = tmp_path / "new" / "deeper"
    argv = ["train", "--corpus", "no-such-corpus", "--scheme", "rope", "--out", str(out)]
    assert main(argv) == 2
    assert "no-such-corpus" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_release_gives_back_a_users_empty_folder_without_its_marker(tmp_path):
    (tmp_path / "mine").mkdir()
    claim_dir(tmp_path / "mine")
    outputs.release_claims()
    assert (tmp_path / "mine").is_dir() and list((tmp_path / "mine").iterdir()) == []


def test_release_keeps_what_a_failed_command_wrote_so_it_resumes(tmp_path):
    claim_dir(tmp_path / "out")
    (tmp_path / "out" / "runs").mkdir()
    outputs.release_claims()
    assert (tmp_path / "out" / OWNER_MARKER).is_file()


def test_release_after_overwrite_removes_only_the_marker(tmp_path):
    _fill(tmp_path, ["notes.txt"])
    claim_dir(tmp_path, overwrite=True)
    outputs.release_claims()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_claim_file_gives_back_the_directories_it_made(tmp_path):
    claim_file(tmp_path / "a" / "b" / "out.jsonl")
    assert (tmp_path / "a" / "b").is_dir()
    outputs.release_claims()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("claim", [claim_dir, claim_file])
def test_an_empty_path_is_refused_not_taken_for_the_current_folder(claim):
    with pytest.raises(ExperimentError, match="empty output path"):
        claim("")


@pytest.mark.parametrize("claim", [claim_dir, claim_file])
def test_a_name_too_long_is_a_typed_error_naming_the_path(tmp_path, claim):
    with pytest.raises(ExperimentError, match=r"cannot use output path .*aaaa.*too long"):
        claim(tmp_path / ("a" * 300) / "x")


def test_an_unwritable_parent_is_a_typed_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExperimentError, match="file"):
        claim_dir(blocker / "out")
    with pytest.raises(ExperimentError, match="cannot use output path"):
        claim_file(blocker / "out" / "x.jsonl")


@pytest.mark.parametrize("command", ["synthetic", "run", "budget", "train", "demo"])
def test_out_empty_string_is_refused_by_every_command(command, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([command, "--out", ""]) == 2
    assert "empty path" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["synthetic", "run", "train"])
def test_out_too_long_is_refused_naming_the_limit(command, capsys, tmp_path):
    assert main([command, "--out", str(tmp_path / ("a" * 300))]) == 2
    assert "longer than the file system allows" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
