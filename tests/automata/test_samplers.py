"""Samplers: annotated hierarchical samples, exact legal-next sets, the uniform sampler, negatives."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from scipy.special import chdtrc

from automata import AutomataError, AutomataInputError, make_family, random_binfa
from automata.dfa import minimize
from automata.generators import modular_counters
from automata.matrices import count_words
from automata.negatives import one_edit_negatives, wrong_type_negatives
from automata.samplers import HierarchicalSampler, UniformSampler


def legal_by_minimal_dfa(b, tokens):
    """Legal next tokens after each prefix, read off the trimmed minimal DFA (H5's dfa module)."""
    dfa = minimize(b.flatten())
    succ = dfa.succ_table()
    q = dfa.start_index
    out = []
    for a in tokens:
        (q,) = succ[q][a]
        out.append(frozenset(succ[q]))
    return out


@st.composite
def sampler_cases(draw: st.DrawFn):
    family = draw(
        st.sampled_from(["random", "random-marked", "mod-unmarked", "dyck", "arithmetic"])
    )
    if family == "random":
        b = random_binfa(
            draw(st.integers(1, 3)),
            draw(st.integers(1, 4)),
            2,
            seed=draw(st.integers(0, 999)),
            top_states=draw(st.integers(1, 3)),
            epsilon_prob=draw(st.sampled_from([0.0, 0.2])),
        )
    else:
        b = make_family(
            family, draw(st.integers(1, 3)), draw(st.integers(2, 5)), draw(st.integers(0, 99))
        )
    lo = draw(st.integers(0, 3))
    hi = lo + draw(st.integers(0, 3))
    return b, (lo, hi), draw(st.integers(0, 2**31 - 1))


@settings(max_examples=40)
@given(sampler_cases())
def test_samples_are_accepted_and_annotations_exact(case):
    b, seg_range, seed = case
    try:
        sampler = HierarchicalSampler(b, n_segments=seg_range, min_len=0, max_len=6, seed=seed)
    except AutomataError:
        reject()  # no word with that many segments; hypothesis fails if this is most cases
    for _ in range(3):
        s = sampler.sample()
        assert b.accepts(s.tokens)
        n_seps = int((s.ids == sampler.sep).sum())
        assert seg_range[0] <= n_seps <= seg_range[1]
        # segment index = separators strictly before; intra resets after each separator
        before = np.concatenate([[0], np.cumsum(s.ids == sampler.sep)[:-1]])
        assert (s.segment == before).all()
        for i in range(1, len(s.ids)):
            expect = 0 if s.ids[i - 1] == sampler.sep else s.intra[i - 1] + 1
            assert s.intra[i] == expect
        assert [s.type_id[s.segment == k][0] for k in range(n_seps)] == s.segment_types
        # each segment is accepted by the bottom automaton of its annotated type
        for k, t in enumerate(s.segment_types):
            seg = [tok for tok, g in zip(s.tokens, s.segment) if g == k][:-1]
            assert b.bottoms[b.types[t]].accepts(seg)
        legal = legal_by_minimal_dfa(b, s.tokens)
        for i, row in enumerate(s.legal_next):
            assert frozenset(b.symbols[a] for a in np.flatnonzero(row)) == legal[i]
            assert s.accepting[i] == b.accepts(s.tokens[: i + 1])
        assert s.accepting[-1] if len(s.tokens) else True


def test_sampler_controls_segments_and_lengths():
    b = make_family("random-marked", 3, 4, 0)
    sampler = HierarchicalSampler(b, n_segments=5, min_len=2, max_len=4, seed=1)
    for _ in range(20):
        s = sampler.sample()
        assert s.segment.max() == 4 and len(s.segment_types) == 5
        lengths = np.bincount(s.segment) - 1  # separators excluded
        assert ((lengths >= 2) & (lengths <= 4)).all()
    a = [HierarchicalSampler(b, seed=3).sample().tokens for _ in range(2)]
    assert a[0] == a[1]  # seeded


def test_sampler_geometric_lengths_skew_short():
    b = modular_counters(1, marked=False, moduli=[1])  # every length is a segment
    uni = HierarchicalSampler(b, n_segments=200, min_len=1, max_len=10, seed=0)
    geo = HierarchicalSampler(
        b, n_segments=200, min_len=1, max_len=10, length_dist="geometric", seed=0
    )
    mean = [np.mean(np.bincount(s.sample().segment) - 1) for s in (uni, geo)]
    assert mean[0] == pytest.approx(5.5, abs=0.6) and mean[1] < 4.0


def test_sampler_bad_inputs():
    b = make_family("arithmetic", 2, 10, 0)
    with pytest.raises(AutomataError, match="no accepted word"):
        HierarchicalSampler(b, n_segments=2, min_len=1, max_len=4)  # steps have 5 tokens
    with pytest.raises(AutomataInputError):
        HierarchicalSampler(b, length_dist="zipf")
    with pytest.raises(AutomataInputError):
        HierarchicalSampler(b, n_segments=(3, 1))


@pytest.mark.parametrize("seed, length", [(1, 5), (4, 6)])
def test_uniform_sampler_is_uniform(seed, length):
    b = random_binfa(2, 2, 2, seed=seed, top_states=2)
    accepted = [w for w in itertools.product(b.symbols, repeat=length) if b.accepts(w)]
    sampler = UniformSampler(b, max_len=length, seed=seed)
    assert sampler.count(length) == len(accepted) == count_words(b.flatten(), length)[length]
    assert len(accepted) >= 3
    n = 40 * len(accepted)
    counts = dict.fromkeys(accepted, 0)
    for _ in range(n):
        counts[tuple(sampler.sample(length))] += 1
    # Pearson's chi-squared against the uniform expectation (scipy.stats would cost a second of
    # imports for one call): p = P(chi2 with k-1 degrees of freedom >= statistic).
    observed = np.array(list(counts.values()), dtype=float)
    expected = n / len(accepted)
    statistic = float(((observed - expected) ** 2 / expected).sum())
    assert chdtrc(len(accepted) - 1, statistic) > 1e-3


def test_uniform_sampler_errors():
    b = make_family("arithmetic", 1, 10, 0)
    u = UniformSampler(b, max_len=8)
    assert u.count(6) == 4  # x+y=z#: one step over base 2
    with pytest.raises(AutomataError, match="no accepted word has length 5"):
        u.sample(5)
    with pytest.raises(AutomataInputError):
        u.count(9)


def test_negatives_are_rejected_and_close():
    b = make_family("random", 3, 3, 2)
    sampler = HierarchicalSampler(b, n_segments=(2, 4), seed=0)
    s = sampler.sample()
    negs = one_edit_negatives(sampler, s.tokens, 10, seed=1)
    assert negs and len({tuple(n["tokens"]) for n in negs}) == len(negs)
    for n in negs:
        assert not b.accepts(n["tokens"]) and n["label"] == 0
        assert abs(len(n["tokens"]) - len(s.tokens)) <= 1
    with pytest.raises(AutomataInputError):
        one_edit_negatives(sampler, ["zz"], 1)
    d = make_family("dyck", 3, 4, 0)
    dsampler = HierarchicalSampler(d, n_segments=4, seed=2)
    ds = dsampler.sample()
    wrong = wrong_type_negatives(dsampler, ds, 5, seed=0)
    assert wrong
    for n in wrong:
        k = n["segment"]
        seps = [i for i, t in enumerate(n["tokens"]) if t == "#"]
        start = seps[k - 1] + 1 if k else 0
        piece = n["tokens"][start : seps[k]]
        assert not d.bottoms[n["true_type"]].accepts(piece)
        assert d.bottoms[n["used_type"]].accepts(piece)
        assert n["in_language"] == d.accepts(n["tokens"])
