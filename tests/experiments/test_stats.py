"""Statistics over seeds: t intervals, Welch differences, per-cell aggregation, seeded grids."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from experiments.analysis.report import gap_table, ppl_table
from experiments.analysis.stats import aggregate_evals, diff_interval, t_interval
from experiments.errors import ExperimentError
from experiments.lm.config import apply_overrides, preset, run_seed, run_specs


def test_t_interval_known_value():
    ci = t_interval([1.0, 2.0, 3.0])
    assert ci.mean == 2.0 and ci.n == 3
    assert ci.half == pytest.approx(sps.t.ppf(0.975, 2) * 1.0 / math.sqrt(3))
    assert ci.half == pytest.approx(2.4841, abs=1e-4)
    assert ci.format() == "2.00 ± 2.48"


def test_one_value_is_a_probe_without_interval():
    ci = t_interval([5.0])
    assert math.isnan(ci.half) and ci.format() == "5.00" and not ci.excludes(0)
    with pytest.raises(ValueError):
        t_interval([])


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=8))
def test_interval_holds_the_mean_and_agrees_with_scipy(xs):
    ci = t_interval(xs)
    assert ci.low <= ci.mean <= ci.high
    if ci.half > 1e-9:
        lo, hi = sps.t.interval(0.95, len(xs) - 1, loc=ci.mean, scale=sps.sem(xs))
        assert ci.low == pytest.approx(lo, rel=1e-6, abs=1e-6)
        assert ci.high == pytest.approx(hi, rel=1e-6, abs=1e-6)


def test_welch_difference_matches_scipy_and_marks_noise():
    a, b = [10.0, 10.5, 9.8], [12.0, 12.4, 11.9]
    d = diff_interval(a, b)
    res = sps.ttest_ind(a, b, equal_var=False)
    lo, hi = res.confidence_interval(0.95)
    assert (d.low, d.high) == pytest.approx((lo, hi))
    assert d.excludes(0)
    assert not diff_interval([1.0, 3.0, 2.0], [2.0, 1.5, 2.5]).excludes(0)


def _ev(scheme, seed, ppls, segmenter=None):
    return {
        "corpus": "c",
        "scheme": scheme,
        "segmenter": segmenter,
        "seed": seed,
        "train_len": 8,
        "step": 10,
        "results": [{"length": 8 * k, "multiplier": k, "ppl": p} for k, p in zip((1, 2), ppls)],
    }


def test_aggregate_tables_and_gap_marks():
    evals = [
        _ev("rope", 0, [10.0, 12.0]),
        _ev("rope", 1, [10.2, 12.5]),
        _ev("rope", 2, [9.9, 12.2]),
        _ev("bipe_rope", 0, [13.0, 12.1], "punct"),
        _ev("bipe_rope", 1, [13.3, 12.6], "punct"),
        _ev("bipe_rope", 2, [12.9, 11.9], "punct"),
    ]
    rows = aggregate_evals(evals)
    assert [(r["scheme"], r["seeds"]) for r in rows] == [
        ("rope", [0, 1, 2]),
        ("bipe_rope", [0, 1, 2]),
    ]
    assert rows[0]["results"][0]["ppl"] == pytest.approx(10.0333, abs=1e-4)
    table = ppl_table(evals)
    assert "±" in table and "t-based 95% interval" in table and "| 3 |" in table
    gaps = gap_table(evals)
    line = next(x for x in gaps.splitlines() if "bipe_rope" in x)
    cells = [c.strip() for c in line.split("|")[4:6]]
    assert cells[0].startswith("+3.03") and cells[0].endswith("*")  # 1x: beyond noise
    assert not cells[1].endswith("*")  # 2x: within noise


def test_seeds_expand_the_grid_first_seeds_first():
    cfg = apply_overrides(preset("tiny"), ["train.seeds=3", "schemes=rope,bipe_rope"])
    specs = run_specs(cfg)
    names = [s.name for s in specs]
    assert names[:2] == ["sample-rope", "sample-bipe_rope-punct"]  # the single-seed layout
    assert names[2:] == [
        "sample-rope-s1",
        "sample-bipe_rope-punct-s1",
        "sample-rope-s2",
        "sample-bipe_rope-punct-s2",
    ]
    assert [run_seed(cfg, s) for s in specs] == [0, 0, 1, 1, 2, 2]
    assert len(preset("cpu-small").seeds) == 3  # the seeds of a preset are a list now
    with pytest.raises(ExperimentError, match=r"train\.seeds"):
        apply_overrides(preset("tiny"), ["train.seeds=0"])


def test_budget_gaps_table_and_plot(tmp_path):
    from experiments.lm.budget import budget_configs, format_gaps, gap_rows, plot_gaps

    cfg = apply_overrides(preset("tiny"), ["train.seeds=3"])
    small, big = budget_configs(cfg, [900, 300])
    assert (small.train.steps, big.train.steps) == (300, 900)
    base = [_ev("rope", s, [10.0 + 0.1 * s, 12.0]) for s in range(3)]
    bipe = [_ev("bipe_rope", s, [13.0 + 0.1 * s, 12.0 + 0.05 * s], "punct") for s in range(3)]
    rows = gap_rows([(small, base + bipe), (big, base + bipe)])
    one = [r for r in rows if r["multiplier"] == 1]
    assert [r["train_tokens"] for r in one] == [300 * 8 * 64, 900 * 8 * 64]
    assert one[0]["gap"] == pytest.approx(math.log(13.1) - math.log(10.1), abs=1e-3)
    assert one[0]["beyond_noise"] and one[0]["seeds"] == 3
    assert "| 300 |" in format_gaps(rows)
    assert [p.name for p in plot_gaps(tmp_path, rows)] == ["gap_vs_budget_c.png"]
    with pytest.raises(ExperimentError, match="budgets"):
        budget_configs(cfg, [0])
