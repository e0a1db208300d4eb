"""Issue 20 for `bipe synthetic`: every setting within a stated limit and each grid value once,
refused before anything trains (no hang, no "0 cells finished" with exit 0); a sweep with cells
that have no result exits non-zero and its report names them first; the model section cannot
retrain every cell at another width under the cell's label."""

from __future__ import annotations

import time

import pytest

from experiments.cli import main
from experiments.errors import ExperimentError
from experiments.synthetic.config import cell_model_config, load_synthetic_config

ONE_CELL = [
    "--automata",
    "mod-marked:types=2,states=2",
    "--schemes",
    "bipe_rope",
    "--seeds",
    "0",
    "--workers",
    "1",
]
FAST = ["train.steps=2", "train.batch_size=4", "task.factors=1", "task.test_words=4"]
FAST += ["task.probe_words=4", "probes=false"]


def _sets(items: list[str]) -> list[str]:
    return [a for s in items for a in ("--set", s)]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--automata", "mod-marked:types=1000"], "limit of 64"),  # hung over 2 minutes
        (["--automata", "mod-marked:types=64"], "limit of 5000"),  # 8958 flattened states
        (["--automata", "dyck:types=64,states=256"], "limit of 5000"),
        (["--automata", "random:types=2,states=2,seed=99999999999"], "limit of 4294967295"),
        (["--seeds", "-1"], "--seeds"),
        (["--seeds", "0,0"], "0 listed twice"),  # was reported as 2 seeds, +- 0.00
        (["--seeds", "99999999999"], "--seeds"),
        (["--widths", "100000"], "--widths"),  # every cell failed, exit 0
        (["--widths", "8,8"], "8 listed twice"),
        (["--workers", "100000"], "--workers"),
        (["--automata", "mod-marked:types=2,states=2,mod-marked:states=2,types=2"], "same"),
        (_sets(["model.d_model=64"]), "model.d_model"),
        (_sets(["name=../../elsewhere"]), "name="),
        (_sets(["n_layers=100000"]), "limit of 64"),
        (_sets(["n_heads=100000"]), "limit of 256"),
        (_sets(["task.factors=1,2000"]), "longest test word"),
        (_sets(["task.segments=1,100000"]), "longest test word"),
        (_sets(["task.max_len=100000"]), "longest test word"),
        (_sets(["task.test_words=100000000"]), "task.test_words"),
        (_sets(["task.probe_words=100000000"]), "task.probe_words"),
        (_sets(["task.eval_batch=100000000"]), "task.eval_batch"),
        (_sets(["train.steps=1000000000000"]), "train.steps"),
        (_sets(["train.batch_size=100000000"]), "train.batch_size"),
        (["--widths", "4096"], "parameters"),
        (["--seeds", "0-9999", "--widths", "8,16"], "cells"),
    ],
)
def test_bad_settings_are_refused_before_anything_runs(tmp_path, capsys, argv, named):
    out = tmp_path / "out"
    t0 = time.perf_counter()
    code = main(["synthetic", *argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and named in err and "Traceback" not in err
    assert time.perf_counter() - t0 < 15  # refused up front, not after building or training
    assert not out.exists()


def test_a_model_section_cannot_override_what_each_cell_sets():
    # the old code trained a cell named w8 at d_model 64 (the width of the label was not trained)
    for key in ("d_model", "n_layers", "n_heads", "max_positions"):
        with pytest.raises(ExperimentError, match=f"model.{key}"):
            load_synthetic_config("tiny", [f"model.{key}=64"])
    cfg = load_synthetic_config("tiny", ["model.ffn_multiple_of=4"])
    assert cell_model_config(cfg, "rope", 8, 3, 2, 10).d_model == 8


@pytest.mark.parametrize(
    "task",
    [{"segments": [1.5, 4]}, {"min_len": 0.5}, {"segments": [1]}, {"max_len": 2.5}],
)
def test_non_integer_task_shapes_are_named(tmp_path, task):
    import json

    path = tmp_path / "c.json"
    path.write_text(json.dumps({"task": task}), encoding="utf-8")
    with pytest.raises(ExperimentError, match="task"):
        load_synthetic_config("tiny", path=path)


def test_a_report_of_failed_cells_exits_non_zero(tmp_path, capsys):
    from experiments.commands.outputs import claim_dir

    out = claim_dir(tmp_path / "sweep")  # as the run that wrote the cells claimed it
    cell = out / "cells" / "mod-marked-k2-n2-s0-bipe_rope-w8-seed0"
    cell.mkdir(parents=True)
    (cell / "error.txt").write_text("RuntimeError: out of memory\n", encoding="utf-8")
    argv = ["synthetic", *ONE_CELL, "--widths", "8,16", "--report-only", "--out", str(out)]
    assert main(argv) == 1  # the old code exited 0 with "0 cells finished"
    assert "0 cells finished, 2 without results" in capsys.readouterr().out
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "w8-seed0: RuntimeError: out of memory" in summary
    assert "w16-seed0: not finished" in summary


@pytest.mark.slow
def test_cells_without_results_exit_non_zero_and_are_named_first(tmp_path, capsys):
    out = tmp_path / "sweep"
    base = ["synthetic", *ONE_CELL, *_sets(FAST), "--out", str(out)]
    assert main([*base, "--widths", "8"]) == 0
    capsys.readouterr()
    # a second width that never ran, and one whose cell recorded an error: neither has a result
    cell = out / "cells" / "mod-marked-k2-n2-s0-bipe_rope-w4-seed0"
    cell.mkdir(parents=True)
    (cell / "error.txt").write_text("RuntimeError: out of memory\n", encoding="utf-8")
    code = main([*base, "--widths", "4,8,16", "--report-only"])
    streams = capsys.readouterr()
    assert code == 1  # the old code exited 0
    assert "2 without results" in streams.out
    summary = (out / "summary.md").read_text(encoding="utf-8")
    failed = summary.index("## Cells without results")
    assert "w4-seed0: RuntimeError: out of memory" in summary
    assert "w16-seed0: not finished" in summary
    assert failed < summary.index("## Configuration")
    assert all(failed < i for i in _table_starts(summary))  # named before any number


def _table_starts(summary: str) -> list[int]:
    return [i for i in range(len(summary)) if summary.startswith("\n| ", i)]


def test_report_only_without_cells_is_refused(tmp_path, capsys):
    out = tmp_path / "none"
    assert main(["synthetic", "--report-only", "--out", str(out)]) == 2
    assert "holds no cells" in capsys.readouterr().err
    assert not out.exists()


def test_a_user_directory_with_cells_is_not_taken(tmp_path, capsys):
    # ownership is the marker alone: a folder that merely holds a cells/ folder is the user's
    out = tmp_path / "mine"
    (out / "cells").mkdir(parents=True)
    keep = out / "notes.txt"
    keep.write_text("mine\n", encoding="utf-8")
    code = main(["synthetic", *ONE_CELL, "--widths", "8", *_sets(FAST), "--out", str(out)])
    assert code == 2 and "--overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["cells", "notes.txt"]
    assert keep.read_text(encoding="utf-8") == "mine\n"


def test_every_limit_is_in_the_message():
    with pytest.raises(ExperimentError, match="over the limit of 4,096"):
        load_synthetic_config("tiny", ["train.batch_size=5000"])
