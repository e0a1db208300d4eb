"""Positions: bilevel ids against the paper's example and a slow loop, chunked == one-shot."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bipe_core.errors import ConfigError, InputError, ShapeError
from bipe_core.positions import (
    Positions,
    SegmentState,
    bilevel_ids,
    build_positions,
    positions_from_arrays,
)

SEP = 9


def slow_bilevel(ids: list[list[int]], seps: set[int], max_intra: int | None):
    """Obvious per-token loop with the paper code's semantics."""
    intra_rows, seg_rows = [], []
    for row in ids:
        intra, seg, i, s = [], [], 0, 0
        for tok in row:
            intra.append(i if max_intra is None else min(i, max_intra - 1))
            seg.append(s)
            if tok in seps:
                s, i = s + 1, 0
            else:
                i += 1
        intra_rows.append(intra)
        seg_rows.append(seg)
    return intra_rows, seg_rows


def slow_build(ids, seps, docs, mask, max_intra, overflow, level_sets):
    """Obvious per-token loop for build_positions (documents, padding, split/clamp, levels)."""
    all_seps = set(seps).union(*[set(s) for s in level_sets]) if level_sets else set(seps)
    level_unions = [
        set().union(*[set(s) for s in level_sets[: k + 1]]) for k in range(len(level_sets))
    ]
    out = {"token": [], "intra": [], "segment": [], "levels": []}
    for b, row in enumerate(ids):
        seen, last_doc, last_sep = False, None, False
        token = intra = seg = 0
        lv = [0] * len(level_sets)
        lsep = [False] * len(level_sets)
        rows = {key: [] for key in out}
        for t, tok in enumerate(row):
            if mask is not None and not mask[b][t]:
                # padding repeats the previous real token's indices (zeros before the first)
                for key in rows:
                    rows[key].append(
                        rows[key][-1]
                        if rows[key]
                        else ([0] * (len(level_sets) + 1) if key == "levels" else 0)
                    )
                continue
            doc = docs[b][t] if docs is not None else 0
            if not seen or doc != last_doc:
                token = intra = seg = 0
                lv = [0] * len(level_sets)
            else:
                token += 1
                if last_sep:
                    seg, intra = seg + 1, 0
                else:
                    intra += 1
                    if overflow == "split" and max_intra is not None and intra == max_intra:
                        seg, intra = seg + 1, 0
                lv = [v + 1 if f else v for v, f in zip(lv, lsep)]
            seen, last_doc = True, doc
            last_sep = tok in all_seps
            lsep = [tok in u for u in level_unions]
            rows["token"].append(token)
            rows["intra"].append(intra if max_intra is None else min(intra, max_intra - 1))
            rows["segment"].append(seg)
            rows["levels"].append([*lv, seg])
        for key in out:
            out[key].append(rows[key])
    return out


def test_paper_worked_example():
    # a b S c d e S f S S g
    ids = torch.tensor([[1, 2, SEP, 3, 4, 5, SEP, 6, SEP, SEP, 7]])
    intra, segment = bilevel_ids(ids, [SEP])
    assert intra.tolist() == [[0, 1, 2, 0, 1, 2, 3, 0, 1, 0, 0]]
    assert segment.tolist() == [[0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 4]]
    assert intra.dtype == torch.long and segment.dtype == torch.long
    pos, _ = build_positions(ids, [SEP])
    assert pos.intra.tolist() == intra.tolist() and pos.segment.tolist() == segment.tolist()
    assert pos.token.tolist() == [list(range(11))]


def test_bilevel_clamp():
    ids = torch.tensor([[1, 1, 1, 1, 1, SEP, 1]])
    intra, _ = bilevel_ids(ids, [SEP], max_intra=3)
    assert intra.tolist() == [[0, 1, 2, 2, 2, 2, 0]]


@given(
    st.integers(1, 4).flatmap(
        lambda b: st.integers(1, 30).flatmap(
            lambda t: st.lists(
                st.lists(st.integers(0, 5), min_size=t, max_size=t), min_size=b, max_size=b
            )
        )
    ),
    st.sets(st.integers(0, 5), max_size=3),
    st.one_of(st.none(), st.integers(1, 6)),
)
def test_bilevel_matches_slow_loop(rows, seps, max_intra):
    ids = torch.tensor(rows)
    intra, segment = bilevel_ids(ids, sorted(seps), max_intra=max_intra)
    exp_intra, exp_seg = slow_bilevel(rows, seps, max_intra)
    assert intra.tolist() == exp_intra
    assert segment.tolist() == exp_seg


