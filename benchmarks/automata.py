"""Determinise + minimise random NFAs of 50-200 states, ours beside pynini (OpenFst, C++) in one run.

Target: ours within 3x of pynini. (automata-lib, pure Python, is reported by issue 5 to be about 3x
slower than pynini on these; it is not installed here because it also provides a package named
`automata`.) Also times Bi-NFA flattening to a ~10,000-state NFA (target < 50 ms).

    python benchmarks/automata.py            # full run
    python benchmarks/automata.py --quick    # a short run
"""

from __future__ import annotations

import math
import statistics

from _common import best_time, quick_parser  # first: stops this script shadowing `automata`

from automata.dfa import minimize, subset_construction
from automata.random_nfa import random_nfa


def bench_minimize(
    sizes: list[int], densities: list[float], seeds: int, repeats: int
) -> list[float]:
    """Print one row per instance and return the ours/pynini time ratios."""
    import pynini

    from automata.pynini_bridge import to_pynini

    print(
        f"{'n':>4} {'dens':>5} {'seed':>4} {'DFA':>7} {'minDFA':>7} "
        f"{'ours ms':>9} {'pynini ms':>10} {'ratio':>6} {'conv ms':>8}"
    )
    ratios = []
    for n in sizes:
        for density in densities:
            for seed in range(seeds):
                nfa = random_nfa(n, 2, density=density, final_prob=0.3, seed=seed)
                n_dfa = len(subset_construction(nfa, 200_000)[1])
                ours_min = minimize(nfa).num_states
                t_conv = best_time(lambda nfa=nfa: to_pynini(nfa), 1)
                fst = to_pynini(nfa)
                theirs = pynini.minimize(pynini.determinize(fst))
                # pynini's result has no sink; ours (partial) neither, except one state for the empty language
                assert max(theirs.num_states(), 1) == ours_min, (n, density, seed)
                t_ours = best_time(lambda nfa=nfa: minimize(nfa), repeats)
                t_pyn = best_time(lambda fst=fst: pynini.minimize(pynini.determinize(fst)), repeats)
                ratio = t_ours / t_pyn
                ratios.append(ratio)
                print(
                    f"{n:>4} {density:>5} {seed:>4} {n_dfa:>7} {ours_min:>7} {t_ours * 1e3:>9.2f} "
                    f"{t_pyn * 1e3:>10.2f} {ratio:>6.2f} {t_conv * 1e3:>8.2f}",
                    flush=True,
                )
    return ratios


def flatten_instance():
    """A Bi-NFA whose flattening has 10,010 states: 10 top states x 10 types, 100-state bottoms."""
    from automata import NFA
    from automata.binfa import BiNFA

    m, types, sigma = 10, [f"T{t}" for t in range(10)], ["a", "b", "c", "d"]
    # Each (target, type) pair occurs once, so every one of the 100 bottom copies is needed.
    top = NFA(range(m), types, [((q - 1) % m, g, q) for g in types for q in range(m)], 0, [0])
    bottoms = {g: random_nfa(100, sigma, density=1.5, seed=k) for k, g in enumerate(types)}
    return BiNFA(top, bottoms, separator="#", alphabet=sigma)


def bench_flatten(repeats: int) -> None:
    """Time Bi-NFA flattening to a 10,010-state NFA (target < 50 ms), and the later table build."""
    try:
        binfa = flatten_instance()
    except ImportError:
        print("flatten: automata.binfa.BiNFA not available (hook left here)")
        return
    flat = binfa.flatten()
    assert flat.num_states == binfa.flat_size()[0]
    t_arrays = best_time(binfa.flatten_arrays, repeats)
    t_full = best_time(binfa.flatten, repeats)
    # BiNFA.flatten() defers the NFA's dict table to its first use: time that separately.
    t_table = best_time(lambda: binfa.flatten().succ_table(), repeats) - t_full
    print(
        f"flatten: {flat.num_states} states, {flat.num_transitions} transitions; best of {repeats}: "
        f"BiNFA.flatten() {t_full * 1e3:.1f} ms (flatten_arrays {t_arrays * 1e3:.1f} ms; "
        f"target < 50 ms); building the dict table on first use {t_table * 1e3:.1f} ms"
    )


def main() -> None:
    """Parse options and run both benchmarks."""
    args = quick_parser(__doc__, "fewer sizes, seeds and repeats").parse_args()
    if args.quick:
        sizes, densities, seeds, repeats = [50, 200], [2.0, 3.0], 1, 2
    else:
        sizes, densities, seeds, repeats = [50, 100, 150, 200], [2.0, 3.0], 3, 5
    try:
        import pynini  # noqa: F401
    except ImportError:
        print("pynini is not installed: pip install pynini (the baseline); skipping the comparison")
    else:
        ratios = bench_minimize(sizes, densities, seeds, repeats)
        gmean = math.exp(statistics.fmean(math.log(r) for r in ratios))
        print(
            f"ours/pynini time ratio: geometric mean {gmean:.2f}, max {max(ratios):.2f}, "
            f"min {min(ratios):.2f} over {len(ratios)} instances (target: within 3x)"
        )
        print(
            "reference point (issue 5): automata-lib, pure Python, is about 3x slower than pynini"
        )
        if not args.quick:
            print("hard regime (density 1.25-1.5, near the exponential blow-up):")
            hard = bench_minimize([50], [1.25, 1.5], seeds, 3)
            print(
                f"hard regime ratio: geometric mean "
                f"{math.exp(statistics.fmean(math.log(r) for r in hard)):.2f}, max {max(hard):.2f}"
            )
    bench_flatten(3 if args.quick else 10)


if __name__ == "__main__":
    main()
