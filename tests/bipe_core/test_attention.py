"""Every attention path against the naive fp64 reference, for every scheme's (slopes, index) setup."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bipe_core import debug
from bipe_core.alibi import alibi_slopes
from bipe_core.attention import attention, reference_attention
from bipe_core.errors import ConfigError, InputError, ShapeError
from bipe_core.positions import build_positions
from bipe_core.schemes import get_scheme, list_schemes

SCHEMES = list_schemes()
B, H, T, D = 2, 4, 29, 8


def _setup(name: str, mode: str, seed: int = 0, dtype=torch.float32):
    """Rotated q/k, v and attention kwargs of scheme `name` on a random batch."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 12, (B, T), generator=g)
    docs = (
        torch.cumsum((torch.rand(B, T, generator=g) < 0.15).long(), 1) if mode == "docs" else None
    )
    mask = None
    if mode in ("docs", "pad"):
        mask = torch.rand(B, T, generator=g) > 0.2
        mask[:, :3] = False  # left padding: the first queries see no key at all
    pos, _ = build_positions(
        ids, [9, 10], document_ids=docs, attention_mask=mask, level_separator_ids=[[11]]
    )
    sch = get_scheme(name, d_model=H * D, n_heads=H)
    q, k, v = (torch.randn(B, H, T, D, generator=g, dtype=dtype) for _ in range(3))
    if sch.rotary:
        q, k = sch.rotate(q, pos), sch.rotate(k, pos)
    idx = sch.bias_index(pos)
    kw = dict(
        slopes=sch.slopes, q_index=idx, k_index=idx, q_doc=pos.document, k_doc=pos.document,
        key_padding_mask=pos.attention_mask,
    )  # fmt: skip
    return q, k, v, kw


def _last(kw: dict, tq: int) -> dict:
    """Attention kwargs for the last `tq` queries (cached decoding shape)."""
    out = dict(kw)
    for name in ("q_index", "q_doc"):
        if out[name] is not None:
            out[name] = out[name][:, T - tq :]
    return out


def _f64(kw: dict) -> dict:
    return {
        key: (val.double() if isinstance(val, torch.Tensor) and val.is_floating_point() else val)
        for key, val in kw.items()
    }


@pytest.mark.parametrize("mode", ["plain", "pad", "docs"])
@pytest.mark.parametrize("name", SCHEMES)
def test_every_path_matches_reference(name, mode):
    q, k, v, kw = _setup(name, mode)
    for tq in (T, 6, 1):
        qkw = _last(kw, tq)
        ref = reference_attention(q[:, :, T - tq :].double(), k.double(), v.double(), **_f64(qkw))
        assert torch.isfinite(ref).all()
        for impl in ("sdpa", "blocked", "auto", "reference"):
            for block in (4, 512):
                out = attention(q[:, :, T - tq :], k, v, impl=impl, block_size=block, **qkw)
                assert out.dtype == q.dtype and out.shape == (B, H, tq, D)
                err = (out.double() - ref).abs().max().item()
                assert err < 1e-5, (impl, block, tq, err)


@pytest.mark.parametrize("name", ["alibi", "rope", "nope"])
def test_non_causal_matches_reference(name):
    q, k, v, kw = _setup(name, "docs", seed=1)
    ref = reference_attention(q.double(), k.double(), v.double(), causal=False, **_f64(kw))
    for impl in ("sdpa", "blocked"):
        out = attention(q, k, v, causal=False, impl=impl, block_size=8, **kw)
        assert (out.double() - ref).abs().max() < 1e-5


@pytest.mark.parametrize("mode", ["plain", "docs"])
@pytest.mark.parametrize("name", ["nope", "rope", "alibi", "bipe_alibi", "hier_alibi"])
def test_backward_matches_reference(name, mode):
    q, k, v, kw = _setup(name, mode, seed=2)
    grads = {}
    for impl in ("reference", "sdpa", "blocked"):
        leaves = [
            t.detach().double().clone() if impl == "reference" else t.detach().clone()
            for t in (q, k, v)
        ]
        for t in leaves:
            t.requires_grad_(True)
        fn = reference_attention if impl == "reference" else attention
        extra = {} if impl == "reference" else {"impl": impl, "block_size": 8}
        out = fn(*leaves, **(_f64(kw) if impl == "reference" else kw), **extra)
        w = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).reshape(out.shape)
        (out * w).sum().backward()
        grads[impl] = [t.grad.double() for t in leaves]
    for impl in ("sdpa", "blocked"):
        for got, exp in zip(grads[impl], grads["reference"]):
            assert (got - exp).abs().max() < 2e-5, impl