batch_strategy = st.integers(1, 3).flatmap(
    lambda b: st.integers(1, 24).flatmap(
        lambda t: st.tuples(
            st.lists(st.lists(st.integers(0, 6), min_size=t, max_size=t), min_size=b, max_size=b),
            st.lists(st.lists(st.integers(0, 2), min_size=t, max_size=t), min_size=b, max_size=b),
            st.lists(st.lists(st.booleans(), min_size=t, max_size=t), min_size=b, max_size=b),
        )
    )
)


def _sorted_docs(docs):
    return [sorted(r) for r in docs]


@given(
    batch_strategy,
    st.booleans(),
    st.booleans(),
    st.one_of(st.none(), st.integers(1, 5)),
    st.sampled_from(["split", "clamp"]),
    st.booleans(),
)
def test_build_positions_matches_slow_loop(batch, use_docs, use_mask, max_intra, overflow, levels):
    rows, docs, mask = batch
    docs = _sorted_docs(docs) if use_docs else None
    mask = mask if use_mask else None
    level_sets = [[5]] if levels else []
    pos, _ = build_positions(
        torch.tensor(rows), [0, 1],
        document_ids=None if docs is None else torch.tensor(docs),
        attention_mask=None if mask is None else torch.tensor(mask),
        max_intra=max_intra, overflow=overflow, level_separator_ids=level_sets or None,
    )  # fmt: skip
    exp = slow_build(rows, [0, 1], docs, mask, max_intra, overflow, level_sets)
    assert pos.token.tolist() == exp["token"]
    assert pos.intra.tolist() == exp["intra"]
    assert pos.segment.tolist() == exp["segment"]
    if levels:
        assert pos.levels is not None
        assert pos.levels.tolist() == exp["levels"]
        assert torch.equal(pos.levels[..., -1], pos.segment)
    else:
        assert pos.levels is None


@given(
    batch_strategy,
    st.lists(st.integers(0, 24), max_size=4),
    st.one_of(st.none(), st.integers(1, 4)),
    st.sampled_from(["split", "clamp"]),
    st.booleans(),
)
def test_chunked_equals_one_shot(batch, cuts, max_intra, overflow, levels):
    rows, docs, mask = batch
    ids = torch.tensor(rows)
    docs_t = torch.tensor(_sorted_docs(docs))
    mask_t = torch.tensor(mask)
    kw = dict(max_intra=max_intra, overflow=overflow, level_separator_ids=[[5]] if levels else None)
    full, full_state = build_positions(
        ids, [0, 1], document_ids=docs_t, attention_mask=mask_t, **kw
    )
    T = ids.shape[1]
    bounds = sorted({0, T, *[min(c, T) for c in cuts]})
    state = None
    parts = []
    for a, b in itertools.pairwise(bounds):
        p, state = build_positions(
            ids[:, a:b], [0, 1], document_ids=docs_t[:, a:b], attention_mask=mask_t[:, a:b],
            state=state, **kw,
        )  # fmt: skip
        parts.append(p)
    got = Positions.cat(parts)
    for name in ("token", "intra", "segment", "document", "attention_mask", "levels"):
        a, b = getattr(got, name), getattr(full, name)
        assert (a is None and b is None) or torch.equal(a, b), name
    assert state is not None
    for name in ("token", "intra", "segment", "last_sep", "document", "seen"):
        assert torch.equal(getattr(state, name), getattr(full_state, name)), name


def test_generated_separator_opens_next_segment():
    pos, state = build_positions(torch.tensor([[1, 2, SEP]]), [SEP])
    assert pos.segment.tolist() == [[0, 0, 0]] and bool(state.last_sep[0])
    nxt, state = build_positions(torch.tensor([[4]]), [SEP], state=state)
    assert nxt.segment.tolist() == [[1]] and nxt.intra.tolist() == [[0]]
    assert nxt.token.tolist() == [[3]]


