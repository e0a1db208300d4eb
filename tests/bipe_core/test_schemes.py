"""Positional schemes: registry, Press slopes, RoPE parity with HF transformers, the paper's formulas."""

from __future__ import annotations

import math

import pytest
import torch

from bipe_core.alibi import alibi_slopes, alibi_slopes_list
from bipe_core.attention import attention
from bipe_core.errors import ConfigError, ShapeError, UnknownSchemeError
from bipe_core.positions import Positions, build_positions, positions_from_arrays
from bipe_core.schemes import (
    get_scheme,
    list_schemes,
    register_scheme,
    scheme_class,
    sinusoidal_table,
)

ALL = [
    "alibi", "bipe_alibi", "bipe_alibi_io", "bipe_rope", "bipe_rope_io", "hier_alibi", "hier_rope",
    "learned", "nope", "rope",
    "sinusoidal",
]  # fmt: skip
SEP = 9


def _used(name: str, **options):
    """The options of ``options`` that scheme ``name`` takes (its constructor is strict)."""
    keep = {"d_model", "n_heads", "head_dim", *scheme_class(name).option_names()}
    return {k: v for k, v in options.items() if k in keep}


def _pos(T: int = 12, B: int = 2, seed: int = 0) -> Positions:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 12, (B, T), generator=g)
    pos, _ = build_positions(ids, [SEP, 10], level_separator_ids=[[11]])
    return pos


def test_registry_lists_every_scheme():
    assert set(ALL) <= set(list_schemes())


def test_unknown_scheme_names_valid_choices():
    with pytest.raises(UnknownSchemeError) as info:
        get_scheme("bipe_xl", d_model=16, n_heads=2)
    assert "bipe_rope" in str(info.value) and "bipe_xl" in str(info.value)


def test_register_scheme_rejects_duplicates():
    with pytest.raises(ConfigError):

        @register_scheme("rope")
        class Other(get_scheme("nope", d_model=8, n_heads=1).__class__):  # pragma: no cover
            pass


@pytest.mark.parametrize(
    "cfg",
    [
        dict(d_model=10, n_heads=3),
        dict(d_model=16, n_heads=0),
        dict(d_model=16, n_heads=2, intra="rotary"),
        dict(d_model=16, n_heads=2, overflow="wrap"),
        dict(d_model=16, n_heads=2, rope_scaling={"type": "magic", "factor": 2}),
        dict(d_model=16, n_heads=2, rope_scaling={"type": "linear", "factor": -1}),
        dict(d_model=16, n_heads=2, alibi_factor=0),
        dict(d_model=16, n_heads=2, max_positions=0),
        dict(d_model=16, n_heads=2, rope_theta="big"),
    ],
)
def test_bad_config_raises(cfg):
    with pytest.raises(ConfigError):
        get_scheme("bipe_rope", **cfg)


def test_press_slopes_8_and_12_heads():
    assert alibi_slopes_list(8) == [2.0**-i for i in range(1, 9)]
    expected12 = [2.0**-i for i in range(1, 9)] + [2**-0.5, 2**-1.5, 2**-2.5, 2**-3.5]
    assert alibi_slopes_list(12) == pytest.approx(expected12, rel=1e-12)
    bipe = get_scheme("bipe_alibi", d_model=768, n_heads=12).slopes
    paper = [48, 24, 12, 6, 3, 1.5, 0.75, 0.375, 67.88, 33.94, 16.97, 8.49]
    assert bipe.tolist() == pytest.approx(paper, abs=5e-3)
    assert get_scheme("alibi", d_model=64, n_heads=8).slopes.tolist() == alibi_slopes(8).tolist()
    assert len(alibi_slopes_list(5)) == 5 and len(alibi_slopes_list(1)) == 1


@pytest.mark.parametrize("name", ALL)
def test_scheme_flags_and_shapes(name):
    sch = get_scheme(name, **_used(name, d_model=32, n_heads=4, max_positions=16))
    pos = _pos()
    x = torch.randn(2, 12, 32)
    y = sch.embed(x, pos)
    assert y.shape == x.shape
    q = torch.randn(2, 4, 12, 8)
    assert sch.rotate(q, pos).shape == q.shape
    idx = sch.bias_index(pos)
    assert (idx is not None) == sch.has_bias == (sch.slopes is not None)
    assert sch.rotary == (name in ("rope", "bipe_rope", "bipe_rope_io", "hier_rope"))
    if name in ("nope", "rope", "alibi"):
        assert torch.equal(y, x)
    if not sch.rotary:
        assert torch.equal(sch.rotate(q, pos), q)
    assert sch.uses_segments == name.startswith(("bipe", "hier"))


