"""`bipe seeds`: seed tables, paired ratios and cell differences read from real report files."""

from __future__ import annotations

import csv

import pytest
from scipy import stats as sps

from experiments.analysis.results import write_results
from experiments.analysis.stats import diff_line, find_cell, ratio_table, report_cells, seeds_table
from experiments.cli import main
from experiments.errors import ExperimentError


def _evals(scheme, segmenter, ppls, lengths=(64, 128), seed0=0):
    """Evaluations of one cell, one per seed, at every length: ppl, then ppl + 1 at the next."""
    rows = lambda p: [  # noqa: E731
        {"length": n, "multiplier": n / 64, "loss": 1.0, "ppl": p + k, "blocks": 1, "tokens": n,
         "seconds": 0.1} for k, n in enumerate(lengths)
    ]  # fmt: skip
    return [
        {"corpus": "c", "scheme": scheme, "segmenter": segmenter, "step": 5, "seed": seed0 + i,
         "results": rows(p)} for i, p in enumerate(ppls)
    ]  # fmt: skip


@pytest.fixture
def report(tmp_path):
    """A report of three seeds: rope, and bipe_rope with two segmenters."""
    out = tmp_path / "multi"
    out.mkdir()
    write_results(
        out,
        _evals("rope", None, [10.0, 11.0, 12.0])
        + _evals("bipe_rope", "punct", [12.0, 13.0, 14.0])
        + _evals("bipe_rope", "fixed:size=120", [20.0, 22.0, 24.0]),
    )
    return out


def test_table_of_a_multi_seed_report(report):
    table = seeds_table(report_cells([report]))
    half = sps.t.ppf(0.975, 2) / 3**0.5  # sd 1 over 3 seeds
    assert f"| c | rope | 3 | 11.00 ± {half:.2f} | 12.00 ± {half:.2f} |" in table
    assert "| c | bipe_rope (fixed:size=120) | 3 | 22.00 ± " in table


def test_one_report_per_seed_reads_like_one_multi_seed_report(tmp_path, report):
    dirs = []
    for i, (a, b) in enumerate(((10.0, 12.0), (11.0, 13.0), (12.0, 14.0))):
        d = tmp_path / f"s{i}"
        d.mkdir()
        write_results(
            d, _evals("rope", None, [a], seed0=i) + _evals("bipe_rope", "punct", [b], seed0=i)
        )
        dirs.append(d)
    split, whole = report_cells(dirs), report_cells([report])
    assert split[("c", "rope")] == whole[("c", "rope")]
    assert ratio_table(split, [("bipe_rope", "rope")]) == ratio_table(
        whole, [("bipe_rope (punct)", "rope")]
    )


