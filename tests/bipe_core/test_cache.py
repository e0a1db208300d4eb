"""Cached incremental decoding for every scheme: chunked prefill + single steps equal one full pass,
the segment state survives into the cache, and cached greedy generation equals recomputation."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bipe_core import DecoderLM, InputError, KVCache, ShapeError, list_schemes
from tests.bipe_core.tiny import tiny_model

torch.set_num_threads(1)  # tiny matrices: threads only add overhead on a shared 2-core machine

V, SEP = 40, 5
SCHEMES = list_schemes()


def make(scheme: str, seed: int = 0, **kw: object) -> DecoderLM:
    """A tiny fp32 model in eval mode (segments split at SEP; hierarchical levels at 7)."""
    return tiny_model(scheme, vocab_size=V, separator=SEP, level_separator=7, seed=seed, **kw)


def prompt(batch: int = 2, length: int = 24, seed: int = 0) -> torch.Tensor:
    """Random ids with separators (and hierarchical separators) sprinkled in, including 'S S'."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(8, V, (batch, length), generator=g)
    ids[:, [c for c in (2, 7, 8, 15) if c < length]] = SEP
    if length > 11:
        ids[:, 11] = 7
    return ids


def run_chunks(model: DecoderLM, ids: torch.Tensor, cuts: list[int], **kw: object) -> torch.Tensor:
    """Logits of ``ids`` fed through one cache in chunks ending at ``cuts``."""
    cache = model.new_cache(ids.shape[0], capacity=4)  # small: exercises buffer growth
    out, start = [], 0
    for end in [*cuts, ids.shape[1]]:
        if end > start:
            out.append(model(ids[:, start:end], cache=cache, **kw))
            start = end
    assert cache.length == ids.shape[1]
    return torch.cat(out, dim=1)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_chunked_prefill_then_steps_equals_full_forward(scheme: str) -> None:
    model = make(scheme)
    ids = prompt()
    with torch.no_grad():
        full = model(ids)
        cached = run_chunks(model, ids, [5, 9, *range(10, 24)])
    assert (full - cached).abs().max() < 1e-5


@pytest.mark.parametrize("scheme", ["bipe_alibi", "bipe_rope", "hier_alibi"])
@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(1, 23), max_size=6, unique=True).map(sorted))
def test_any_chunking_equals_full_forward(scheme: str, cuts: list[int]) -> None:
    model = make(scheme)
    ids = prompt(batch=1)
    with torch.no_grad():
        assert (model(ids) - run_chunks(model, ids, cuts)).abs().max() < 1e-5


def test_separator_in_one_step_opens_segment_for_the_next() -> None:
    model = make("bipe_rope")
    cache = model.new_cache(1)
    with torch.no_grad():
        model(torch.tensor([[9, 10]]), cache=cache)
        assert cache.state is not None and cache.state.segment.tolist() == [0]
        model(torch.tensor([[SEP]]), cache=cache)  # the separator closes segment 0 ...
        assert cache.state.segment.tolist() == [0] and cache.state.intra.tolist() == [2]
        model(torch.tensor([[11]]), cache=cache)  # ... and the next token starts segment 1
        assert cache.state.segment.tolist() == [1] and cache.state.intra.tolist() == [0]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_left_padded_cached_batch_equals_rows_alone(scheme: str) -> None:
    model = make(scheme)
    rows = [prompt(1, 14, seed=1)[0], prompt(1, 9, seed=2)[0]]
    T, steps = 14, torch.tensor([[SEP, 12, 13], [20, SEP, 21]])
    ids = torch.zeros(2, T, dtype=torch.long)
    mask = torch.zeros(2, T, dtype=torch.long)
    for r, row in enumerate(rows):
        ids[r, T - len(row) :], mask[r, T - len(row) :] = row, 1
    with torch.no_grad():
        cache = model.new_cache(2)
        model(ids, attention_mask=mask, cache=cache)
        out = torch.cat([model(steps[:, i : i + 1], cache=cache) for i in range(3)], dim=1)
        for r, row in enumerate(rows):
            alone = model(torch.cat([row, steps[r]])[None])[0, -3:]
            assert (out[r] - alone).abs().max() < 1e-5