def test_embed_shape_errors():
    sch = get_scheme("bipe_rope", d_model=16, n_heads=2)
    with pytest.raises(ShapeError):
        sch.embed(torch.randn(2, 5, 16), _pos(T=6))
    with pytest.raises(ShapeError):
        sch.embed(torch.randn(2, 12, 8), _pos())
    with pytest.raises(ShapeError):
        sch.rotate(torch.randn(2, 2, 12, 4), _pos())


def test_hier_scheme_needs_levels():
    sch = get_scheme("hier_rope", d_model=16, n_heads=2)
    pos = positions_from_arrays([[0, 1, 0]], [[0, 0, 1]])
    with pytest.raises(ShapeError, match="levels"):
        sch.rotate(torch.randn(1, 2, 3, 8), pos)


def test_learned_intra_table_clamps_beyond_rows():
    sch = get_scheme("bipe_alibi", d_model=8, n_heads=2, max_intra=4)
    pos = positions_from_arrays([[0, 3, 50]], [[0, 0, 0]])
    y = sch.embed(torch.zeros(1, 3, 8), pos)
    table = sch.intra_embedding.weight
    assert torch.equal(y[0, 1], table[3]) and torch.equal(y[0, 2], table[3])


def test_sinusoidal_values():
    sch = get_scheme("sinusoidal", d_model=8, n_heads=2)
    pos = positions_from_arrays([[0, 0, 0]], [[0, 0, 0]])  # token = 0, 1, 2
    y = sch.embed(torch.zeros(1, 3, 8), pos)
    i = torch.arange(4, dtype=torch.float64)
    freq = 1.0 / 10000 ** (2 * i / 8)
    scale = 8**-0.5  # the learned amplitude starts at d_model**-0.5
    assert sch.sinusoidal_scale.requires_grad
    assert torch.allclose(y[0, 2, 0::2].double(), scale * torch.sin(2 * freq), atol=1e-6)
    assert torch.allclose(y[0, 2, 1::2].double(), scale * torch.cos(2 * freq), atol=1e-6)
    assert torch.equal(sinusoidal_table(torch.tensor([0]), 8)[0, 1::2], torch.ones(4))
    bipe = get_scheme("bipe_rope", d_model=8, n_heads=2, intra="sinusoidal")
    yb = bipe.embed(torch.zeros(1, 3, 8), positions_from_arrays([[2, 0, 1]], [[0, 1, 1]]))
    assert torch.allclose(yb[0, 0], y[0, 2])


# ------------------------------------------------------------------ RoPE parity with HF
hf = pytest.importorskip("transformers")


def _hf_rotary(head_dim: int, rope_parameters: dict, max_pos: int = 64):
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    cfg = LlamaConfig(
        hidden_size=head_dim * 2, num_attention_heads=2, num_hidden_layers=1,
        intermediate_size=16, vocab_size=10, max_position_embeddings=max_pos,
        rope_parameters=rope_parameters,
    )  # fmt: skip
    return LlamaRotaryEmbedding(cfg)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (None, {"rope_type": "default", "rope_theta": 10000.0}),
        ({"type": "linear", "factor": 4.0}, {"rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0}),
        (
            {"type": "yarn", "factor": 2.0, "original_max_position": 32},
            {"rope_type": "yarn", "factor": 2.0, "rope_theta": 10000.0,
             "original_max_position_embeddings": 32},
        ),
    ],
)  # fmt: skip
@pytest.mark.parametrize("name", ["rope", "bipe_rope"])
def test_rope_matches_transformers(ours, theirs, name):
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    Dh = 16
    sch = get_scheme(name, d_model=2 * Dh, n_heads=2, max_positions=64, rope_scaling=ours)
    pos = _pos(T=40, seed=3)
    rot = _hf_rotary(Dh, theirs)
    index = pos.token if name == "rope" else pos.segment
    q, k = torch.randn(2, 2, 40, Dh), torch.randn(2, 2, 40, Dh)
    cos, sin = rot(q, index)
    hq, hk = apply_rotary_pos_emb(q, k, cos, sin)
    assert torch.equal(sch.rotate(q, pos), hq)  # bitwise, like HF
    assert torch.equal(sch.rotate(k, pos), hk)
    assert sch.attention_scale == pytest.approx(rot.attention_scaling)


