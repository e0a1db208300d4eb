"""`bipe synthetic`: typed errors before training, batches from the sampler, the accuracy metrics,
cells that train and skip on rerun, the report files, and submitit's local executor (real parts)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from automata import make_family
from automata.samplers import HierarchicalSampler
from experiments.cli import main
from experiments.engine.sweep import run_cells
from experiments.errors import ExperimentError
from experiments.synthetic.config import load_synthetic_config
from experiments.synthetic.report import min_width_rows, min_width_table, write_report
from experiments.synthetic.task import (
    SYNTHETIC_TASK,
    all_cells,
    cell_result,
    collect,
    compute_cell,
    evaluate_words,
    run_sweep,
)
from experiments.synthetic.words import to_tensors, word_batch

# One tiny cell setting shared by the tests that train (about a second per cell on one core).
MICRO = [
    "train.steps=4",
    "train.batch_size=4",
    "task.factors=1,2",
    "task.test_words=6",
    "task.probe_words=8",
]


def micro(**fields: object):
    """The tiny preset cut to seconds: one automaton, one scheme, one width, one seed."""
    base = {
        "automata": "mod-marked:types=2,states=2",
        "schemes": "bipe_rope",
        "widths": "8",
        "seeds": "0",
    }
    return load_synthetic_config("tiny", MICRO, **{**base, **fields})


# ------------------------------------------------------------------------------ typed errors
@pytest.mark.parametrize(
    ("fields", "overrides", "message"),
    [
        ({"automata": "nosuch:types=2"}, [], "unknown automaton family 'nosuch'.*mod-marked"),
        ({"automata": "random:typs=2"}, [], "unknown option.*typs"),
        ({"schemes": "bipe_rop"}, [], "unknown positional scheme 'bipe_rop'.*bipe_rope"),
        ({"schemes": "hier_rope"}, [], "more than one level"),
        ({"widths": "12"}, ["n_heads=8"], "width 12 is not divisible by n_heads=8"),
        ({"target": "0"}, [], r"target=0.0 \(must be in \(0, 1\]\)"),
        ({"target": "1.5"}, [], r"target=1.5"),
        # moduli 2 and 3 never give a segment of exactly one token
        (
            {"automata": "mod-unmarked:types=2,states=2"},
            ["task.min_len=1", "task.max_len=1"],
            "cannot give the .* words",
        ),
    ],
)
def test_bad_settings_raise_before_any_training(tmp_path, fields, overrides, message):
    with pytest.raises(ExperimentError, match=message):
        cfg = load_synthetic_config("tiny", overrides, **fields)
        run_sweep(cfg, tmp_path / "out")
    assert not (tmp_path / "out" / "cells").exists()


def test_unknown_executor_and_preset_name_the_choices(tmp_path, capsys):
    with pytest.raises(ExperimentError, match=r"unknown executor 'pbs'.*local, slurm"):
        run_sweep(micro(), tmp_path, executor="pbs")
    assert main(["synthetic", "--executor", "pbs", "--out", str(tmp_path)]) == 2
    assert "submitit-local" in capsys.readouterr().err
    with pytest.raises(ExperimentError, match=r"unknown preset 'huge'.*tiny, cpu, gpu"):
        load_synthetic_config("huge")


# ------------------------------------------------------------------------------ batches
@settings(max_examples=15, deadline=None)
@given(
    family=st.sampled_from(["random", "mod-unmarked", "dyck", "arithmetic"]),
    seed=st.integers(0, 50),
    n=st.integers(1, 5),
)
def test_batches_carry_the_sampler_annotations(family, seed, n):
    binfa = make_family(family, 2, 4 if family != "arithmetic" else 14, seed)
    sampler = HierarchicalSampler(binfa, (1, 4), 1, 6, seed=seed)
    samples = [sampler.sample() for _ in range(n)]
    batch = word_batch(samples, len(binfa.symbols))
    ids, targets, pos = to_tensors(batch)
    assert batch.tokens == sum(len(s.ids) for s in samples)
    for i, s in enumerate(samples):
        k = len(s.ids)
        assert ids[i, :k].tolist() == s.ids.tolist()
        assert torch.equal(targets[i, :k].bool(), torch.from_numpy(s.legal_next))
        assert pos.segment[i, :k].tolist() == s.segment.tolist()
        assert pos.intra[i, :k].tolist() == s.intra.tolist()
        assert pos.attention_mask[i].sum() == k and not targets[i, k:].any()
        # the separator closes its segment: it is the last token of its segment
        sep = len(binfa.symbols) - 1
        ends = np.flatnonzero(s.ids == sep)
        assert (
            (s.intra[ends + 1] == 0).all()
            if ends[-1] + 1 < k
            else (s.intra[ends[:-1] + 1] == 0).all()
        )


class _Oracle(torch.nn.Module):
    """Logits +5 on exactly the given legal sets (words in order), -5 elsewhere."""

    def __init__(self, legal: list[np.ndarray]) -> None:
        super().__init__()
        self.legal, self.row = legal, 0

    def forward(self, ids, positions=None):
        B, T = ids.shape
        out = torch.full((B, T, self.legal[0].shape[1]), -5.0)
        for b in range(B):
            table = torch.from_numpy(self.legal[self.row + b])
            out[b, : len(table)][table] = 5.0
        self.row += B
        return out


def test_word_and_token_accuracy_count_exact_legal_sets():
    binfa = make_family("random", 2, 4, 1)
    words = [HierarchicalSampler(binfa, (1, 4), 1, 5, seed=3).sample() for _ in range(10)]
    legal = [w.legal_next.copy() for w in words]
    V = len(binfa.symbols)
    perfect = evaluate_words(_Oracle(legal), words, V, 4)
    assert perfect["word_acc"] == perfect["token_acc"] == perfect["next_token_acc"] == 1.0
    legal[2][0] = ~legal[2][0]  # one wrong position in word 2
    legal[7][1, 0] = ~legal[7][1, 0]  # one wrong token of a set in word 7
    got = evaluate_words(_Oracle(legal), words, V, 4)
    assert got["word_acc"] == pytest.approx(0.8)
    assert got["token_acc"] == pytest.approx(1 - 2 / sum(len(w.ids) for w in words))


# ------------------------------------------------------------------------------ cells
def test_a_cell_trains_tests_at_every_factor_and_probes(tmp_path):
    cfg = micro()
    cell = all_cells(cfg)[0]
    res = compute_cell(cfg, cell)
    assert [r["factor"] for r in res["results"]] == [1, 2]
    assert res["results"][1]["segments"] == [5, 8]  # only new, longer segment counts at 2x
    for r in res["results"]:
        assert 0 <= r["word_acc"] <= r["token_acc"] <= 1 and r["words"] == 6
    targets = {(p["layer"], p["target"]) for p in res["probes"]}
    assert targets == {(layer, t) for layer in (0, 1) for t in ("top", "bottom", "flat")}
    assert res["train"]["params"] > 0 and res["train"]["tokens"] > 0


def test_finished_cells_are_skipped_and_changed_settings_recompute(tmp_path):
    cfg = micro(schemes="rope,bipe_rope")
    cells = all_cells(cfg)
    assert run_cells(SYNTHETIC_TASK, cfg, cells, tmp_path) == 0
    paths = [tmp_path / "cells" / c.name / "result.json" for c in cells]
    stamps = [p.stat().st_mtime_ns for p in paths]
    assert run_cells(SYNTHETIC_TASK, cfg, cells, tmp_path) == 0
    assert [p.stat().st_mtime_ns for p in paths] == stamps  # nothing recomputed
    assert len(collect(cfg, tmp_path).results) == 2
    changed = micro(schemes="rope,bipe_rope")
    changed.train.steps = 5
    assert (
        cell_result(tmp_path, changed, cells[0]) is None
    )  # a result of other settings is not reused
    (paths[0].parent / "result.json.tmp").write_text("{")  # a cell killed mid-write
    assert cell_result(tmp_path, cfg, cells[0]) is not None


def test_min_width_waits_for_unfinished_widths_and_gives_an_interval():
    sizes = {"a": {"automaton": "a"}}
    rows = [
        {"automaton": "a", "scheme": "s", "factor": 1, "seed": seed, "width": w, "word_acc": acc}
        for seed, w, acc in [(0, 8, 0.5), (0, 16, 0.99), (1, 8, 0.98), (1, 16, 1.0), (2, 8, 0.1)]
    ]
    (row,) = min_width_rows(rows, sizes, 0.97, [8, 16], [0, 1, 2])
    # seed 2 has not finished width 16: the row is computed from seeds 0 and 1 and says so
    assert row["seeds_reached"] == "2/3 (1 unfinished)" and row["per_seed"] == "16 8 ?"
    assert row["min_width"] == pytest.approx(2**3.5, abs=0.01)
    rows.append(
        {"automaton": "a", "scheme": "s", "factor": 1, "seed": 2, "width": 16, "word_acc": 0.99}
    )
    (row,) = min_width_rows(rows, sizes, 0.97, [8, 16], [0, 1, 2])
    assert row["per_seed"] == "16 8 16" and row["seeds_reached"] == "3/3"
    assert row["ci_low"] < row["min_width"] < row["ci_high"]
    assert row["min_width"] == pytest.approx(2 ** np.mean(np.log2([16, 8, 16])), abs=0.01)


def test_report_files_from_finished_cells(tmp_path):
    cfg = micro(schemes="nope,bipe_alibi")
    cells = all_cells(cfg)
    run_cells(SYNTHETIC_TASK, cfg, cells, tmp_path)
    path = write_report(cfg, collect(cfg, tmp_path), "bipe synthetic --preset tiny")
    text = path.read_text()
    assert "Minimal width reaching word accuracy 0.97" in text and "commit" in text
    with open(tmp_path / "cells.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 2 and {"word_acc", "token_acc", "next_token_acc"} <= set(rows[0])
    with open(tmp_path / "min_width.csv") as fh:
        mins = list(csv.DictReader(fh))
    assert {
        "family",
        "min_dfa_states",
        "bilevel_states",
        "scheme",
        "min_width",
        "ci_low",
        "ci_high",
    } <= set(mins[0])
    for png in ("acc_vs_width_x1.png", "acc_vs_width_x2.png", "min_width_vs_size.png"):
        assert (tmp_path / png).stat().st_size > 1000
    assert json.loads((tmp_path / "config.json").read_text())["target"] == 0.97


def test_submitit_local_executor_runs_the_cells(tmp_path):
    pytest.importorskip("submitit")
    cfg = micro(workers="1")
    res = run_sweep(cfg, tmp_path, executor="submitit-local", log=lambda m: None)
    assert len(res.results) == 1 and not res.failed
    assert any((tmp_path / "submitit").iterdir())
    again = run_sweep(cfg, tmp_path, executor="local", log=print)  # nothing left to run
    assert len(again.results) == 1


@pytest.mark.slow
def test_cli_tiny_preset_end_to_end_and_rerun(tmp_path, capsys):
    out = tmp_path / "tiny"
    assert main(["synthetic", "--preset", "tiny", "--out", str(out)]) == 0
    assert "8 cells finished" in capsys.readouterr().out
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("cells/*/result.json")}
    assert main(["synthetic", "--preset", "tiny", "--out", str(out)]) == 0
    assert "(8 already done)" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.glob("cells/*/result.json")} == stamps
    assert os.path.getsize(out / "summary.md") > 0


@pytest.mark.slow
def test_ctrl_c_keeps_finished_cells_and_the_rerun_continues(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "sweep"
    argv = [sys.executable, "-m", "experiments.cli", "synthetic", "--preset", "tiny", "--out", str(out),
            "--workers", "1", "--set", "train.steps=200"]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=Path(__file__).resolve().parents[2], stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while not list(out.glob("cells/*/result.json")) and time.time() < deadline:
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) == 130
    done = {p: p.read_bytes() for p in out.glob("cells/*/result.json")}
    assert done and len(done) < 8
    assert all(json.loads(b)["results"] for b in done.values())  # whole results, never half-written


def test_min_width_table_marks_never_partial_and_unfinished():
    sizes = {a: {"automaton": a, "min_dfa_states": 5, "bilevel_states": 4} for a in "abc"}
    rows = [
        {"automaton": a, "scheme": "s", "factor": 1, "seed": seed, "width": w, "word_acc": acc}
        for a, seed, w, acc in [
            ("a", 0, 8, 0.1), ("a", 0, 16, 0.2), ("a", 1, 8, 0.3), ("a", 1, 16, 0.4),  # never
            ("b", 0, 8, 0.99), ("b", 1, 8, 0.5), ("b", 1, 16, 0.5),  # one seed of two
            ("c", 0, 8, 0.5),  # width 16 unfinished
        ]
    ]  # fmt: skip
    mins = min_width_rows(rows, sizes, 0.97, [8, 16], [0, 1])
    table = min_width_table(mins, 16)
    assert "| a | 5 | 4 | >16 |" in table
    assert "| b | 5 | 4 | >16 (1/2) |" in table
    assert "| c | 5 | 4 | ? |" in table
    rows = [r for r in rows if not (r["automaton"] == "a" and r["seed"] == 1)]
    assert "| a | 5 | 4 | >16* |" in min_width_table(
        min_width_rows(rows, sizes, 0.97, [8, 16], [0, 1]), 16
    )
