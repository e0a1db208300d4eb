"""The sweep engine and its reports: nonsense settings refused, one configuration per directory,
failures that exit non-zero, damaged results never averaged, and no worker outliving its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from experiments.analysis.results import read_results_csv, write_results
from experiments.cli import main
from experiments.engine.config import TrainConfig, validate
from experiments.engine.sweep import run_sweep
from experiments.errors import ExperimentError


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("grad_clip", -1.0),
        ("grad_clip", 0.0),
        ("weight_decay", -5.0),
        ("lr", float("inf")),
        ("lr", float("nan")),
        ("beta1", 1.5),
        ("beta2", 1.0),
        ("beta1", -0.1),
        ("lr", 5.0),
        ("lr", 0.0),
        ("min_lr_frac", 1.5),
        ("steps", 10**12),
        ("batch_size", 10**8),
        ("warmup", -1),
        ("log_every", 0),
        ("threads", 0),
        ("steps", True),
    ],
)
def test_nonsense_train_settings_are_refused_by_name(key, value):
    cfg = TrainConfig(**{key: value})
    cfg.problems = lambda: []  # TrainConfig alone: only its declared checks
    with pytest.raises(ExperimentError, match=f"{key}="):
        validate(cfg, "train")


def test_every_bad_train_setting_is_named_with_its_allowed_range():
    cfg = TrainConfig(steps=10**12, lr=float("nan"), beta1=1.5)
    cfg.problems = lambda: []
    with pytest.raises(ExperimentError) as err:
        validate(cfg, "train")
    message = str(err.value)
    assert "steps=1000000000000 (must be an int in [1, 10,000,000])" in message
    assert "lr=nan (must be a finite number in (0, 1])" in message
    assert "beta1=1.5 (must be in [0, 1))" in message


def test_gradient_clipping_is_turned_off_with_none_not_zero():
    cfg = TrainConfig(grad_clip=None)
    cfg.problems = lambda: []
    assert validate(cfg, "train").grad_clip is None


@dataclass
class _Cell:
    name: str


class _FailingTask:
    """A task whose second cell raises: the sweep must report it and exit non-zero."""

    name, unit, folder, result_name = "failing", "cell", "cells", "result.json"

    def cells(self, cfg: Any) -> list[_Cell]:
        return [_Cell("good"), _Cell("bad")]

    def prepare(self, cfg: Any, cells: list[_Cell], options: dict) -> None:
        pass

    def jobs(self, cells: list[_Cell]) -> list[tuple[str, list[_Cell]]]:
        return [(c.name, [c]) for c in cells]

    def run_cell(self, cfg: Any, cell: _Cell, where: Path, options: dict, shared: dict) -> dict:
        if cell.name == "bad":
            raise ValueError("this cell cannot be computed")
        return {"value": 1}


@dataclass
class _Cfg:
    steps: int = 3


def test_a_sweep_with_a_failed_cell_has_a_non_zero_status(tmp_path):
    res = run_sweep(_FailingTask(), _Cfg(), tmp_path / "s", log=lambda m: None)
    assert [r["value"] for r in res.results] == [1]
    assert "cannot be computed" in res.failed["bad"]
    assert res.status == 1


class _DyingTask(_FailingTask):
    """A task whose worker process dies in one cell (as the kernel's OOM killer would do it)."""

    def run_cell(self, cfg: Any, cell: _Cell, where: Path, options: dict, shared: dict) -> dict:
        if cell.name == "bad":
            os._exit(7)
        return {"value": 1}


def test_a_cell_whose_worker_died_is_reported_with_the_reason(tmp_path):
    res = run_sweep(_DyingTask(), _Cfg(), tmp_path / "s", log=lambda m: None)
    assert res.status == 1
    assert "job bad ended (exit 7)" in res.failed["bad"]
    assert (tmp_path / "s" / "cells" / "bad" / "error.txt").is_file()


def test_a_sweep_directory_refuses_other_settings_and_the_report_is_kept(tmp_path):
    run_sweep(_FailingTask(), _Cfg(), tmp_path / "s", log=lambda m: None)
    with pytest.raises(ExperimentError, match=r"other settings \(steps: 3 -> 4\)"):
        run_sweep(_FailingTask(), _Cfg(steps=4), tmp_path / "s", log=lambda m: None)


def test_report_only_with_another_preset_is_refused(tmp_path, capsys):
    out = tmp_path / "syn"
    base = ["synthetic", "--preset", "tiny", "--out", str(out), "--automata", "mod-marked"]
    base += ["--schemes", "rope", "--widths", "8", "--set", "train.steps=2"]
    assert main(base) == 0
    summary = (out / "summary.md").read_text()
    capsys.readouterr()
    assert main([*base[:-1], "train.steps=3", "--report-only"]) == 2
    assert "other settings" in capsys.readouterr().err
    assert (out / "summary.md").read_text() == summary


def _report(tmp_path: Path) -> Path:
    evals = [
        {
            "corpus": "c",
            "scheme": "rope",
            "seed": seed,
            "results": [
                {
                    "length": 32,
                    "multiplier": 1,
                    "ppl": 10.0 + seed,
                    "loss": 2.3,
                    "blocks": 1,
                    "tokens": 32,
                }
            ],
        }
        for seed in range(3)
    ]
    write_results(tmp_path, evals)
    return tmp_path


def test_a_truncated_results_csv_is_refused_not_averaged(tmp_path, capsys):
    from experiments.analysis.results import DamagedResultsError

    report = _report(tmp_path)
    assert len(read_results_csv(report)) == 3
    path = report / "results.csv"
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")  # a row lost
    with pytest.raises(DamagedResultsError, match="truncated or edited"):
        read_results_csv(report)
    assert main(["seeds", "table", str(report)]) == 2
    assert "truncated or edited" in capsys.readouterr().err


def test_report_files_leave_no_temporary_files(tmp_path):
    report = _report(tmp_path)
    assert sorted(p.name for p in report.iterdir()) == ["results.csv", "results.json"]


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _workers(pid: int) -> list[int]:
    """The pool's worker processes under ``pid`` (not multiprocessing's resource tracker)."""
    out = []
    for child in _children(pid):
        try:
            cmd = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmd and _alive(child):
            out.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    "signum",
    [
        signal.SIGKILL,  # the parent dies without a word: the kernel tells the workers
        pytest.param(signal.SIGTERM, marks=pytest.mark.slow),  # the pool's handler stops them
        pytest.param(signal.SIGINT, marks=pytest.mark.slow),
    ],
)
def test_killing_the_parent_of_a_sweep_stops_its_workers(tmp_path, signum):
    argv = [sys.executable, "-m", "experiments.cli", "synthetic", "--preset", "tiny"]
    argv += ["--out", str(tmp_path / "syn"), "--workers", "2", "--set", "train.steps=3000"]
    parent = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            workers = _workers(parent.pid)
        assert len(workers) >= 2, "the sweep did not start its workers"
        time.sleep(1)  # the workers are past their start-up
        os.kill(parent.pid, signum)
        deadline = time.monotonic() + 30
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not any(_alive(w) for w in workers), "a worker outlived its stopped parent"
        code = parent.wait(30)
        assert code in (-signal.SIGKILL, 130), parent.stderr.read() if parent.stderr else ""
    finally:
        for pid in [parent.pid, *workers]:  # a failed test leaves no training process behind
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        parent.wait(10)