def test_ntk_scaling_enlarges_base():
    sch = get_scheme("rope", d_model=32, n_heads=2, rope_scaling={"type": "ntk", "factor": 4.0})
    base = 10000.0 * 4.0 ** (16 / 14)
    expected = 1.0 / base ** (torch.arange(0, 16, 2).float() / 16)
    assert torch.allclose(sch.inv_freq, expected)


def test_yarn_attention_temperature():
    sch = get_scheme("bipe_rope", d_model=32, n_heads=2, rope_scaling={"type": "yarn", "factor": 8})
    assert sch.attention_scale == pytest.approx(0.1 * math.log(8) + 1.0)


# ------------------------------------------------------------------ the paper's definitions
def test_bipe_rope_score_depends_only_on_segment_distance():
    Dh = 16
    sch = get_scheme("bipe_rope", d_model=2 * Dh, n_heads=2)
    pos = _pos(T=20, seed=5)
    q, k = (
        torch.randn(2, 2, 20, Dh, dtype=torch.float64),
        torch.randn(2, 2, 20, Dh, dtype=torch.float64),
    )
    scores = sch.rotate(q, pos) @ sch.rotate(k, pos).transpose(-1, -2)
    for shift in (1, 7, 1000):
        moved = Positions(pos.token, pos.intra, pos.segment + shift)
        moved_scores = sch.rotate(q, moved) @ sch.rotate(k, moved).transpose(-1, -2)
        assert torch.allclose(scores, moved_scores, atol=1e-9)
    # tokens of one segment see no rotary position at all
    same = pos.segment[:, :, None] == pos.segment[:, None, :]
    plain = q @ k.transpose(-1, -2)
    assert torch.allclose(
        scores[same[:, None].expand_as(scores)], plain[same[:, None].expand_as(plain)]
    )


def test_hier_rope_score_depends_only_on_level_distances():
    sch = get_scheme("hier_rope", d_model=32, n_heads=2, n_levels=2)
    pos = _pos(T=20, seed=6)
    assert pos.levels is not None
    q, k = (
        torch.randn(2, 2, 20, 16, dtype=torch.float64),
        torch.randn(2, 2, 20, 16, dtype=torch.float64),
    )
    scores = sch.rotate(q, pos) @ sch.rotate(k, pos).transpose(-1, -2)
    moved = Positions(pos.token, pos.intra, pos.segment, levels=pos.levels + torch.tensor([3, 11]))
    moved_scores = sch.rotate(q, moved) @ sch.rotate(k, moved).transpose(-1, -2)
    assert torch.allclose(scores, moved_scores, atol=1e-9)
    # and it does see the coarse level: shifting one coarse index changes scores
    bumped = pos.levels.clone()
    bumped[:, 10:, 0] += 1
    changed = sch.rotate(q, Positions(pos.token, pos.intra, pos.segment, levels=bumped))
    assert not torch.allclose(changed, sch.rotate(q, pos))


def _manual_attention(q, k, v, logits):
    T = q.shape[2]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    logits = logits.masked_fill(~causal, float("-inf"))
    return torch.softmax(logits, -1) @ v


def test_bipe_alibi_logits_equal_paper_formula():
    H, Dh, T = 12, 16, 40
    sch = get_scheme("bipe_alibi", d_model=H * Dh, n_heads=H)
    pos = _pos(T=T, B=1, seed=7)
    q, k, v = (torch.randn(1, H, T, Dh, dtype=torch.float64) for _ in range(3))
    m = torch.tensor(alibi_slopes_list(H), dtype=torch.float64)
    n = pos.segment[0].double()
    # paper: logit(l, l') = q.k / sqrt(d) - 96 * m_h * (n(l) - n(l'))
    logits = q @ k.transpose(-1, -2) / math.sqrt(Dh) - 96 * m[:, None, None] * (
        n[:, None] - n[None, :]
    )
    expected = _manual_attention(q, k, v, logits)
    idx = sch.bias_index(pos)
    got = attention(q.float(), k.float(), v.float(), slopes=sch.slopes, q_index=idx, k_index=idx)
    assert (got.double() - expected).abs().max() < 1e-5