def test_split_and_clamp_never_exceed_table():
    ids = torch.ones(2, 50, dtype=torch.long)
    split, _ = build_positions(ids, [SEP], max_intra=8, overflow="split")
    assert int(split.intra.max()) == 7
    assert split.segment[0].tolist() == [i // 8 for i in range(50)]
    clamp, _ = build_positions(ids, [SEP], max_intra=8, overflow="clamp")
    assert int(clamp.intra.max()) == 7 and int(clamp.segment.max()) == 0


def test_documents_restart_positions():
    ids = torch.tensor([[1, SEP, 2, 3, SEP, 4]])
    docs = torch.tensor([[0, 0, 0, 1, 1, 1]])
    pos, _ = build_positions(ids, [SEP], document_ids=docs)
    assert pos.token.tolist() == [[0, 1, 2, 0, 1, 2]]
    assert pos.segment.tolist() == [[0, 0, 1, 0, 0, 1]]
    assert pos.intra.tolist() == [[0, 1, 0, 0, 1, 0]]


def test_left_padding_matches_unpadded():
    ids = torch.tensor([[1, 2, SEP, 3]])
    plain, _ = build_positions(ids, [SEP])
    padded_ids = torch.tensor([[0, 0, 1, 2, SEP, 3]])
    mask = torch.tensor([[False, False, True, True, True, True]])
    padded, _ = build_positions(padded_ids, [SEP], attention_mask=mask)
    for name in ("token", "intra", "segment"):
        assert getattr(padded, name)[:, 2:].tolist() == getattr(plain, name).tolist()
        assert getattr(padded, name)[:, :2].tolist() == [[0, 0]]
    right = torch.tensor([[1, 2, SEP, 3, 0]])
    rmask = torch.tensor([[True, True, True, True, False]])
    rpos, _ = build_positions(right, [SEP], attention_mask=rmask)
    assert rpos.token.tolist() == [[0, 1, 2, 3, 3]] and rpos.segment.tolist() == [[0, 0, 0, 1, 1]]


def test_positions_from_arrays_numpy_and_methods():
    pos = positions_from_arrays(np.array([0, 1, 0]), np.array([0, 0, 1]))
    assert pos.shape == (1, 3) and pos.token.tolist() == [[0, 1, 2]]
    two = positions_from_arrays(
        torch.tensor([[0, 1], [0, 0]]), [[0, 0], [0, 1]], levels=np.zeros((2, 2, 2), dtype=np.int64)
    )
    assert two.n_levels == 2
    sl = two.slice(1, 2)
    assert sl.shape == (2, 1) and sl.levels is not None and sl.levels.shape == (2, 1, 2)
    assert two.to("cpu").intra.tolist() == two.intra.tolist()
    assert Positions.cat([two.slice(0, 1), sl]).intra.tolist() == two.intra.tolist()


def test_state_select_and_initial():
    state = SegmentState.initial(3)
    assert state.token.shape == (3,) and not bool(state.seen.any())
    sub = state.select(torch.tensor([2, 0]))
    assert sub.token.shape == (2,)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: bilevel_ids(torch.zeros(3, dtype=torch.long), [1]), ShapeError),
        (lambda: bilevel_ids(torch.zeros(1, 3), [1]), ShapeError),
        (lambda: bilevel_ids([[1, 2]], [1]), InputError),
        (lambda: bilevel_ids(torch.zeros(1, 3, dtype=torch.long), ["x"]), InputError),
        (lambda: bilevel_ids(torch.zeros(1, 3, dtype=torch.long), [1], max_intra=0), ConfigError),
        (
            lambda: build_positions(torch.zeros(1, 3, dtype=torch.long), overflow="wrap"),
            ConfigError,
        ),
        (
            lambda: build_positions(
                torch.zeros(1, 3, dtype=torch.long), document_ids=torch.zeros(1, 2)
            ),
            ShapeError,
        ),
        (
            lambda: build_positions(
                torch.zeros(2, 3, dtype=torch.long), state=SegmentState.initial(1)
            ),
            ShapeError,
        ),
        (lambda: positions_from_arrays([0.5], [0]), ShapeError),
        (lambda: positions_from_arrays([-1], [0]), InputError),
        (lambda: Positions(torch.zeros(1, 3), torch.zeros(1, 2), torch.zeros(1, 3)), ShapeError),
    ],
)
def test_bad_input_raises_typed_errors(call, error):
    with pytest.raises(error):
        call()


def test_empty_batch_and_empty_length():
    intra, _seg = bilevel_ids(torch.zeros(0, 5, dtype=torch.long), [1])
    assert intra.shape == (0, 5)
    pos, state = build_positions(torch.zeros(2, 0, dtype=torch.long), [1])
    assert pos.shape == (2, 0) and not bool(state.seen.any())