# -- settings refused wherever a loop is built, not only where a command validates -------------


def test_the_optimizer_refuses_a_bad_beta_with_a_typed_error_naming_it():
    import torch

    from experiments.engine.trainer import make_optimizer

    with pytest.raises(ExperimentError, match=r"beta1=1.5 \(must be in \[0, 1\)\)"):
        make_optimizer(torch.nn.Linear(2, 2), TrainConfig(beta1=1.5))


@pytest.mark.parametrize(("key", "value"), [("grad_clip", -1.0), ("lr", float("inf"))])
def test_a_training_loop_refuses_settings_that_would_train_the_wrong_way(key, value):
    import torch

    from experiments.engine.trainer import Loop

    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ExperimentError, match=f"{key}="):
        Loop(model, optimizer, TrainConfig(**{key: value}), lambda step: None, "probe")


# -- one cell is one piece of evidence ----------------------------------------------------------


class _TwiceTask(_FailingTask):
    """A grid that lists one cell twice (e.g. a seed given twice): counted twice, it would read
    as two seeds agreeing exactly."""

    def cells(self, cfg: Any) -> list[_Cell]:
        return [_Cell("good"), _Cell("other"), _Cell("good")]


def test_a_sweep_refuses_a_cell_listed_twice_before_any_work(tmp_path):
    with pytest.raises(ExperimentError, match="'good' twice"):
        run_sweep(_TwiceTask(), _Cfg(), tmp_path / "s", log=lambda m: None)
    assert not (tmp_path / "s" / "cells").exists()