def test_hier_alibi_bias_is_sum_of_levels():
    H, Dh, T = 4, 8, 30
    sch = get_scheme("hier_alibi", d_model=H * Dh, n_heads=H, level_factors=[2.0, 1.0])
    pos = _pos(T=T, B=1, seed=8)
    q, k, v = (torch.randn(1, H, T, Dh, dtype=torch.float64) for _ in range(3))
    m = 96 * torch.tensor(alibi_slopes_list(H), dtype=torch.float64)
    lv = pos.levels[0].double()
    bias = -(2 * m[:, None, None] * (lv[:, None, 0] - lv[None, :, 0]))
    bias = bias - m[:, None, None] * (lv[:, None, 1] - lv[None, :, 1])
    expected = _manual_attention(q, k, v, q @ k.transpose(-1, -2) / math.sqrt(Dh) + bias)
    idx = sch.bias_index(pos)
    got = attention(q.float(), k.float(), v.float(), slopes=sch.slopes, q_index=idx, k_index=idx)
    assert (got.double() - expected).abs().max() < 1e-5


def test_state_dict_holds_only_learned_tables():
    sch = get_scheme("bipe_rope", d_model=16, n_heads=2, max_intra=32)
    assert list(sch.state_dict()) == ["intra_embedding.weight"]
    assert sch.max_intra == 32
    assert list(get_scheme("alibi", d_model=16, n_heads=2).state_dict()) == []


def test_half_cast_keeps_frequencies_and_slopes_in_float32():
    alibi = get_scheme("bipe_alibi", d_model=96, n_heads=12).half()
    assert (
        alibi.slopes.dtype == torch.float32 and alibi.intra_embedding.weight.dtype == torch.float16
    )
    assert alibi.slopes[8].item() == pytest.approx(96 * 2**-0.5, rel=1e-7)
    rope = get_scheme("rope", d_model=64, n_heads=2).to(torch.bfloat16)
    assert rope.inv_freq.dtype == torch.float32
    assert torch.equal(rope.inv_freq, get_scheme("rope", d_model=64, n_heads=2).inv_freq)


@pytest.mark.parametrize("name", ALL)
def test_registry_facts_and_options_are_declared_by_each_class(name):
    cls = scheme_class(name)
    sch = get_scheme(name, d_model=16, n_heads=2)
    assert isinstance(sch, cls) and sch.name == name
    assert cls.uses_segments == name.startswith(("bipe", "hier"))
    assert cls.intra_table == cls.uses_segments
    assert cls.uses_levels == name.startswith("hier")
    assert cls.default_alibi_factor == (
        96.0 if name in ("bipe_alibi", "bipe_alibi_io", "hier_alibi") else 1.0
    )
    options = set(cls.option_names())
    assert ("alibi_factor" in options) == cls.has_bias
    assert ("rope_theta" in options) == cls.rotary
    assert ("max_intra" in options) == cls.intra_table


def test_a_scheme_refuses_options_it_does_not_use():
    with pytest.raises(ConfigError, match=r"'rope' does not use option\(s\) alibi_factor"):
        get_scheme("rope", d_model=16, n_heads=2, alibi_factor=2.0)
    with pytest.raises(ConfigError, match="intra"):
        get_scheme("alibi", d_model=16, n_heads=2, intra="learned")


@pytest.mark.parametrize("name", ["rope", "bipe_rope", "hier_rope"])
def test_every_rotary_scheme_needs_an_even_head_dim(name):
    from bipe_core import ModelConfig

    with pytest.raises(ConfigError, match="even"):
        get_scheme(name, d_model=10, n_heads=2)
    with pytest.raises(ConfigError, match="even"):
        ModelConfig(vocab_size=16, d_model=10, n_heads=2, n_layers=1, scheme=name)


# ------------------------------------------------------------------ inner-order variants (issue 12)
def test_paper_schemes_give_the_logits_of_the_original_code():
    """bipe_rope and bipe_alibi are unchanged: logits equal those the original commit (9d850ca)
    gave for the same seeded tiny model (golden_bipe_logits.json, written with that code)."""
    import json
    from pathlib import Path

    from tests.bipe_core.tiny import tiny_model

    golden = json.loads((Path(__file__).parent / "golden_bipe_logits.json").read_text())
    ids = torch.tensor(golden["ids"])
    for name in ("bipe_rope", "bipe_alibi"):
        m = tiny_model(name, vocab_size=40, separator=9, level_separator=8, seed=0)
        with torch.no_grad():
            logits = m(ids)
        got = logits[:, :, :4].reshape(-1).double()
        assert (got - torch.tensor(golden[name], dtype=torch.float64)).abs().max() < 1e-6
        assert abs(float(logits.double().sum()) - golden[name + "_sum"]) < 1e-4


