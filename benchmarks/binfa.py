"""Bi-NFA flattening beside pynini's replace (OpenFst, C++), and sampler throughput, in one run.

Targets (issue 5): flattening under 50 ms for a ~10,000-state result; the hierarchical sampler at
least 200k tokens/s on one core.

    python benchmarks/binfa.py            # full run
    python benchmarks/binfa.py --quick    # a short run
"""

from __future__ import annotations

import time

from _common import best_time, quick_parser  # first: benchmarks/automata.py shadows `automata`


def bench_flatten(repeats: int) -> None:
    """Flatten a 100-type Bi-NFA to 9,901 states: ours (arrays, full NFA) beside pynini.replace."""
    from automata import random_binfa

    b = random_binfa(n_types=100, n_states=99, alphabet_size=4, seed=0, top_states=1)
    flat = b.flatten()
    t_arrays = best_time(b.flatten_arrays, repeats)
    t_full = best_time(b.flatten, repeats)
    line = (
        f"flatten: {flat.num_states} states, {flat.num_transitions} transitions | "
        f"ours arrays {t_arrays * 1e3:.1f} ms, ours NFA {t_full * 1e3:.1f} ms (target < 50 ms)"
    )
    try:
        import pynini

        from automata.pynini_bridge import to_pynini
    except ImportError:
        print(line + " | pynini not installed")
        return
    labels = {a: i + 1 for i, a in enumerate(b.symbols)}
    nts = {g: 10_000 + t for t, g in enumerate(b.types)}
    one = pynini.Weight.one("tropical")
    pairs = [(9_999, to_pynini(b.top, labels=nts))]
    for g in b.types:
        sep = pynini.Fst()
        s0, s1 = sep.add_state(), sep.add_state()
        sep.set_start(s0)
        sep.set_final(s1, one)
        sep.add_arc(s0, pynini.Arc(labels["#"], labels["#"], one, s1))
        pairs.append((nts[g], pynini.concat(to_pynini(b.bottoms[g], labels=labels), sep)))
    result = pynini.replace(pairs, epsilon_on_replace=True)
    t_pynini = best_time(lambda: pynini.replace(pairs, epsilon_on_replace=True), repeats)
    print(
        line + f" | pynini.replace {t_pynini * 1e3:.1f} ms ({result.num_states()} states) | "
        f"ratio ours NFA / pynini {t_full / t_pynini:.2f}, ours arrays / pynini "
        f"{t_arrays / t_pynini:.2f}"
    )


def bench_samplers(seconds: float) -> None:
    """Tokens per CPU second (time.process_time: one core, robust to other load) of both samplers."""
    from automata import make_family
    from automata.samplers import HierarchicalSampler, UniformSampler

    print(f"{'family':>14} {'hier tok/s':>11} {'x target':>8} {'uniform tok/s':>14} {'ratio':>6}")
    for name in ("random", "random-marked", "mod-marked", "mod-unmarked", "dyck", "arithmetic"):
        b = make_family(name, 3, 4, 0)
        sampler = HierarchicalSampler(b, n_segments=(1, 8), min_len=1, max_len=12, seed=0)
        sampler.sample()
        t0, n = time.process_time(), 0
        while time.process_time() - t0 < seconds:
            n += len(sampler.sample().tokens)
        hier = n / (time.process_time() - t0)
        uni = UniformSampler(b, max_len=40, seed=0)
        length = max(L for L in range(41) if uni.count(L))
        t0, n = time.process_time(), 0
        while time.process_time() - t0 < seconds:
            n += len(uni.sample(length))
        unif = n / (time.process_time() - t0)
        print(
            f"{name:>14} {hier:>11,.0f} {hier / 200_000:>8.2f} {unif:>14,.0f} {hier / unif:>6.1f}"
        )


def main() -> None:
    """Run both benchmarks (shorter with --quick)."""
    args = quick_parser(__doc__, "a short run").parse_args()
    bench_flatten(3 if args.quick else 15)
    bench_samplers(0.3 if args.quick else 2.0)


if __name__ == "__main__":
    main()
