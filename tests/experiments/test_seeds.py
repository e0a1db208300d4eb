"""Seed tables: means with t-intervals and paired ratios from several `bipe run` reports."""

from __future__ import annotations

import csv

import pytest

from experiments.errors import ExperimentError
from experiments.seeds import main, mean_interval, paired_table, read_seed_rows, seeds_table

FIELDS = ["corpus", "scheme", "segmenter", "length", "ppl"]


def _report(path, ppl):
    path.mkdir()
    with open(path / "results.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, FIELDS)
        w.writeheader()
        for scheme, seg, base in (("rope", "", 10.0), ("hier_rope", "a > b", 12.0)):
            for length, k in ((64, 1.0), (128, 1.5)):
                w.writerow(dict(zip(FIELDS, ("c", scheme, seg, length, base * k + ppl))))
    return path


def test_mean_interval_is_students_t():
    mean, half = mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.302653 * 1.0 / 3**0.5, rel=1e-5)


def test_tables_over_three_seeds(tmp_path, capsys):
    dirs = [_report(tmp_path / f"s{i}", i) for i in range(3)]
    seeds = read_seed_rows(dirs)
    table = seeds_table(seeds)
    assert "| c | rope | 11.00 ± 2.48 | 16.00 ± 2.48 |" in table
    assert "| c | hier_rope (a > b) | 13.00 ± 2.48 | 19.00 ± 2.48 |" in table
    ratios = paired_table(seeds, [("hier_rope", "rope")])
    expected = sum((12 + i) / (10 + i) for i in range(3)) / 3
    assert f"| c | hier_rope / rope | {expected:.3f} ± " in ratios
    assert main([*map(str, dirs), "--pair", "hier_rope:rope"]) == 0
    assert "hier_rope / rope" in capsys.readouterr().out


def test_bad_input_is_a_typed_error(tmp_path, capsys):
    a, b = _report(tmp_path / "a", 0), _report(tmp_path / "b", 1)
    with pytest.raises(ExperimentError, match="at least two seeds"):
        read_seed_rows([a])
    with pytest.raises(ExperimentError, match="cannot read"):
        read_seed_rows([a, tmp_path / "missing"])
    with pytest.raises(ExperimentError, match="no "):
        paired_table(read_seed_rows([a, b]), [("alibi", "rope")])
    assert main([str(a), str(b), "--pair", "rope"]) == 2
    assert "A:B" in capsys.readouterr().err