def test_bipe_rope_io_without_bands_is_bipe_rope_bit_for_bit():
    from tests.bipe_core.tiny import tiny_model

    ids = torch.randint(0, 40, (2, 30), generator=torch.Generator().manual_seed(3))
    ids[:, ::7] = 9
    kw = dict(vocab_size=40, separator=9, level_separator=8, seed=1)
    base = tiny_model("bipe_rope", **kw)
    io = tiny_model("bipe_rope_io", inner_frac=0.0, still_frac=0.0, **kw)
    with torch.no_grad():
        assert torch.equal(base(ids), io(ids))


def test_bipe_rope_io_bands_rotate_by_their_index():
    Dh = 16
    sch = get_scheme("bipe_rope_io", d_model=2 * Dh, n_heads=2, inner_frac=0.25, still_frac=0.25)
    assert sch.freq_level.tolist() == [0, 0, 1, 1, 1, 1, 2, 2]
    pos = _pos(T=20, seed=5)
    q, k = (torch.randn(2, 2, 20, Dh, dtype=torch.float64) for _ in range(2))

    def scores(p):
        return sch.rotate(q, p) @ sch.rotate(k, p).transpose(-1, -2)

    base = scores(pos)
    # relative in segment and in intra: shifting either index by a constant changes nothing
    shifted = Positions(pos.token + 50, pos.intra + 3, pos.segment + 11)
    assert torch.allclose(base, scores(shifted), atol=1e-9)
    # within one segment (equal segment index) the score now depends on the intra distance
    same = pos.segment[:, :, None] == pos.segment[:, None, :]
    plain = q @ k.transpose(-1, -2)
    differ = same & (pos.intra[:, :, None] != pos.intra[:, None, :])
    mask = differ[:, None].expand_as(base)
    assert not torch.allclose(base[mask], plain[mask])
    # the lowest quarter of pairs is never rotated: rotation leaves those coordinates alone
    rot = sch.rotate(q, shifted)
    half = Dh // 2
    for j in (6, 7):
        assert torch.equal(rot[..., j], q[..., j]) and torch.equal(
            rot[..., j + half], q[..., j + half]
        )
    token = get_scheme("bipe_rope_io", d_model=2 * Dh, n_heads=2, inner_index="token")
    moved = Positions(pos.token, pos.intra + 5, pos.segment)
    assert torch.allclose(
        token.rotate(q, pos) @ token.rotate(k, pos).transpose(-1, -2),
        token.rotate(q, moved) @ token.rotate(k, moved).transpose(-1, -2),
        atol=1e-9,
    )  # "token" mode ignores intra in rotation


def test_bipe_alibi_io_logits_equal_two_level_formula():
    H, Dh, T = 4, 16, 40
    sch = get_scheme("bipe_alibi_io", d_model=H * Dh, n_heads=H, intra_alibi_factor=2.0)
    pos = _pos(T=T, B=1, seed=7)
    q, k, v = (torch.randn(1, H, T, Dh, dtype=torch.float64) for _ in range(3))
    m = torch.tensor(alibi_slopes_list(H), dtype=torch.float64)[:, None, None]
    n, i = pos.segment[0].double(), pos.intra[0].double()
    bias = -96 * m * (n[:, None] - n[None, :]) - 2.0 * m * (i[:, None] - i[None, :])
    expected = _manual_attention(q, k, v, q @ k.transpose(-1, -2) / math.sqrt(Dh) + bias)
    idx = sch.bias_index(pos)
    got = attention(q.float(), k.float(), v.float(), slopes=sch.slopes, q_index=idx, k_index=idx)
    assert (got.double() - expected).abs().max() < 1e-5


@pytest.mark.parametrize(
    "options",
    [
        {"inner_frac": 1.5},
        {"inner_frac": 0.7, "still_frac": 0.5},
        {"inner_index": "segment"},
        {"still_frac": True},
    ],
)
def test_bipe_rope_io_bad_options_are_config_errors(options):
    with pytest.raises(ConfigError):
        get_scheme("bipe_rope_io", d_model=32, n_heads=2, **options)


def test_bipe_alibi_io_bad_factor_is_a_config_error():
    with pytest.raises(ConfigError, match="intra_alibi_factor"):
        get_scheme("bipe_alibi_io", d_model=32, n_heads=2, intra_alibi_factor=0)
