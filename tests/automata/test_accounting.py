"""Parameter accounting: table sizes flat vs bilevel, our model-size bounds, growth fits, size sweeps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from automata import AutomataInputError
from automata.accounting import (
    best_fit,
    dfa_table_bits,
    dfa_table_params,
    fit_growth,
    model_bounds,
    nfa_table_params,
    table_params,
)
from automata.binfa import worked_example
from automata.sweep import growth_fits, size_table


def test_table_formulas():
    assert nfa_table_params(3, 2) == 3 * 3 * 3
    assert nfa_table_params(3, 2, epsilon=False) == 18
    assert dfa_table_params(5, 4) == 20
    assert dfa_table_bits(5, 4) == 20 * 3  # 6 values need 3 bits
    assert dfa_table_bits(1, 4) == 4


def test_worked_example_accounting():
    r = worked_example().size_report()
    assert table_params(r) == {
        "flat_nfa_params": 7 * 5 * 7,
        "bilevel_nfa_params": 2 * 3 * 2 + 2 * 4 * 2 + 3 * 4 * 3,
        "flat_dfa_params": 5 * 4,
    }
    bounds = model_bounds(r)
    assert bounds["dim_flat"] == 7 + 3 + 1
    assert bounds["dim_bilevel"] == 2 + 3 + 2 + 3 + 1
    assert bounds["params_flat"] == 49 * 4
    assert bounds["params_bilevel"] == 4 * 2 + (4 + 9) * 3
    assert bounds["log_dim_flat"] == 3 and bounds["log_dim_bilevel"] == 1 + 2 + 1
    assert bounds["state_bits_lower"] == 3  # ceil(log2 5)


@pytest.mark.parametrize(
    "fn, expect",
    [
        (lambda x: 3 + 2 * x, "linear"),
        (lambda x: 1.5 * x**2.5, "power"),
        (lambda x: 0.7 * np.exp(0.9 * x), "exponential"),
    ],
)
def test_fit_growth_recovers_the_generating_model(fn, expect):
    x = np.arange(1, 9, dtype=float)
    y = fn(x) * (1 + 0.01 * np.sin(7 * x))  # a little deterministic noise
    fits = fit_growth(x, y)
    assert fits[0].model == expect
    assert [f.aic for f in fits] == sorted(f.aic for f in fits)
    assert best_fit(x, y).formula


def test_fit_growth_bad_input():
    with pytest.raises(AutomataInputError):
        fit_growth([1, 2], [1, 2])
    with pytest.raises(AutomataInputError):
        fit_growth([0, 1, 2], [1, 2, 3])


def test_size_table_default_sweep_and_fits():
    rows = size_table()
    assert {r["family"] for r in rows} == {"mod-marked", "mod-unmarked", "random"}
    assert len(rows) == 3 * 5 * 2
    for r in rows:
        assert r["flat_nfa_params"] == nfa_table_params(r["flat_states"], r["alphabet_size"] + 1)
        assert r["min_dfa_states"] is None or r["min_dfa_states"] >= 1
    fits = growth_fits(rows)
    by = {(f["family"], f["count"], f["n_states"]): f for f in fits}
    assert by[("mod-unmarked", "min_dfa_states", 2)]["best"] == "exponential"
    assert by[("random", "flat_states", 2)]["best"] == "linear"
    with pytest.raises(AutomataInputError):
        growth_fits(rows, by="seed")
    # against the total bottom size: marked counters grow linearly, unmarked ones far faster
    along = {
        f["family"]: f
        for f in growth_fits(rows, keys=["min_dfa_states"], by="bottom_states_total")
        if f["n_states"] == 2
    }
    marked, unmarked = along["mod-marked"], along["mod-unmarked"]
    assert marked["best"] in ("linear", "power") and unmarked["best"] in ("power", "exponential")
    if marked["best"] == "power":
        assert float(marked["formula"].split("^")[1]) == pytest.approx(1.0, abs=0.1)
    with pytest.raises(AutomataInputError, match="unknown families"):
        size_table(families=["nope"])


def test_size_table_over_budget_is_none_not_error():
    rows = size_table(["mod-unmarked"], types=[1, 2, 5], states=[2], max_dfa_states=100)
    assert rows[-1]["min_dfa_states"] is None and "budget" in rows[-1]["min_dfa_reason"]
    assert rows[-1]["state_bits_lower"] is None
    assert math.isinf(rows[-1]["max_segment_length"])
