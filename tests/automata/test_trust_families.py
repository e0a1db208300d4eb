"""Issue 20 for `automata`: every family (each of list_families()), sampler and size report keeps
stated limits and refuses a larger knob up front with the limit in the message, instead of
building for minutes (mod-marked with 1000 types never finished); wrong types are typed errors;
`bipe automata` options and outputs keep the same limits and never leave half a data set."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automata import (
    AutomataError,
    AutomataInputError,
    AutomatonTooLargeError,
    list_families,
    make_family,
    random_binfa,
    size_table,
)
from automata.limits import MAX_FLAT_STATES, MAX_SEED, MAX_STATES, MAX_TYPES
from automata.samplers import HierarchicalSampler, UniformSampler
from experiments.cli import main

FAMILIES = list_families()


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(
    ("types", "states", "seed", "limit"),
    [(1000, 2, 0, MAX_TYPES), (2, 100_000, 0, MAX_STATES), (2, 4, 2**40, MAX_SEED)],
)
def test_every_family_refuses_huge_knobs_at_once(family, types, states, seed, limit):
    t0 = time.perf_counter()
    with pytest.raises(AutomatonTooLargeError, match=f"limit of {limit}"):
        make_family(family, types, states, seed)
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("types", "states", "seed"), [(0, 3, 0), (2, -1, 0), (2, 3, -5)])
def test_every_family_refuses_zero_and_negative_knobs(family, types, states, seed):
    with pytest.raises(AutomataInputError, match="must be an integer >= "):
        make_family(family, types, states, seed)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("bad", ["2", 2.5, True, None])
def test_every_family_refuses_wrong_types(family, bad):
    for args in ((bad, 3, 0), (2, bad, 0), (2, 3, bad)):
        with pytest.raises(AutomataInputError):
            make_family(family, *args)


@pytest.mark.parametrize(
    ("family", "types", "states"),
    [("mod-marked", 64, 2), ("mod-unmarked", 64, 256), ("dyck", 64, 256), ("random", 64, 256)],
)
def test_knobs_within_limits_that_flatten_too_large_are_refused(family, types, states):
    # each took 10-30 s to report and sample before (dyck 64 x 256: 16385 flattened states)
    t0 = time.perf_counter()
    with pytest.raises(AutomatonTooLargeError, match=f"limit of {MAX_FLAT_STATES}"):
        make_family(family, types, states, 0)
    assert time.perf_counter() - t0 < 3.0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from(FAMILIES),
    types=st.integers(1, 12),
    states=st.integers(1, 40),
    seed=st.integers(0, MAX_SEED),
)
def test_what_a_family_builds_is_within_the_flat_limit_or_a_typed_error(
    family, types, states, seed
):
    try:
        binfa = make_family(family, types, states, seed)
    except AutomataError:
        return
    assert binfa.flat_size()[0] <= MAX_FLAT_STATES


@pytest.mark.parametrize(
    "kwargs",
    [
        {"alphabet_size": 10**9},
        {"top_states": 10**9},
        {"density": 1e12},
        {"density": float("nan")},
        {"final_prob": 2.0},
        {"epsilon_prob": -1},
    ],
)
def test_random_binfa_bounds_its_other_knobs(kwargs):
    t0 = time.perf_counter()
    with pytest.raises(AutomataError):
        random_binfa(2, 3, **{"alphabet_size": 2, "seed": 0, **kwargs})
    assert time.perf_counter() - t0 < 1.0


def test_size_reports_and_tables_refuse_over_budget_work_before_it_starts():
    b = make_family("mod-unmarked", 3, 2, 0)
    with pytest.raises(AutomatonTooLargeError, match="max_dfa_states"):
        b.size_report(max_dfa_states=10**12)
    t0 = time.perf_counter()
    with pytest.raises(AutomatonTooLargeError, match="limit of 200"):
        size_table(["mod-marked"], list(range(1, 65)), list(range(1, 11)))
    with pytest.raises(AutomatonTooLargeError):  # the last row is too large: refused first
        size_table(["mod-marked"], [1, 2, 64], [2])
    assert time.perf_counter() - t0 < 3.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_segments": (1, 10**7)},
        {"max_len": 10**7},
        {"n_segments": (1, 2000), "max_len": 200},  # 402,000 tokens a word
        {"n_segments": 2.5},
        {"max_dfa_states": 10**12},
    ],
)
def test_samplers_refuse_huge_words_and_tables(kwargs):
    b = make_family("mod-marked", 2, 2, 0)
    t0 = time.perf_counter()
    with pytest.raises(AutomataError):
        HierarchicalSampler(b, **kwargs)
    assert time.perf_counter() - t0 < 1.0


def test_uniform_sampler_refuses_huge_lengths():
    with pytest.raises(AutomataError):
        UniformSampler(make_family("mod-marked", 2, 2, 0), max_len=10**9)


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["report", "--types", "1000"], "--types"),
        (["report", "--states", "100000"], "--states"),
        (["report", "--seed", "99999999999"], "--seed"),
        (["report", "--budget", "1000000000"], "--budget"),
        (["report", "--family", "mod-marked", "--types", "64", "--states", "2"], "limit of 5000"),
        (["sample", "--n-words", "10000000000", "--out", "{tmp}/s.jsonl"], "--n-words"),
        (["sample", "--n-words", "2", "--max-len", "100000", "--out", "{tmp}/s.jsonl"], "--max"),
        (["sample", "--n-words", "2", "--negatives", "100000", "--out", "{tmp}/s.jsonl"], "--neg"),
        (["sample", "--n-words", "1000000", "--out", "{tmp}/s.jsonl"], "limit of 10,000,000"),
        (["compare", "--types", "1-64", "--states", "1-200", "--out", "{tmp}/c"], "limit of 200"),
        (["compare", "--seeds", "99999999999", "--out", "{tmp}/c"], "--seeds"),
        (["compare", "--budget", "1000000000", "--out", "{tmp}/c"], "--budget"),
    ],
)
def test_automata_options_are_bounded(tmp_path, capsys, argv, named):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    t0 = time.perf_counter()
    assert main(["automata", *argv]) == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err
    assert time.perf_counter() - t0 < 5.0
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing claimed is left


def test_a_binfa_file_is_bounded_like_a_family(tmp_path, capsys):
    from automata.generators import dyck

    path = tmp_path / "big.json"
    path.write_text(dyck(30, 256).to_json(), encoding="utf-8")  # 7681 flattened states
    assert main(["automata", "report", "--binfa", str(path)]) == 2
    assert f"limit of {MAX_FLAT_STATES}" in capsys.readouterr().err


def test_sample_keeps_a_users_file_and_leaves_no_partial_one(tmp_path, capsys):
    mine = tmp_path / "mine.jsonl"
    mine.write_text("precious\n", encoding="utf-8")
    argv = ["automata", "sample", "--n-words", "3", "--out", str(mine)]
    assert main(argv) == 2 and "--overwrite" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "precious\n"
    # segments no type reaches: the command fails, and no file is left for a rerun to trip on
    out = tmp_path / "new.jsonl"
    argv = ["automata", "sample", "--n-words", "3", "--family", "dyck", "--types", "1"]
    argv += ["--states", "3", "--min-len", "3", "--max-len", "3", "--out", str(out)]
    assert main(argv) == 2
    assert not out.exists()
    assert main([*argv[:-2], "--max-len", "4", "--out", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
