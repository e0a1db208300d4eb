"""Size sweeps over Bi-NFA families: the size table (rows of counts) and the fitted growth of each count.

`size_table()` with its defaults is the "automata size table" of `bipe demo` (a few seconds): the
marked and unmarked modular counters (the control pair of docs/theory.md) and random Bi-NFAs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from automata.accounting import fit_growth, model_bounds, table_params
from automata.exceptions import AutomataInputError, AutomatonTooLargeError
from automata.generators import FAMILIES, list_families, make_family
from automata.limits import MAX_DFA_BUDGET, check_int

# rows of one size table: each builds, flattens and minimises an automaton (up to seconds each)
MAX_SIZE_ROWS = 200

DEFAULT_FAMILIES = ("mod-marked", "mod-unmarked", "random")

COUNT_KEYS = (
    "flat_states",
    "flat_transitions",
    "min_dfa_states",
    "flat_nfa_params",
    "bilevel_nfa_params",
    "params_flat",
    "params_bilevel",
)


def size_table(
    families: Sequence[str] = DEFAULT_FAMILIES,
    types: Sequence[int] = (1, 2, 3, 4, 5),
    states: Sequence[int] = (2, 3),
    seeds: Sequence[int] = (0,),
    max_dfa_states: int = 20_000,
) -> list[dict[str, Any]]:
    """One row per (family, n_types, n_states, seed): sizes, table parameters and OUR bounds.

    Minimal-DFA columns are None where the subset construction would pass `max_dfa_states`
    (the row's `min_dfa_reason` says so).
    """
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise AutomataInputError(f"unknown families {unknown}; choose from {list_families()}")
    check_int("max_dfa_states", max_dfa_states, 1, MAX_DFA_BUDGET)
    grid = [(f, k, n, s) for f in families for n in states for k in types for s in seeds]
    if len(grid) > MAX_SIZE_ROWS:
        raise AutomatonTooLargeError(
            f"a size table of {len(grid)} rows ({len(families)} families x {len(types)} types x "
            f"{len(states)} states x {len(seeds)} seeds) is over the limit of {MAX_SIZE_ROWS}"
        )
    # every automaton is built (cheap) and size-checked before any is reported (the slow part),
    # so a too-large one is refused before minutes of work, not after
    built = [(f, k, n, s, make_family(f, k, n, s)) for f, k, n, s in grid]
    rows: list[dict[str, Any]] = []
    for family, k, n, seed, binfa in built:
        report = binfa.size_report(max_dfa_states=max_dfa_states)
        row: dict[str, Any] = {"family": family, "n_types": k, "n_states": n, "seed": seed}
        row.update(report.as_row())
        row.update(table_params(report))
        row.update(model_bounds(report))
        rows.append(row)
    return rows


def growth_fits(
    rows: Sequence[dict[str, Any]], keys: Sequence[str] = COUNT_KEYS, by: str = "n_types"
) -> list[dict[str, Any]]:
    """For each family, fixed value of the other axis and count: the best growth model along `by`.

    `by` is "n_types" or "bottom_states_total" (at fixed n_states) or "n_states" (at fixed n_types).

    Values are averaged over seeds; points whose count is None (over budget) are dropped and
    groups left with fewer than 3 points are skipped.
    """
    axes = {"n_types": "n_states", "n_states": "n_types", "bottom_states_total": "n_states"}
    if by not in axes:
        raise AutomataInputError(f"by must be one of {sorted(axes)}, got {by!r}")
    other = axes[by]
    out: list[dict[str, Any]] = []
    groups = sorted({(r["family"], r[other]) for r in rows})
    for family, fixed in groups:
        sub = [r for r in rows if r["family"] == family and r[other] == fixed]
        for key in keys:
            xs, ys = [], []
            for x in sorted({r[by] for r in sub}):
                vals = [r[key] for r in sub if r[by] == x and r.get(key) is not None]
                if vals:  # a count over budget (None) drops its point
                    xs.append(x)
                    ys.append(float(np.mean(vals)))
            if len(xs) < 3:
                continue
            fits = fit_growth(xs, ys)
            if not fits:
                continue
            best = fits[0]
            out.append(
                {
                    "family": family,
                    "count": key,
                    "along": by,
                    other: fixed,
                    "best": best.model,
                    "formula": best.formula,
                    "points": len(xs),
                    "aic": round(best.aic, 2),
                    "runner_up": fits[1].model if len(fits) > 1 else "",
                    "aic_runner_up": round(fits[1].aic, 2) if len(fits) > 1 else None,
                }
            )
    return out