def test_runs_of_one_seed_pair_across_reports(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    write_results(a, _evals("rope", None, [10.0, 11.0, 12.0]))
    write_results(b, _evals("bipe_rope_io", "punct", [11.0, 11.5, 13.5]))
    table = ratio_table(report_cells([a, b]), [("bipe_rope_io", "rope")])
    mean = (11 / 10 + 11.5 / 11 + 13.5 / 12) / 3
    assert f"| c | bipe_rope_io (punct) / rope | {mean:.3f} ± " in table


def test_reports_without_seeds_count_one_seed_each(tmp_path):
    dirs = []
    for i, p in enumerate((10.0, 11.0, 12.0)):
        d = tmp_path / f"old{i}"
        d.mkdir()
        with open(d / "results.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["corpus", "scheme", "segmenter", "length", "ppl"])  # no seed column
            w.writerows([["c", "rope", "", "64", p], ["c", "alibi", "", "64", p + 2]])
        dirs.append(d)
    cells = report_cells(dirs)
    assert sorted(cells[("c", "rope")][64].values()) == [10.0, 11.0, 12.0]
    assert "| c | alibi / rope | 1.183 ± " in ratio_table(cells, [("alibi", "rope")])


def test_ratios_pair_runs_of_the_same_seed(report):
    table = ratio_table(report_cells([report]), [("bipe_rope (punct)", "rope")])
    mean = sum(b / a for a, b in ((10, 12), (11, 13), (12, 14))) / 3
    assert f"| c | bipe_rope (punct) / rope | {mean:.3f} ± " in table


def test_cells_are_named_by_label_or_unambiguous_scheme(report):
    cells = report_cells([report])
    assert find_cell(cells, "rope") == ("c", "rope")
    assert find_cell(cells, "bipe_rope (punct)") == ("c", "bipe_rope (punct)")
    with pytest.raises(ExperimentError, match="names several cells"):
        find_cell(cells, "bipe_rope")  # two segmenters: never pooled into one cell
    with pytest.raises(ExperimentError, match="no cell 'alibi'"):
        find_cell(cells, "alibi")
    with pytest.raises(ExperimentError, match="on corpus 'other'"):
        find_cell(cells, "rope", corpus="other")


def test_diff_is_welch_and_marks_noise(report, tmp_path):
    line = diff_line(report, "bipe_rope (fixed:size=120)", report, "rope")
    w = sps.ttest_ind([20, 22, 24], [10, 11, 12], equal_var=False)
    assert line.startswith("bipe_rope (fixed:size=120) (")
    assert "64: +11.00 ± " in line and " *" in line and w.pvalue < 0.05
    same = diff_line(report, "rope", report, "rope")
    assert "64: +0.00 ± 2.27 |" in same and " *" not in same  # the same cell: pure noise


def test_command_line(report, capsys):
    assert main(["seeds", "table", str(report), "--pair", "bipe_rope (punct):rope"]) == 0
    out = capsys.readouterr().out
    assert "| c | rope | 3 |" in out and "bipe_rope (punct) / rope" in out
    assert main(["seeds", "diff", str(report), "bipe_rope (punct)", str(report), "rope"]) == 0
    assert "64: +2.00 ± " in capsys.readouterr().out


def test_pairs_split_outside_the_labels_own_colons(report, capsys):
    from experiments.commands.seeds import split_pair

    assert split_pair("bipe_rope (fixed:size=120):rope") == ("bipe_rope (fixed:size=120)", "rope")
    assert split_pair("rope:bipe_rope (fixed:size=120)") == ("rope", "bipe_rope (fixed:size=120)")
    argv = ["seeds", "table", str(report), "--pair", "bipe_rope (fixed:size=120):rope"]
    assert main(argv) == 0
    assert "| c | bipe_rope (fixed:size=120) / rope | 2.000 ± " in capsys.readouterr().out
    for bad in ("rope", ":rope", "rope:", "(a:b)"):
        with pytest.raises(ExperimentError, match="A:B"):
            split_pair(bad)


def test_bad_input_is_a_typed_error(report, tmp_path, capsys):
    assert main(["seeds", "table", str(tmp_path / "missing")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["seeds", "table", str(report), "--pair", "rope"]) == 2
    assert "A:B" in capsys.readouterr().err
    assert main(["seeds", "diff", str(report), "bipe_rope", str(report), "rope"]) == 2
    assert "names several cells" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    with open(bad / "results.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["corpus", "scheme", "segmenter", "length", "ppl", "seed"])
        w.writerow(["c", "rope", "", "64", "not-a-number", "0"])
    with pytest.raises(ExperimentError, match="malformed row"):
        report_cells([bad])
    (bad / "results.csv").write_text("corpus,scheme,segmenter,length,ppl,seed\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match="no results"):
        report_cells([bad])
    dup = tmp_path / "dup"
    dup.mkdir()
    write_results(dup, _evals("rope", None, [1.0]) + _evals("rope", None, [2.0]))
    with pytest.raises(ExperimentError, match="twice for seed 0"):
        report_cells([dup])
    with pytest.raises(ExperimentError, match="twice for seed 0"):
        report_cells([report, report])  # the same report twice is not three more seeds
