"""A trained model is never evaluated or continued on other data, a report directory holds one
configuration, the same run is never counted twice, and no command replaces a user's file."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.cli import main
from experiments.commands.outputs import OWNER_MARKER
from experiments.lm.config import RunSpec
from experiments.lm.data import DataChangedError
from experiments.lm.grid import run_grid
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


# -- a report never shows numbers another configuration, seed or corpus made ---------------------


def _grid(out: Path, cache: Path, *extra: str) -> list[str]:
    argv = ["run", "--preset", "tiny", "--out", str(out), "--cache-dir", str(cache)]
    return [*argv, "--workers", "1", "--set", "schemes=alibi", *MICRO, *extra]


def _seeds(out: Path) -> list[int]:
    return sorted(e["seed"] for e in json.loads((out / "results.json").read_text())["evaluations"])


@pytest.mark.slow  # trains in worker processes (5-13 s on the shared machine)
def test_a_new_seed_or_training_setting_never_reports_the_old_numbers(tmp_path, cache_dir, capsys):
    out = tmp_path / "R1"
    assert main(_grid(out, cache_dir)) == 0
    summary = (out / "summary.md").read_text()
    capsys.readouterr()
    # the case: new numbers settings in the same directory are refused before any work
    new = ["--set", "train.lr=0.05", "--set", "model.d_model=48", "--set", "seeds=7"]
    assert main(_grid(out, cache_dir, *new)) == 2
    assert "train.lr: 0.003 -> 0.05" in capsys.readouterr().err
    assert (out / "summary.md").read_text() == summary
    # a new seed is a new run: it was reported with seed 0's numbers ("1 runs (1 already done)")
    assert main(_grid(out, cache_dir, "--set", "seeds=7")) == 0
    assert "1 runs (0 already done)" in capsys.readouterr().out
    assert _seeds(out) == [7] and (out / "runs" / "sample-alibi-s7" / "eval.json").is_file()


def _notes(tmp_path: Path, name: str, docs: int = 24) -> tuple[Path, str]:
    folder = tmp_path / name
    folder.mkdir()
    for i in range(docs):
        (folder / f"n{i}.txt").write_text(TEXT * (3 + i % 4), encoding="utf-8")
    return folder, f"folder:path={folder}"


def _folder_grid(micro, corpora: list[str], steps: int = 3):
    cfg = micro(steps=steps)
    cfg.schemes, cfg.data.corpora, cfg.data.vocab_size = ["alibi"], corpora, 260
    return cfg.validate()


# (`bipe run` on a source-spec corpus also needs analysis/report.py to name its plots safely: these
# two tests drive the grid itself, whose numbers the report only copies)
def test_a_report_whose_corpus_changed_is_refused_not_reported(tmp_path, micro):
    folder, corpus = _notes(tmp_path, "notes")
    cfg, out, cache = _folder_grid(micro, [corpus]), tmp_path / "R", tmp_path / "cache"
    first = run_grid(cfg, out, cache, log=lambda _: None)
    assert first.status == 0 and len(first.evals) == 1
    (folder / "n0.txt").write_text("Completely different text now. " * 40)
    # the finished run's numbers were the old corpus': they were collected as this corpus' numbers
    with pytest.raises(DataChangedError, match="trained on other data") as exc:
        run_grid(cfg, out, cache, log=lambda _: None)
    assert "corpus" in str(exc.value) and "--out" in str(exc.value)


@pytest.mark.slow  # trains in worker processes (5-13 s on the shared machine)
def test_corpora_whose_names_collided_or_overflowed_get_a_run_directory_each(tmp_path, micro):
    # "a-b" and "a_b" made one directory name, and with a long path one longer than 255 bytes
    specs = [_notes(tmp_path, sep.join(["a", "n" * 200]), docs=12)[1] for sep in "-_"]
    cfg, out = _folder_grid(micro, specs, steps=1), tmp_path / "R"
    res = run_grid(cfg, out, tmp_path / "cache", log=lambda _: None)
    assert res.status == 0 and sorted(e["corpus"] for e in res.evals) == sorted(specs)
    names = [p.name for p in (out / "runs").iterdir()]
    assert len(set(names)) == 2 and all(len(n) <= 96 for n in names)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=300),
            st.sampled_from(["rope", "bipe_rope", "hier_alibi"]),
            st.one_of(st.none(), st.text(min_size=1, max_size=60)),
            st.one_of(st.none(), st.integers(0, 2**31 - 1)),
        ),
        min_size=2,
        max_size=6,
        unique_by=lambda t: (t[0], t[1], t[2], t[3] or 0),  # seed None is seed 0
    )
)
def test_run_names_are_short_safe_and_distinct(specs):
    names = [RunSpec(*s).name for s in specs]
    assert len(set(names)) == len(names)
    assert all(0 < len(n) <= 96 and re.fullmatch(r"[A-Za-z0-9_.-]+", n) for n in names)


@pytest.mark.slow  # trains in worker processes (5-13 s on the shared machine)
def test_an_older_report_directory_resumes_under_the_new_names(tmp_path, cache_dir, capsys):
    from experiments.lm.grid import legacy_name

    out = tmp_path / "R"
    seg = ["--set", "schemes=bipe_rope", "--set", "segmenters=fixed:size=40"]
    assert main(_grid(out, cache_dir, *seg)) == 0
    spec = RunSpec("sample", "bipe_rope", "fixed:size=40")
    assert spec.name != legacy_name(spec)  # the old name lost the ':' and '='
    (out / "runs" / spec.name).rename(out / "runs" / legacy_name(spec))
    capsys.readouterr()
    assert main(_grid(out, cache_dir, *seg)) == 0
    assert "1 runs (1 already done)" in capsys.readouterr().out
    assert (out / "runs" / spec.name / "eval.json").is_file()


# -- checksums: zeroed bytes are numbers a model would use -----------------------------------------


def _zero_tail(path: Path, n: int = 512) -> None:
    data = bytearray(path.read_bytes())
    data[-n:] = bytes(n)  # the end of the file is tensor data, never the header
    path.write_bytes(bytes(data))


@pytest.mark.slow  # trains in worker processes (5-13 s on the shared machine)
def test_a_zeroed_train_checkpoint_fails_its_run_and_the_grid_exits_nonzero(
    tmp_path, cache_dir, capsys
):
    out = tmp_path / "R"
    assert main(_grid(out, cache_dir)) == 0
    run = out / "runs" / "sample-alibi"
    _zero_tail(run / "checkpoint.safetensors")
    assert main(["eval", str(run), "--cache-dir", str(cache_dir)]) == 2
    assert "corrupt" in capsys.readouterr().err
    (run / "eval.json").unlink()
    assert main(_grid(out, cache_dir)) == 1
    err = capsys.readouterr().err
    assert "1 runs failed" in err and "sample-alibi" in err
    summary = (out / "summary.md").read_text()
    assert "Runs without results" in summary and "checkpoint.safetensors is corrupt" in summary


def test_a_zeroed_model_checkpoint_is_refused_and_an_old_one_loads_with_a_warning(tmp_path):
    from bipe_core.checkpoint import (
        CONFIG_NAME,
        DIGEST_KEY,
        WEIGHTS_NAME,
        ChecksumError,
        load_checkpoint,
        save_checkpoint,
    )
    from tests.bipe_core.tiny import tiny_model

    model = tiny_model("rope", vocab_size=64, separator=3, level_separator=4)
    path = save_checkpoint(model, tmp_path / "m")
    assert load_checkpoint(path).config == model.config
    header = json.loads((path / CONFIG_NAME).read_text())
    del header[DIGEST_KEY]
    (path / CONFIG_NAME).write_text(json.dumps(header))
    with pytest.warns(UserWarning, match="no checksum"):
        load_checkpoint(path)
    save_checkpoint(model, path)
    _zero_tail(path / WEIGHTS_NAME)
    with pytest.raises(ChecksumError, match=WEIGHTS_NAME):
        load_checkpoint(path)
    with pytest.raises(ChecksumError, match="corrupt"):
        load_checkpoint(path / WEIGHTS_NAME)


@pytest.mark.slow  # trains in worker processes (5-13 s on the shared machine)
def test_a_failed_budget_run_exits_nonzero_after_its_report(tmp_path, cache_dir, capsys):
    out = tmp_path / "B"
    argv = ["budget", "--preset", "tiny", "--steps", "2", "--out", str(out)]
    argv += ["--cache-dir", str(cache_dir), "--workers", "1", "--set", "schemes=alibi", *MICRO]
    assert main(argv) == 0
    run = out / "steps2" / "runs" / "sample-alibi"
    _zero_tail(run / "checkpoint.safetensors")
    (run / "eval.json").unlink()
    assert main(argv) == 1
    assert "steps2/sample-alibi" in capsys.readouterr().err
    assert "steps2/sample-alibi" in (out / "budget.md").read_text()


def test_budget_plots_of_a_source_spec_corpus_get_a_file_name(tmp_path):
    from experiments.lm.budget import plot_gaps

    row = {"corpus": "folder:path=/a/b", "run": "bipe_rope", "baseline": "rope", "multiplier": 1}
    row |= {"train_tokens": 100, "gap": 0.1, "gap_half": 0.05}
    (path,) = plot_gaps(tmp_path, [row])  # the "/" made a path into a folder that does not exist
    assert path.parent == tmp_path and path.is_file()