@pytest.mark.parametrize("scheme", SCHEMES)
def test_right_padded_prefill_then_steps_equals_full_forward(scheme: str) -> None:
    model = make(scheme)
    ids = prompt(batch=2, length=16)
    mask = torch.ones_like(ids)
    mask[0, 12:] = 0  # row 0 continues after four pads: positions skip them
    steps = torch.tensor([[SEP, 12, 13], [20, SEP, 21]])
    full_mask = torch.cat([mask, torch.ones_like(steps)], dim=1)
    with torch.no_grad():
        full = model(torch.cat([ids, steps], dim=1), attention_mask=full_mask)
        cache = model.new_cache(2)
        cached = [model(ids[:, :10], attention_mask=mask[:, :10], cache=cache)]
        cached.append(model(ids[:, 10:], attention_mask=mask[:, 10:], cache=cache))
        cached += [model(steps[:, i : i + 1], cache=cache) for i in range(3)]
    real = full_mask.bool()
    assert (full[real] - torch.cat(cached, dim=1)[real]).abs().max() < 1e-5
    # row 0's continuation equals the unpadded row followed by the same steps
    alone = model(torch.cat([ids[0, :12], steps[0]])[None])[0, -3:]
    assert (full[0, -3:] - alone).abs().max() < 1e-5


@pytest.mark.parametrize("scheme", ["bipe_alibi", "rope"])
def test_documents_continue_across_chunks(scheme: str) -> None:
    model = make(scheme)
    ids = prompt(batch=1)
    docs = torch.tensor([[0] * 10 + [1] * 14])
    with torch.no_grad():
        full = model(ids, document_ids=docs)
        cache = model.new_cache(1)
        first = model(ids[:, :12], document_ids=docs[:, :12], cache=cache)
        # steps without document ids continue document 1
        rest = [model(ids[:, i : i + 1], cache=cache) for i in range(12, 24)]
        late = model.new_cache(1)  # document ids first given in a later chunk: earlier ones are 0
        late_parts = [model(ids[:, :6], cache=late)]
        late_parts.append(model(ids[:, 6:], document_ids=docs[:, 6:], cache=late))
    assert (full - torch.cat([first, *rest], 1)).abs().max() < 1e-5
    assert (full - torch.cat(late_parts, 1)).abs().max() < 1e-5


@pytest.mark.parametrize("scheme", SCHEMES)
def test_cached_greedy_generation_equals_recomputation(scheme: str) -> None:
    model = make(scheme)
    ids = prompt(batch=2, length=10)
    mask = torch.ones_like(ids)
    mask[1, :4] = 0  # left padding
    cached, logits_c = model.generate(ids, 12, attention_mask=mask, return_logits=True)
    recomputed, logits_r = model.generate(
        ids, 12, attention_mask=mask, use_cache=False, return_logits=True
    )
    assert torch.equal(cached, recomputed)
    assert (logits_c - logits_r).abs().max() < 1e-5


@pytest.mark.parametrize("scheme", ["bipe_alibi", "bipe_rope"])
def test_generated_separators_open_segments(scheme: str) -> None:
    base = make(scheme)
    ids = prompt(batch=1, length=8)
    found = 0
    for sep in range(8, V):  # find a token the model keeps generating once it is a separator
        model = DecoderLM(base.config.replace(separator_ids=[sep])).eval()
        model.load_state_dict(base.state_dict())
        out = model.generate(ids, 16)
        if int((out[0, 8:-1] == sep).sum()) < 2:
            continue
        found += 1
        assert torch.equal(out, model.generate(ids, 16, use_cache=False))
        cache = model.new_cache(1)
        with torch.no_grad():
            model(out, cache=cache)
        assert cache.state is not None
        # segment of the last token = separators strictly before it, generated ones included
        assert int(cache.state.segment[0]) == int((out[0, :-1] == sep).sum())
        if found == 2:
            break
    assert found >= 1


