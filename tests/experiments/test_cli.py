"""The `bipe` sub-commands of experiments: train, eval, run, corpus, demo (real parts, tiny sizes)."""

from __future__ import annotations

import json

import pytest

from experiments.cli import main

MICRO = [
    "--set",
    "train.steps=3",
    "--set",
    "train.seq_len=32",
    "--set",
    "train.batch_size=2",
    "--set",
    "model.d_model=32",
    "--set",
    "model.n_layers=1",
    "--set",
    "model.n_heads=2",
    "--set",
    "data.vocab_size=300",
    "--set",
    "train.progress=false",
    "--set",
    "eval.multipliers=1,2",
    "--set",
    "eval.eval_tokens=256",
]


def test_corpus_list(capsys):
    assert main(["corpus", "list"]) == 0
    out = capsys.readouterr().out
    assert "| kjv |" in out and "| sample |" in out


def test_train_then_eval(tmp_path, cache_dir, capsys):
    run = tmp_path / "run"
    rc = main(
        [
            "train",
            "--preset",
            "tiny",
            "--scheme",
            "bipe_rope",
            "--segmenter",
            "sep",
            "--out",
            str(run),
            "--cache-dir",
            str(cache_dir),
            *MICRO,
        ]
    )
    assert rc == 0 and (run / "checkpoint.safetensors").is_file()
    assert main(["eval", str(run), "--cache-dir", str(cache_dir), "--json"]) == 0
    ev = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert [r["length"] for r in ev["results"]] == [32, 64]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--set", "train.stepz=3"], "unknown config key 'train.stepz'"),
        (["train", "--set", "data.corpora=nope"], "unknown corpus 'nope'"),
        (["eval", "/nonexistent/run"], "no checkpoint"),
        (
            [
                "train",
                "--scheme",
                "bipe_rope",
                "--segmenter",
                "sep",
                *MICRO,
                "--set",
                "eval.multipliers=1000",
            ],
            "eval.eval_tokens=256 (must fill one block of the longest evaluation length",
        ),
    ],
)
def test_bad_input_gives_a_typed_error_and_exit_2(argv, message, capsys, tmp_path, cache_dir):
    argv = [*argv, "--cache-dir", str(cache_dir)]
    if argv[0] == "train":
        argv += ["--out", str(tmp_path / "r")]
    rc = main(argv)
    assert rc == 2
    assert message in capsys.readouterr().err


def test_run_writes_a_report_and_resumes(tmp_path, cache_dir, capsys):
    out = tmp_path / "exp"
    argv = [
        "run",
        "--preset",
        "tiny",
        "--out",
        str(out),
        "--cache-dir",
        str(cache_dir),
        "--workers",
        "1",
        "--set",
        "schemes=alibi",
        *MICRO,
    ]
    assert main(argv) == 0
    for name in ("results.json", "results.csv", "summary.md", "ppl_vs_length_sample.png"):
        assert (out / name).is_file()
    assert main(argv) == 0
    assert "1 runs (1 already done)" in capsys.readouterr().out


def test_demo_runs_end_to_end(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--steps", "5"]) == 0
    out = capsys.readouterr().out
    assert "report directory:" in out and (tmp_path / "demo" / "summary.md").is_file()


def test_run_over_seeds_keeps_a_dir_per_seed_and_reports_intervals(tmp_path, cache_dir, capsys):
    out = tmp_path / "exp"
    argv = [
        "run", "--preset", "tiny", "--out", str(out), "--cache-dir", str(cache_dir),
        "--workers", "1", "--set", "schemes=alibi", "--set", "train.seeds=2", *MICRO,
    ]  # fmt: skip
    assert main(argv) == 0
    assert (out / "runs" / "sample-alibi" / "eval.json").is_file()
    assert (out / "runs" / "sample-alibi-s1" / "eval.json").is_file()
    import json

    seeds = sorted(e["seed"] for e in json.loads((out / "results.json").read_text())["evaluations"])
    assert seeds == [0, 1]
    assert "±" in (out / "summary.md").read_text()
    assert "seed" in (out / "results.csv").read_text().splitlines()[0]
    assert main(argv) == 0
    assert "2 runs (2 already done)" in capsys.readouterr().out


@pytest.mark.slow
def test_budget_command_end_to_end(tmp_path, cache_dir):
    out = tmp_path / "budget"
    argv = [
        "budget", "--preset", "tiny", "--steps", "2,4", "--out", str(out), "--cache-dir",
        str(cache_dir), "--workers", "1", "--set", "schemes=alibi,bipe_alibi",
        "--set", "train.seeds=2", *MICRO,
    ]  # fmt: skip
    assert main(argv) == 0
    assert (out / "budget.md").is_file() and (out / "gap_vs_budget_sample.png").is_file()
    assert (out / "steps4" / "runs" / "sample-bipe_alibi-punct-s1" / "eval.json").is_file()
