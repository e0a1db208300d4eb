"""Parameter accounting: transition-table sizes flat vs bilevel, OUR model-size bounds, growth fits.

Every function states its assumptions; docs/theory.md section 5 gives the reasoning. The model-size
bounds are *our* statements (simple state-tracking constructions and a Myhill-Nerode information
bound), not the BiPE paper's theorem, whose exact statement could not be read.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from automata.exceptions import AutomataInputError

if TYPE_CHECKING:
    from automata.sizes import SizeReport


def nfa_table_params(n_states: int, n_symbols: int, epsilon: bool = True) -> int:
    """Booleans of an NFA transition table: one per (state, symbol or epsilon, state) triple.

    Assumes a dense table over all state pairs; `epsilon` adds one symbol column for epsilon moves.
    """
    return n_states * (n_symbols + (1 if epsilon else 0)) * n_states


def dfa_table_params(n_states: int, n_symbols: int) -> int:
    """Entries of a DFA transition table (one target per state and symbol).

    Assumes a partial DFA stored densely (a missing move is one reserved value), no sink unless
    it is counted in `n_states`.
    """
    return n_states * n_symbols


def dfa_table_bits(n_states: int, n_symbols: int) -> int:
    """Bits of a DFA table: each entry names one of n_states + 1 values (the +1 is 'no move')."""
    return dfa_table_params(n_states, n_symbols) * max(1, math.ceil(math.log2(n_states + 1)))


def table_params(report: SizeReport) -> dict[str, int | None]:
    """Transition-table parameters flat vs bilevel for a Bi-NFA's size report.

    flat_nfa: the flattened NFA over Sigma + {#} with epsilon; bilevel_nfa: the top table over Gamma
    plus one table per type over Sigma (each with epsilon), one table per type however many top
    transitions share it; flat_dfa: the minimal partial DFA over Sigma + {#} (None over budget).
    """
    s, g = report.alphabet_size, report.n_types
    bilevel = nfa_table_params(report.top_states, g) + sum(
        nfa_table_params(n, s) for n in report.bottom_states.values()
    )
    flat_dfa = (
        None if report.min_dfa_states is None else dfa_table_params(report.min_dfa_states, s + 1)
    )
    return {
        "flat_nfa_params": nfa_table_params(report.flat_states, s + 1),
        "bilevel_nfa_params": bilevel,
        "flat_dfa_params": flat_dfa,
    }


def _log2(n: int) -> int:
    return max(1, math.ceil(math.log2(n))) if n > 1 else 1


def model_bounds(report: SizeReport) -> dict[str, int | None]:
    """OUR model-size bounds (docs/theory.md section 5), flat against bilevel.

    Assumptions: a model tracking the automaton's state set in its hidden vector (one coordinate per
    state, plus one per token symbol); bilevel models keep one top block, one bottom block shared by
    all types (one segment is open at a time) and a type block. `state_bits_lower` holds for any
    model with a fixed-size per-position state: it must tell the Myhill-Nerode classes apart.
    """
    s, g, m = report.alphabet_size, report.n_types, report.top_states
    nmax = report.bottom_states_max
    return {
        "dim_flat": report.flat_states + s + 1,
        "dim_bilevel": m + nmax + g + s + 1,
        "params_flat": report.flat_states**2 * (s + 1),
        "params_bilevel": m**2 * g + sum(n**2 * s for n in report.bottom_states.values()),
        "log_dim_flat": _log2(report.flat_states),
        "log_dim_bilevel": _log2(m) + _log2(nmax) + _log2(g),
        "state_bits_lower": None if report.min_dfa_states is None else _log2(report.min_dfa_states),
    }


# ---------------------------------------------------------------------------- growth fits
def _linear(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return a + b * x


def _power(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return a * np.power(x, b)


def _exponential(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return a * np.exp(b * x)


MODELS: dict[str, tuple[Callable[..., np.ndarray], str]] = {
    "linear": (_linear, "{a:.3g} + {b:.3g}*x"),
    "power": (_power, "{a:.3g}*x^{b:.3g}"),
    "exponential": (_exponential, "{a:.3g}*exp({b:.3g}*x)"),
}


@dataclass
class Fit:
    """One fitted growth model: y = f(x; a, b) with its residual sum of squares and AIC."""

    model: str
    a: float
    b: float
    ssr: float
    aic: float

    @property
    def formula(self) -> str:
        """The fitted formula with numbers."""
        return MODELS[self.model][1].format(a=self.a, b=self.b)


def fit_growth(x: Sequence[float], y: Sequence[float]) -> list[Fit]:
    """Fit linear, power-law and exponential growth (scipy curve_fit); sorted best (lowest AIC) first.

    Needs at least 3 points with x > 0; AIC = N ln(SSR/N) + 2k with k = 2 (SSR floored at 1e-12 N
    so exact fits compare finitely). A model that fails to converge is left out.
    """
    from scipy.optimize import curve_fit

    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.size < 3 or (xs <= 0).any():
        raise AutomataInputError("fit_growth needs >= 3 points of equal length with x > 0")
    n = xs.size
    pos = ys > 0
    slope = np.polyfit(xs[pos], np.log(ys[pos]), 1)[0] if pos.sum() >= 2 else 0.1
    logslope = np.polyfit(np.log(xs[pos]), np.log(ys[pos]), 1)[0] if pos.sum() >= 2 else 1.0
    starts = {
        "linear": (float(ys[0]), 1.0),
        "power": (float(max(ys[0], 1e-9)), float(logslope)),
        "exponential": (float(max(ys[0], 1e-9) / math.exp(slope * xs[0])), float(slope)),
    }
    fits: list[Fit] = []
    for name, (fn, _) in MODELS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                params, _ = curve_fit(fn, xs, ys, p0=starts[name], maxfev=20_000)
        except (RuntimeError, ValueError, OverflowError):
            continue
        resid = ys - fn(xs, *params)
        ssr = float(np.sum(resid**2))
        if not math.isfinite(ssr):
            continue
        aic = n * math.log(max(ssr / n, 1e-12)) + 4
        fits.append(Fit(name, float(params[0]), float(params[1]), ssr, aic))
    return sorted(fits, key=lambda f: f.aic)


def best_fit(x: Sequence[float], y: Sequence[float]) -> Fit | None:
    """The lowest-AIC growth model of `fit_growth`, or None if none converged."""
    fits = fit_growth(x, y)
    return fits[0] if fits else None
