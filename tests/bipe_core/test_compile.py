"""torch.compile(model, fullgraph=True) for every scheme: no graph break (fullgraph turns one into
an error) and the same numbers as eager, in training (loss and gradients) and evaluation (logits,
also with padding, documents, short biased inputs and the KV cache)."""

from __future__ import annotations

import pytest
import torch
import torch._dynamo

from bipe_core import DecoderLM, list_schemes, positions_from_arrays
from tests.bipe_core.tiny import tiny_model

torch.set_num_threads(1)  # tiny matrices: threads only add overhead on a shared 2-core machine

V, SEP, LEVEL_SEP = 60, 5, 7
ATOL = 2e-5  # fp32: the compiled kernels sum in another order than eager's


def make(scheme: str) -> DecoderLM:
    """The tiny 2-layer, d 32 model of the other bipe_core tests, seeded."""
    return tiny_model(scheme, vocab_size=V, separator=SEP, level_separator=LEVEL_SEP)


def batch(length: int = 32, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ids with separators every few tokens, and next-token targets."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, V, (2, length), generator=g)
    ids[:, 3::5] = SEP
    ids[:, 11::13] = LEVEL_SEP
    return ids, torch.randint(0, V, (2, length), generator=g)


def compiled(model: torch.nn.Module) -> torch.nn.Module:
    """A fullgraph compile of ``model`` with fresh dynamo caches (a graph break raises)."""
    torch._dynamo.reset()
    return torch.compile(model, fullgraph=True)


def grads(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Copies of the parameter gradients, cleared on the model."""
    out = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return out


def check_train(scheme: str) -> None:
    """Compiled forward + backward: the loss and every gradient as in eager."""
    model = make(scheme).train()
    ids, targets = batch()
    eager_loss = model(ids, targets)
    eager_loss.backward()
    eager_grads = grads(model)
    loss = compiled(model)(ids, targets)
    loss.backward()
    got = grads(model)
    assert torch.allclose(loss, eager_loss, atol=ATOL, rtol=1e-5), (loss, eager_loss)
    assert got.keys() == eager_grads.keys() and got
    for name, g in eager_grads.items():
        assert torch.allclose(got[name], g, atol=ATOL, rtol=1e-4), name


def check_eval(scheme: str, length: int = 32, **kw: object) -> torch.nn.Module:
    """Compiled no-grad logits as in eager; returns the compiled model."""
    model = make(scheme)
    ids, _ = batch(length)
    step = compiled(model)
    with torch.no_grad():
        eager = model(ids, **kw)
        got = step(ids, **kw)
    assert got.shape == eager.shape == (2, length, V)
    assert torch.allclose(got, eager, atol=ATOL, rtol=1e-5), (got - eager).abs().max()
    return step


def test_compiled_bipe_alibi_trains_and_evaluates_as_eager() -> None:
    check_train("bipe_alibi")
    step = check_eval("bipe_alibi")
    ids, _ = batch()
    ids[1, 4] = V  # the id check stays in the compiled graph, as a tensor-side assert
    with torch.no_grad(), pytest.raises(RuntimeError, match="outside the vocabulary"):
        step(ids)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", list_schemes())
def test_every_scheme_compiles_fullgraph_as_eager(scheme: str) -> None:
    check_train(scheme)
    check_eval(scheme)


def padded_positions(model: DecoderLM, ids: torch.Tensor) -> dict[str, object]:
    """Explicit positions with left and right padding, as the synthetic cells pass them."""
    mask = torch.ones(ids.shape, dtype=torch.bool)
    mask[0, :5] = False
    mask[1, -7:] = False
    p = model.positions(ids, attention_mask=mask)
    pos = positions_from_arrays(
        p.intra, p.segment, token=p.token, levels=p.levels, attention_mask=mask
    )
    return {"positions": pos}


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["rope", "bipe_alibi_io", "hier_alibi"])
def test_masks_documents_and_short_inputs_compile_as_eager(scheme: str) -> None:
    check_eval(scheme, **padded_positions(make(scheme), batch()[0]))
    doc = torch.zeros(2, 32, dtype=torch.long)
    doc[:, 16:] = 1
    doc[1, 10:] += 1
    check_eval(scheme, document_ids=doc)
    check_eval(scheme, length=8)  # biased blocks under 16 rows run row by row


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["bipe_rope", "bipe_alibi"])
def test_cached_decoding_compiles_as_eager(scheme: str) -> None:
    model = make(scheme)
    ids, _ = batch(24)
    step = compiled(model)
    with torch.no_grad():
        full = model(ids)
        cache = model.new_cache(2)
        parts = [step(ids[:, :16], cache=cache)]
        parts += [step(ids[:, t : t + 1], cache=cache) for t in range(16, 24)]
    got = torch.cat(parts, dim=1)
    assert torch.allclose(got, full, atol=ATOL, rtol=1e-5), (got - full).abs().max()