def test_rows_without_visible_keys_are_zero_and_finite():
    q, k, v = (torch.randn(1, 2, 5, 4) for _ in range(3))
    kpm = torch.tensor([[False, False, True, True, True]])
    for impl in ("sdpa", "blocked", "reference"):
        out = attention(q, k, v, key_padding_mask=kpm, impl=impl, block_size=2)
        assert torch.isfinite(out).all()
        assert torch.equal(out[:, :, :2], torch.zeros(1, 2, 2, 4))


def test_fp16_relative_form_is_stable_at_5000_segments():
    # every token is a separator: 5,000 segments, where the paper's absolute fp16 bias overflows
    Tn, Hn, Dn, tail = 5000, 2, 16, 64
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(1, Hn, Tn, Dn, generator=g) for _ in range(3))
    seg = torch.arange(Tn, dtype=torch.float32)[None]
    slopes = alibi_slopes(Hn, 96.0)
    ref = reference_attention(
        q[:, :, -tail:].double(), k.double(), v.double(), slopes=slopes.double(),
        q_index=seg[:, -tail:].double(), k_index=seg.double(),
    )  # fmt: skip
    out = attention(
        q.half(), k.half(), v.half(), slopes=slopes, q_index=seg, k_index=seg, impl="auto"
    )
    assert out.dtype == torch.float16
    assert (out[:, :, -tail:].double() - ref).abs().max() < 3e-3
    # the paper's absolute form (+96 m seg_k added in fp16) is far off or not finite at all
    scores = (q[:, :, -tail:].half() @ k.half().transpose(-1, -2)) * (1 / math.sqrt(Dn))
    paper = scores + (slopes[:, None, None] * seg[0][None, None, :]).half()
    causal = torch.arange(Tn)[None, :] <= torch.arange(Tn - tail, Tn)[:, None]
    paper = paper.float().masked_fill(~causal, float("-inf"))
    paper_out = torch.softmax(paper, -1) @ v
    bad = ~torch.isfinite(paper_out).all() or (paper_out.double() - ref).abs().max() > 0.1
    assert bad


@pytest.mark.parametrize("name", ["alibi", "bipe_alibi"])
def test_long_sequence_fold_is_as_exact_as_relative_formula(name):
    # 12 heads: non-power-of-2 slopes; 3072 tokens; dense separators for bipe_alibi
    Tn, Hn, Dn, tail = 3072, 12, 8, 32
    g = torch.Generator().manual_seed(4)
    q, k, v = (torch.randn(1, Hn, Tn, Dn, generator=g) for _ in range(3))
    if name == "alibi":
        idx, slopes = torch.arange(Tn, dtype=torch.float32)[None], alibi_slopes(Hn)
    else:
        idx, slopes = (torch.arange(Tn) // 2).float()[None], alibi_slopes(Hn, 96.0)
    ref = reference_attention(
        q[:, :, -tail:].double(), k.double(), v.double(), slopes=slopes.double(),
        q_index=idx[:, -tail:].double(), k_index=idx.double(),
    )  # fmt: skip
    for impl in ("sdpa", "blocked"):
        out = attention(q, k, v, slopes=slopes, q_index=idx, k_index=idx, impl=impl)
        assert (out[:, :, -tail:].double() - ref).abs().max() < 1e-5, impl
        tail_out = attention(
            q[:, :, -tail:], k, v, slopes=slopes, q_index=idx[:, -tail:], k_index=idx, impl=impl
        )
        assert (tail_out.double() - ref).abs().max() < 1e-5, impl


def test_empty_batch():
    q = torch.zeros(0, 2, 4, 8)
    assert attention(q, q, q).shape == (0, 2, 4, 8)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        (dict(q=torch.zeros(1, 2, 4, 8), k=torch.zeros(1, 2, 3, 8), v=torch.zeros(1, 2, 3, 8)), ShapeError),
        (dict(q=torch.zeros(1, 2, 4, 8), k=torch.zeros(1, 3, 4, 8), v=torch.zeros(1, 3, 4, 8)), ShapeError),
        (dict(q=torch.zeros(1, 2, 4), k=torch.zeros(1, 2, 4), v=torch.zeros(1, 2, 4)), ShapeError),
        (dict(slopes=torch.ones(2)), ShapeError),
        (dict(slopes=torch.ones(3), q_index=torch.zeros(1, 4), k_index=torch.zeros(1, 4)), ShapeError),
        (dict(q_index=torch.zeros(1, 4)), ShapeError),
        (dict(q_doc=torch.zeros(1, 4)), ShapeError),
        (dict(key_padding_mask=torch.ones(1, 5, dtype=torch.bool)), ShapeError),
        (dict(impl="magic"), ConfigError),
        (dict(impl="flex"), ConfigError),
        (dict(block_size=0), ConfigError),
    ],
)  # fmt: skip
def test_bad_input_raises_typed_errors(kwargs, error):
    base = dict(q=torch.zeros(1, 2, 4, 8), k=torch.zeros(1, 2, 4, 8), v=torch.zeros(1, 2, 4, 8))
    base.update(kwargs)
    q, k, v = base.pop("q"), base.pop("k"), base.pop("v")
    with pytest.raises(error):
        attention(q, k, v, **base)