def test_a_job_refuses_a_cell_listed_twice(tmp_path):
    from experiments.engine.sweep import run_cells

    task = _TwiceTask()
    with pytest.raises(ExperimentError, match="'good' twice"):
        run_cells(task, _Cfg(), task.cells(_Cfg()), tmp_path)


class _EmptyTask(_FailingTask):
    def cells(self, cfg: Any) -> list[_Cell]:
        return []


def test_a_grid_of_no_cells_is_an_error_not_an_empty_success(tmp_path):
    with pytest.raises(ExperimentError, match="no cells"):
        run_sweep(_EmptyTask(), _Cfg(), tmp_path / "s", log=lambda m: None)


def _seedless_report(folder: Path, ppl: float) -> Path:
    folder.mkdir()
    (folder / "results.csv").write_text(
        f"corpus,scheme,segmenter,length,ppl\nc,rope,,64,{ppl}\nc,alibi,,64,{ppl + 2}\n"
    )
    return folder


def test_seeds_table_refuses_a_report_given_twice(tmp_path, capsys):
    a = _seedless_report(tmp_path / "a", 10.0)
    b = _seedless_report(tmp_path / "b", 11.0)
    assert main(["seeds", "table", str(a), str(b)]) == 0
    assert "| c | rope | 2 |" in capsys.readouterr().out
    assert main(["seeds", "table", str(a), str(b), str(a)]) == 2
    assert "same report" in capsys.readouterr().err


def test_seeds_table_refuses_a_copy_of_a_report(tmp_path, capsys):
    a = _seedless_report(tmp_path / "a", 10.0)
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "results.csv").write_bytes((a / "results.csv").read_bytes())
    assert main(["seeds", "table", str(a), str(copy)]) == 2
    assert "same report" in capsys.readouterr().err


# -- a report is written whole or not at all ----------------------------------------------------

_FULL_DISK = """
import json, resource, sys
from pathlib import Path
from experiments.analysis.results import write_results
from experiments.errors import ExperimentError
out = Path(sys.argv[1])
row = {"length": 32, "multiplier": 1, "ppl": 9.5, "loss": 2.2, "blocks": 1, "tokens": 32}
evals = [{"corpus": "c", "scheme": "rope", "seed": s, "results": [row]} for s in range(400)]
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # a disk that fills at 4 KiB
try:
    write_results(out, evals)
except ExperimentError as exc:
    print(type(exc).__name__, exc)
    sys.exit(3)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE")
def test_a_full_disk_leaves_the_old_report_whole_and_says_which_file(tmp_path):
    report = _report(tmp_path)
    before = {p.name: p.read_bytes() for p in report.iterdir()}
    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(report)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    assert "WriteFailedError" in done.stdout and "results.csv" in done.stdout
    assert {p.name: p.read_bytes() for p in report.iterdir()} == before  # no temp file either
    assert len(read_results_csv(report)) == 3