def test_eos_stops_and_fills() -> None:
    model = make("bipe_alibi")
    ids = prompt(batch=2, length=6)
    free = model.generate(ids, 10)
    eos = int(free[0, 8])  # row 0 emits it at step 3
    out = model.generate(ids, 10, eos_id=eos)
    hit = (out[0, 6:] == eos).nonzero()[0, 0]
    assert (out[0, 6 + hit :] == eos).all()
    assert torch.equal(out[0, : 6 + hit], free[0, : 6 + hit])


def test_sampling_is_repeatable_with_a_seeded_generator() -> None:
    model = make("bipe_rope")
    ids = prompt(batch=2, length=6)

    def sample(seed: int, **kw: object) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        return model.generate(ids, 8, temperature=0.8, top_k=5, generator=gen, **kw)

    assert torch.equal(sample(3), sample(3))
    assert torch.equal(sample(3), sample(3, use_cache=False))
    assert not torch.equal(sample(3), sample(4))


def test_generate_bad_input() -> None:
    model = make("rope")
    ids = prompt(batch=2, length=6)
    right = torch.ones_like(ids)
    right[0, -2:] = 0
    with pytest.raises(InputError, match="LEFT padding"):
        model.generate(ids, 3, attention_mask=right)
    with pytest.raises(InputError, match="max_new_tokens"):
        model.generate(ids, -1)
    with pytest.raises(InputError, match="eos_id"):
        model.generate(ids, 2, eos_id=V)
    with pytest.raises(InputError, match="temperature"):
        model.generate(ids, 2, temperature=-1.0)
    assert torch.equal(model.generate(ids, 0), ids)


def test_cache_misuse_is_caught() -> None:
    model = make("bipe_alibi")
    cache = model.new_cache(2)
    with pytest.raises(ShapeError, match="rows"):
        model(prompt(batch=1, length=4), cache=cache)
    explicit = model.positions(prompt(batch=2, length=4))
    model(prompt(batch=2, length=4), positions=explicit, cache=cache)
    with pytest.raises(InputError, match="explicit positions"):
        model(prompt(batch=2, length=1), cache=cache)


def test_cache_select_keeps_rows() -> None:
    model = make("bipe_alibi")
    ids = prompt(batch=3, length=10)
    with torch.no_grad():
        cache = model.new_cache(3)
        model(ids[:, :9], cache=cache)
        sub: KVCache = cache.select(torch.tensor([2, 0]))
        step = model(ids[[2, 0], 9:], cache=sub)[:, -1]
        full = model(ids[[2, 0]])[:, -1]
    assert (step - full).abs().max() < 1e-5
    assert sub.nbytes() > 0


@pytest.mark.parametrize("scheme", ["bipe_rope", "bipe_alibi"])
def test_grouped_query_attention_cache(scheme: str) -> None:
    model = make(scheme, n_kv_heads=2)
    ids = prompt()
    with torch.no_grad():
        cache = model.new_cache(2)
        cached = torch.cat(
            [model(ids[:, :9], cache=cache)]
            + [model(ids[:, i : i + 1], cache=cache) for i in range(9, 24)],
            dim=1,
        )
        assert (model(ids) - cached).abs().max() < 1e-5
    assert cache.keys[0].shape[1] == 2  # the cache holds the 2 key/value heads, not 4


def test_dropout_only_in_training() -> None:
    model = make("bipe_alibi", dropout=0.2)
    ids = prompt()
    assert torch.equal(model(ids), model(ids))
    model.train()
    assert not torch.equal(model(ids), model(ids))
    assert model.generate(ids, 2).shape == (2, 26)
    assert model.training  # generate runs in eval mode and restores the caller's mode