@pytest.fixture
def debug_on():
    debug.set_debug(True)
    yield
    debug.set_debug(None)


def test_debug_mode_detects_nan(debug_on):
    q = torch.zeros(1, 1, 3, 4)
    bad = q.clone()
    bad[0, 0, 1, 2] = float("nan")
    with pytest.raises(InputError, match="NaN"):
        attention(bad, q, q)
    attention(q, q, q)  # finite inputs pass


def test_debug_mode_from_environment(monkeypatch):
    debug.set_debug(None)
    monkeypatch.setenv("BIPE_DEBUG", "1")
    assert debug.is_debug()
    monkeypatch.setenv("BIPE_DEBUG", "0")
    assert not debug.is_debug()
    bad = torch.full((1, 1, 2, 4), float("inf"))
    attention(bad, bad, bad)  # debug off: no check


@pytest.mark.filterwarnings("ignore:flex_attention called without torch.compile")
@pytest.mark.parametrize("name", ["rope", "bipe_alibi", "hier_alibi"])
def test_flex_score_and_mask_functions_match_reference(name):
    # eager Flex on CPU checks the score_mod/mask_mod semantics the CUDA path compiles
    from bipe_core.attention_spec import validate_attention as _validate
    from bipe_core.flex import flex_attention_path

    q, k, v, kw = _setup(name, "docs", seed=5)
    spec = _validate(q, k, v, kw["slopes"], kw["q_index"], kw["k_index"], kw["q_doc"],
                     kw["k_doc"], kw["key_padding_mask"], True, None)  # fmt: skip
    out = flex_attention_path(q, k, v, spec, compiled=False, cuda_only=False)
    ref = reference_attention(q.double(), k.double(), v.double(), **_f64(kw))
    assert (out.double() - ref).abs().max() < 1e-5


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 40),
    st.data(),
    st.sampled_from([0, 1, 2]),
    st.sampled_from(["auto", "sdpa", "blocked"]),
    st.sampled_from([3, 16, 512]),
)
def test_random_configurations_match_reference(b, h, tk, data, levels, impl, block):
    tq = data.draw(st.integers(1, tk))
    g = torch.Generator().manual_seed(data.draw(st.integers(0, 10_000)))
    q = torch.randn(b, h, tq, 8, generator=g)
    k, v = torch.randn(b, h, tk, 8, generator=g), torch.randn(b, h, tk, 8, generator=g)
    kw: dict = {}
    if levels:
        steps = (torch.rand(b, tk, levels, generator=g) < 0.3).long()
        k_index = torch.cumsum(steps, dim=1).float()  # monotone, like real positions
        kw.update(
            slopes=torch.rand(levels, h, generator=g) * 50, q_index=k_index[:, tk - tq :],
            k_index=k_index,
        )  # fmt: skip
    if data.draw(st.booleans()):
        docs = torch.cumsum((torch.rand(b, tk, generator=g) < 0.2).long(), 1)
        kw.update(q_doc=docs[:, tk - tq :], k_doc=docs)
    real = torch.ones(b, tq, dtype=torch.bool)
    if data.draw(st.booleans()):
        kw.update(key_padding_mask=torch.rand(b, tk, generator=g) > 0.3)
        real = kw["key_padding_mask"][:, tk - tq :]
    ref = reference_attention(q.double(), k.double(), v.double(), **_f64(kw))
    out = attention(q, k, v, impl=impl, block_size=block, **kw)
    # padded query rows (their own key is padding) are ill-conditioned garbage: compare real rows
    assert ((out.double() - ref).abs() * real[:, None, :, None]).max() < 1e-5
