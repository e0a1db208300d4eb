"""Issue 11: every class of bad input to train/eval/run/demo/corpus ends in a typed error or a
refusal before any work, and leaves the user's files as they were."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from experiments.cli import main
from experiments.commands.outputs import OWNER_MARKER, OutputExistsError, claim_dir, claim_file
from experiments.engine.checkpoints import CHECKPOINT_NAME, read_header
from experiments.engine.sweep import check_workers
from experiments.errors import ExperimentError
from experiments.lm.config import RunSpec
from experiments.lm.grid import run_grid
from experiments.lm.train import train_run
from tests.experiments.test_cli import MICRO


def snapshot(root: Path) -> dict[str, str]:
    """Path -> content hash of every file under ``root`` (or of ``root`` itself)."""
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p): hashlib.sha1(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture
def user_files(tmp_path: Path) -> Path:
    """A user's directory with a plain file and a directory holding a summary of their own."""
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    report = tmp_path / "report"
    report.mkdir()
    (report / "summary.md").write_text("my summary\n", encoding="utf-8")
    (report / "results.csv").write_text("a,b\n", encoding="utf-8")
    return tmp_path


def run_refused(argv: list[str], capsys, root: Path) -> str:
    """Run the command line; assert it exits 2 (argparse or typed error), changes nothing under
    ``root`` and prints no traceback; return stderr."""
    before = snapshot(root)
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and "error" in err
    assert snapshot(root) == before
    return err


# Argument-level refusals: argparse names the option and nothing starts.
@pytest.mark.parametrize(
    "argv, named",
    [
        (["demo", "--workers", "-2"], "--workers"),
        (["demo", "--workers", "0"], "--workers"),
        (["demo", "--steps", "0"], "--steps"),
        (["run", "--preset", "tiny", "--workers", "-1"], "--workers"),
        (["run", "--preset", "nosuch"], "--preset"),
        (["train", "--config", "{tmp}/missing.json"], "--config"),
        (["train", "--out", "{tmp}/notes.txt"], "--out"),
        (["train", "--out", "{tmp}/notes.txt/run"], "--out"),
        (["train", "--cache-dir", "{tmp}/notes.txt"], "--cache-dir"),
        (["demo", "--out", "{tmp}/notes.txt"], "--out"),
        (["demo", "--cache-dir", "{tmp}/notes.txt"], "--cache-dir"),
        (["run", "--out", "{tmp}/notes.txt"], "--out"),
        (["corpus", "stats", "sample", "--cache-dir", "{tmp}/notes.txt"], "--cache-dir"),
        (["corpus", "stats", "sample", "--vocab-size", "10"], "--vocab-size"),
        (["corpus", "stats", "sample", "--max-docs", "0"], "--max-docs"),
        (["eval", "{tmp}/run", "--eval-tokens", "-10"], "--eval-tokens"),
        (["eval", "{tmp}/run", "--eval-tokens", "0"], "--eval-tokens"),
        (["eval", "{tmp}/run", "--multipliers", "0"], "--multipliers"),
        (["eval", "{tmp}/run", "--multipliers", "1,x"], "--multipliers"),
        (["eval", "{tmp}/run", "--cache-dir", "{tmp}/notes.txt"], "--cache-dir"),
    ],
)
def test_bad_option_values_are_refused_by_name(argv, named, user_files, capsys):
    argv = [a.replace("{tmp}", str(user_files)) for a in argv]
    err = run_refused(argv, capsys, user_files)
    assert named in err


@pytest.mark.parametrize("command", ["demo", "run"])
def test_report_directory_with_user_files_is_refused(command, user_files, capsys):
    argv = [command, "--out", str(user_files / "report")]
    err = run_refused(argv + (["--preset", "tiny"] if command == "run" else []), capsys, user_files)
    assert "--overwrite" in err and "summary.md" in err


def test_train_refuses_a_directory_of_user_files(user_files, capsys, cache_dir):
    argv = ["train", "--out", str(user_files / "report"), "--cache-dir", str(cache_dir), *MICRO]
    assert "--overwrite" in run_refused(argv, capsys, user_files)


def test_claim_dir_takes_empty_and_marked_directories_and_nothing_else(tmp_path):
    assert claim_dir(tmp_path / "new").is_dir()
    assert (tmp_path / "new" / OWNER_MARKER).is_file()
    claim_dir(tmp_path / "new")  # bipe's own directory: resumed
    legacy = tmp_path / "legacy"
    (legacy / "runs").mkdir(parents=True)
    (legacy / "results.json").write_text("{}", encoding="utf-8")
    with pytest.raises(OutputExistsError):
        claim_dir(legacy)
    # contents that look like a report never make a folder bipe's: only the marker does
    with pytest.raises(OutputExistsError):
        claim_dir(legacy, ours=lambda p: (p / "runs").is_dir())
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "summary.md").write_text("x", encoding="utf-8")
    claim_dir(mine, overwrite=True)  # the user said so
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(OutputExistsError):
        claim_file(tmp_path / "f")
    assert claim_file(tmp_path / "f", overwrite=True) == tmp_path / "f"


def test_workers_below_one_never_reach_the_pool(micro, tmp_path, cache_dir):
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ExperimentError, match="workers"):
            check_workers(bad)
    with pytest.raises(ExperimentError, match="workers"):
        run_grid(micro(), tmp_path / "out", cache_dir, workers=0)
    assert not (tmp_path / "out" / "runs").exists()


# ------------------------------------------------------------------ a trained run, then bad evals


@pytest.fixture(scope="module")
def trained(tmp_path_factory, cache_dir) -> Path:
    """A finished 3-step run of the MICRO settings (about two seconds)."""
    run = tmp_path_factory.mktemp("i11") / "run"
    argv = ["train", "--scheme", "bipe_rope", "--segmenter", "sep", "--out", str(run)]
    assert main([*argv, "--cache-dir", str(cache_dir), *MICRO]) == 0
    return run


def test_eval_tokens_too_few_for_one_block_is_refused(trained, cache_dir, capsys):
    argv = ["eval", str(trained), "--cache-dir", str(cache_dir), "--eval-tokens", "10"]
    err = run_refused(argv, capsys, trained)
    assert "eval_tokens=10" in err and "64" in err  # the longest length is 2 x 32


def test_eval_records_the_settings_that_ran(trained, cache_dir, capsys):
    argv = ["eval", str(trained), "--cache-dir", str(cache_dir), "--eval-tokens", "100", "--json"]
    assert main([*argv, "--multipliers", "1,2"]) == 0
    ev = json.loads((trained / "eval.json").read_text(encoding="utf-8"))
    assert ev["eval_tokens"] == 100 and ev["multipliers"] == [1, 2]
    assert ev["tokens_scored"] == 64 and {r["tokens"] for r in ev["results"]} == {64}
    capsys.readouterr()


def test_eval_accepts_the_checkpoint_file_and_writes_beside_it(trained, cache_dir, capsys):
    (trained / "eval.json").unlink(missing_ok=True)
    argv = ["eval", str(trained / CHECKPOINT_NAME), "--cache-dir", str(cache_dir), "--json"]
    assert main(argv) == 0
    assert json.loads((trained / "eval.json").read_text(encoding="utf-8"))["step"] == 3
    capsys.readouterr()


def test_non_finite_weights_stop_eval_naming_run_and_step(trained, tmp_path, cache_dir, capsys):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    run = tmp_path / "nan-run"
    run.mkdir()
    src = trained / CHECKPOINT_NAME
    with safe_open(str(src), "pt") as fh:
        meta = fh.metadata()
    tensors = load_file(str(src))
    name = next(k for k in tensors if k.startswith("model.") and "embed" in k)
    tensors[name] = torch.full_like(tensors[name], float("nan"))
    # a model that diverged saves NaN weights with valid checksums: forge those, so that the
    # NaN check (not the corruption check) is what refuses it
    import hashlib
    import json

    from bipe_core.checkpoint import tensors_digest

    header = json.loads(meta["bipe_train"])
    header["tensors_sha256"] = tensors_digest(tensors)
    meta["bipe_train"] = json.dumps(header)
    meta["bipe_train_sha256"] = hashlib.sha256(meta["bipe_train"].encode()).hexdigest()
    save_file(tensors, str(run / CHECKPOINT_NAME), metadata=meta)
    err = run_refused(["eval", str(run), "--cache-dir", str(cache_dir)], capsys, run)
    assert "sample-bipe_rope-sep" in err and "step 3" in err and "nan" in err
    assert not (run / "eval.json").exists()


@pytest.mark.parametrize("steps", ["5", "2"])
def test_resume_under_other_steps_is_refused(steps, trained, tmp_path, cache_dir, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    argv = ["train", "--scheme", "bipe_rope", "--segmenter", "sep", "--out", str(run)]
    argv += ["--cache-dir", str(cache_dir), *MICRO, "--set", f"train.steps={steps}"]
    err = run_refused(argv, capsys, run)
    assert f"train.steps: 3 -> {steps}" in err


def test_rerun_of_a_finished_run_says_so(trained, tmp_path, cache_dir, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    argv = ["train", "--scheme", "bipe_rope", "--segmenter", "sep", "--out", str(run)]
    assert main([*argv, "--cache-dir", str(cache_dir), *MICRO]) == 0
    out = capsys.readouterr().out
    assert "already trained to step 3/3" in out and "None" not in out
    # --no-resume refuses, and names only options that exist
    err = run_refused([*argv, "--cache-dir", str(cache_dir), *MICRO, "--no-resume"], capsys, run)
    assert "--resume" not in err.replace("--no-resume", "")


def test_logging_settings_may_change_on_resume(trained, tmp_path, cache_dir, micro):
    import shutil

    from experiments.lm.config import load_config

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    cfg = load_config("tiny", None, [*MICRO[1::2], "train.log_every=1", "train.ckpt_every=1"])
    res = train_run(cfg, RunSpec("sample", "bipe_rope", "sep"), run, cache_dir=cache_dir)
    assert res.completed and read_header(run / CHECKPOINT_NAME)["step"] == 3


@pytest.mark.slow  # ~15 s: a spawned worker imports torch and trains until stopped
def test_pool_reports_a_stopped_worker_as_interrupted(micro, tmp_path, cache_dir):
    """A worker stopped by SIGTERM checkpoints and exits 130; the pool says so, not "finished"."""
    import multiprocessing as mp
    import os
    import signal
    import threading
    import time

    from experiments.engine.sweep import run_sweep
    from experiments.lm.config import run_specs
    from experiments.lm.grid import LM_TASK

    cfg = micro(steps=100_000, ckpt_every=100_000, log_every=1)
    cfg.schemes = ["rope"]
    options = {"cache_dir": str(cache_dir)}
    spec = run_specs(cfg)[0]
    metrics = tmp_path / "runs" / spec.name / "metrics.jsonl"

    def stop_when_training() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not (metrics.exists() and metrics.stat().st_size):
            time.sleep(0.1)
        for child in mp.active_children():
            os.kill(child.pid, signal.SIGTERM)

    lines: list[str] = []
    threading.Thread(target=stop_when_training, daemon=True).start()
    run_sweep(LM_TASK, cfg, tmp_path, workers=1, options=options, log=lines.append)
    assert lines[-1] == f"interrupted {spec.name} (exit 130)"
    assert (tmp_path / "runs" / spec.name / CHECKPOINT_NAME).is_file()
