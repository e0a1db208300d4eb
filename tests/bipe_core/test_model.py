"""DecoderLM and ModelConfig: shapes, configuration errors, bad input, padding, documents, parameter
counts, and the paper's definitions checked through the whole model."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from bipe_core import (
    BipeCoreError,
    ConfigError,
    DecoderLM,
    InputError,
    ModelConfig,
    ShapeError,
    UnknownSchemeError,
    list_schemes,
    positions_from_arrays,
)
from bipe_core.debug import set_debug
from tests.bipe_core.tiny import tiny_model

torch.set_num_threads(1)  # tiny matrices: threads only add overhead on a shared 2-core machine

V, SEP = 60, 5


def make(scheme: str = "bipe_alibi", seed: int = 0, **kw: object) -> DecoderLM:
    """A tiny fp32 model in eval mode."""
    return tiny_model(scheme, vocab_size=V, separator=SEP, level_separator=7, seed=seed, **kw)


# ---------------------------------------------------------------- config
def test_config_defaults_and_roundtrip() -> None:
    cfg = ModelConfig(vocab_size=100, d_model=64, n_layers=2, n_heads=4, scheme="bipe_alibi")
    assert cfg.n_kv_heads == 4 and cfg.max_intra == cfg.max_positions == 1024
    assert cfg.alibi_factor == 96.0  # the paper's multiplier is the bipe_alibi default
    assert cfg.ffn_hidden == 256  # LLaMA: 2/3 * 4 * 64 = 170 rounded up to 256
    assert (
        ModelConfig(vocab_size=9, d_model=8, n_layers=1, n_heads=2, scheme="alibi").alibi_factor
        == 1
    )
    back = ModelConfig.from_dict(cfg.to_dict())
    assert back == cfg


def test_config_unknown_scheme_lists_choices() -> None:
    with pytest.raises(UnknownSchemeError) as err:
        ModelConfig(vocab_size=10, d_model=8, n_layers=1, n_heads=2, scheme="bipe_ropee")
    for name in list_schemes():
        assert name in str(err.value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"d_model": 30}, "n_heads"),
        ({"n_layers": 0}, "n_layers"),
        ({"vocab_size": -1}, "vocab_size"),
        ({"n_kv_heads": 3}, "n_kv_heads"),
        ({"intra": "fourier"}, "intra"),
        ({"overflow": "wrap"}, "overflow"),
        ({"dropout": 1.5}, "dropout"),
        ({"separator_ids": [500]}, "separator id 500"),
        ({"rope_scaling": {"type": "magic", "factor": 2.0}}, "rope_scaling"),
        ({"norm_eps": float("nan")}, "norm_eps"),
    ],
)
def test_config_errors_name_the_field(changes: dict, field: str) -> None:
    base = dict(vocab_size=100, d_model=32, n_layers=2, n_heads=4, scheme="bipe_rope")
    with pytest.raises(ConfigError, match=field):
        ModelConfig(**{**base, **changes})


def test_config_from_dict_rejects_unknown_and_missing_keys() -> None:
    good = ModelConfig(vocab_size=10, d_model=8, n_layers=1, n_heads=2).to_dict()
    with pytest.raises(ConfigError, match="d_modle"):
        ModelConfig.from_dict({**good, "d_modle": 3})
    del good["vocab_size"]
    with pytest.raises(ConfigError, match="vocab_size"):
        ModelConfig.from_dict(good)


def test_hier_scheme_needs_levels() -> None:
    with pytest.raises(ConfigError, match="level_separator_ids"):
        DecoderLM(ModelConfig(vocab_size=10, d_model=8, n_layers=1, n_heads=2, scheme="hier_alibi"))


def test_n_levels_sizes_hier_schemes_for_array_positions() -> None:
    base = dict(vocab_size=10, d_model=16, n_layers=1, n_heads=2, scheme="hier_rope")
    model = DecoderLM(ModelConfig(**base, n_levels=3)).eval()
    assert model.pos.n_levels == 3 and model.config.segment_levels == 3
    ids = torch.randint(0, 10, (1, 6))
    levels = torch.tensor([[0, 0, 0], [0, 0, 1], [0, 1, 2], [0, 1, 2], [1, 2, 3], [1, 2, 4]])
    pos = positions_from_arrays([0, 0, 0, 1, 0, 0], levels[:, -1], levels=levels)
    assert model(ids, positions=pos).shape == (1, 6, 10)
    with pytest.raises(BipeCoreError, match=r"n_levels=3 but Positions\.levels has 2 columns"):
        model(ids, positions=positions_from_arrays([0] * 6, levels[:, -1], levels=levels[:, 1:]))
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ConfigError, match="n_levels"):
            ModelConfig(**base, n_levels=bad)
    with pytest.raises(ConfigError, match="disagrees"):
        ModelConfig(**base, n_levels=3, level_separator_ids=[[5]])
    # a config saved before n_levels existed loads, and derives the count from its separators
    old = ModelConfig(**base, separator_ids=[4], level_separator_ids=[[5]]).to_dict()
    del old["n_levels"]
    assert ModelConfig.from_dict(old).segment_levels == 2


# ---------------------------------------------------------------- forward and bad input
@pytest.mark.parametrize("scheme", list_schemes())
def test_forward_shape_and_grad(scheme: str) -> None:
    model = make(scheme).train()
    ids = torch.randint(0, V, (2, 12))
    logits = model(ids)
    assert logits.shape == (2, 12, V) and torch.isfinite(logits).all()
    model.loss(ids).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_bad_inputs_raise_typed_errors() -> None:
    model = make()
    with pytest.raises(InputError, match=rf"token id {V + 3} .*vocab_size={V}"):
        model(torch.tensor([[1, 2, V + 3]]))
    with pytest.raises(InputError, match="-1"):
        model(torch.tensor([[1, -1]]))
    with pytest.raises(InputError, match="empty"):
        model(torch.zeros(0, 4, dtype=torch.long))
    with pytest.raises(InputError, match="empty"):
        model(torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(ShapeError, match="batch, length"):
        model(torch.tensor([1, 2, 3]))
    with pytest.raises(ShapeError, match="integer"):
        model(torch.rand(1, 3))
    with pytest.raises(ShapeError, match="attention_mask"):
        model(torch.ones(2, 3, dtype=torch.long), attention_mask=torch.ones(2, 4))
    with pytest.raises(ShapeError, match="positions"):
        model(
            torch.ones(1, 3, dtype=torch.long), positions=model.positions(torch.ones(1, 4).long())
        )
    with pytest.raises(InputError, match="Positions"):
        bad: object = {"intra": [0, 1, 2]}
        model(torch.ones(1, 3, dtype=torch.long), positions=bad)  # type: ignore[arg-type]


def test_debug_mode_detects_nan() -> None:
    model = make(debug=True)
    with torch.no_grad():
        model.tok_emb.weight[3, 0] = float("nan")
    ids = torch.tensor([[1, 2, 3]])
    with pytest.raises(InputError, match="NaN or inf"):
        model(ids)
    quiet = make()
    with torch.no_grad():
        quiet.tok_emb.weight[3, 0] = float("nan")
    assert torch.isnan(quiet(ids)).any()  # off by default: no cost, no check
    set_debug(True)
    try:
        with pytest.raises(InputError):
            quiet(ids)
    finally:
        set_debug(False)


def test_loss_matches_manual_cross_entropy() -> None:
    model = make("rope")
    ids = torch.randint(0, V, (2, 10))
    mask = torch.ones(2, 10, dtype=torch.long)
    mask[1, 7:] = 0
    logits = model(ids, attention_mask=mask)
    keep = mask[:, 1:].bool()
    want = F.cross_entropy(logits[:, :-1][keep], ids[:, 1:][keep])
    assert torch.allclose(model.loss(ids, attention_mask=mask), want, atol=1e-6)
    targets = torch.full_like(ids, -100)
    targets[:, 3] = 4
    want2 = F.cross_entropy(logits[:, 3], torch.tensor([4, 4]))
    assert torch.allclose(model.loss(ids, targets, attention_mask=mask), want2, atol=1e-6)


# ---------------------------------------------------------------- positions, padding, documents
def test_paper_worked_example_positions_through_model() -> None:
    # a b S c d e S f S S g  (paper digest 2.2, code semantics)
    a, b, c, d, e, f, g = 10, 11, 12, 13, 14, 15, 16
    ids = torch.tensor([[a, b, SEP, c, d, e, SEP, f, SEP, SEP, g]])
    pos = make().positions(ids)
    assert pos.intra.tolist() == [[0, 1, 2, 0, 1, 2, 3, 0, 1, 0, 0]]
    assert pos.segment.tolist() == [[0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 4]]
    assert pos.token.tolist() == [list(range(11))]


def test_explicit_positions_equal_derived() -> None:
    model = make("bipe_rope")
    ids = torch.tensor([[1, 2, SEP, 3, SEP, 4, 6, 7]])
    pos = model.positions(ids)
    explicit = positions_from_arrays(pos.intra[0].numpy(), pos.segment[0].numpy())
    assert torch.equal(model(ids), model(ids, positions=explicit))
    other = positions_from_arrays([0, 1, 2, 3, 4, 5, 6, 7], [0] * 8)  # no segments at all
    assert not torch.allclose(model(ids), model(ids, positions=other))
    # a document boundary given beside explicit positions still separates the documents
    docs = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 1]])
    pos_docs = model.positions(ids, document_ids=docs)
    bare = positions_from_arrays(pos_docs.intra, pos_docs.segment, token=pos_docs.token)
    assert torch.equal(model(ids, positions=bare, document_ids=docs), model(ids, document_ids=docs))


@pytest.mark.parametrize("scheme", list_schemes())
@pytest.mark.parametrize("side", ["left", "right"])
def test_padding_gives_each_row_its_own_logits(scheme: str, side: str) -> None:
    model = make(scheme)
    rows = [torch.tensor([1, 2, SEP, 3, 7, 4]), torch.tensor([8, SEP, 9])]
    T = 6
    ids = torch.zeros(2, T, dtype=torch.long)
    mask = torch.zeros(2, T, dtype=torch.long)
    spans = []
    for r, row in enumerate(rows):
        start = T - len(row) if side == "left" else 0
        ids[r, start : start + len(row)] = row
        mask[r, start : start + len(row)] = 1
        spans.append(slice(start, start + len(row)))
    batched = model(ids, attention_mask=mask)
    for r, row in enumerate(rows):
        alone = model(row[None])[0]
        assert torch.allclose(batched[r, spans[r]], alone, atol=1e-5)


@pytest.mark.parametrize("scheme", ["rope", "bipe_alibi", "bipe_rope", "learned"])
def test_packed_documents_equal_separate_runs(scheme: str) -> None:
    model = make(scheme)
    doc_a, doc_b = torch.tensor([1, 2, SEP, 3]), torch.tensor([4, SEP, 6, 7, 8])
    packed = torch.cat([doc_a, doc_b])[None]
    docs = torch.tensor([[0] * 4 + [1] * 5])
    out = model(packed, document_ids=docs)[0]
    assert torch.allclose(out[:4], model(doc_a[None])[0], atol=1e-5)
    assert torch.allclose(out[4:], model(doc_b[None])[0], atol=1e-5)


def test_intra_overflow_split_and_clamp_never_index_error() -> None:
    ids = torch.randint(6, V, (1, 40))  # one 40-token segment, table of 16 rows
    for overflow in ("split", "clamp"):
        model = make("bipe_alibi", max_intra=16, overflow=overflow)
        pos = model.positions(ids)
        assert int(pos.intra.max()) == 15
        assert torch.isfinite(model(ids)).all()
    split = make("bipe_alibi", max_intra=16, overflow="split").positions(ids)
    assert split.segment[0, 16] == 1 and split.intra[0, 16] == 0  # a new segment opens


# ---------------------------------------------------------------- parameters
def test_parameter_counts_and_tying() -> None:
    untied = make("bipe_rope")
    cfg = untied.config
    groups = untied.parameter_breakdown()
    D, F_, L = cfg.d_model, cfg.ffn_hidden, cfg.n_layers
    assert groups["token_embedding"] == V * D == groups["lm_head"]
    assert groups["positional"] == cfg.max_intra * D
    assert groups["attention"] == L * 4 * D * D and groups["mlp"] == L * 3 * D * F_
    assert groups["norms"] == (2 * L + 1) * D
    assert untied.num_parameters() == groups["total"] == sum(p.numel() for p in untied.parameters())
    assert untied.num_parameters(exclude_embeddings=True) == groups["total"] - V * D - 64 * D
    tied = make("bipe_rope", tie_embeddings=True)
    assert tied.lm_head.weight is tied.tok_emb.weight
    assert tied.num_parameters() == untied.num_parameters() - V * D
    gqa = make("rope", n_kv_heads=2)
    assert gqa.parameter_breakdown()["attention"] == 2 * (2 * 32 * 32 + 2 * 32 * 16)


# ---------------------------------------------------------------- the paper's formulas, whole model
def _paper_forward(model: DecoderLM, ids: torch.Tensor) -> torch.Tensor:
    """Naive re-implementation of the paper's model (code semantics) from the model's weights."""
    cfg = model.config
    intra, seg = _paper_bilevel_ids(ids[0].tolist(), set(cfg.separator_ids), cfg.max_intra)
    T, H, Dh = ids.shape[1], cfg.n_heads, cfg.head_dim
    x = model.tok_emb.weight[ids[0]] + model.pos.intra_embedding.weight[intra]
    segf = seg.double()
    for blk in model.blocks:
        h = blk.attn_norm(x)
        q = blk.attn.wq(h).view(T, H, Dh).transpose(0, 1).double()
        k = blk.attn.wk(h).view(T, H, Dh).transpose(0, 1).double()
        v = blk.attn.wv(h).view(T, H, Dh).transpose(0, 1).double()
        if cfg.scheme == "bipe_rope":  # rotate by the SEGMENT index, theta_j = 10000^(-2j/Dh)
            inv = 10000.0 ** (-torch.arange(0, Dh, 2, dtype=torch.float64) / Dh)
            ang = segf[:, None] * inv[None]
            cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)

            def rot(
                t: torch.Tensor, cos: torch.Tensor = cos, sin: torch.Tensor = sin
            ) -> torch.Tensor:
                return t * cos + torch.cat([-t[..., Dh // 2 :], t[..., : Dh // 2]], -1) * sin

            q, k = rot(q), rot(k)
        scores = q @ k.transpose(-1, -2) / math.sqrt(Dh)
        if cfg.scheme == "bipe_alibi":  # + 96 * m_h * n(l'): the code's per-key form
            slopes = torch.tensor(_press_slopes(H), dtype=torch.float64) * 96
            scores = scores + slopes[:, None, None] * segf[None, None, :]
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        att = scores.masked_fill(~causal, float("-inf")).softmax(-1) @ v
        x = x + blk.attn.wo(att.transpose(0, 1).reshape(T, H * Dh).float())
        x = x + blk.mlp(blk.mlp_norm(x))
    return model.lm_head(model.norm(x))[None]


def _paper_bilevel_ids(
    ids: list[int], seps: set[int], table: int
) -> tuple[torch.Tensor, torch.Tensor]:
    intra, seg, i, s = [], [], 0, 0
    for tok in ids:
        intra.append(min(i, table - 1))
        seg.append(s)
        i += 1
        if tok in seps:
            i, s = 0, s + 1
    return torch.tensor(intra), torch.tensor(seg)


def _press_slopes(n: int) -> list[float]:
    def p2(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(n).is_integer():
        return p2(n)
    c = 2 ** math.floor(math.log2(n))
    return p2(c) + _press_slopes(2 * c)[0::2][: n - c]


@pytest.mark.parametrize("scheme", ["bipe_alibi", "bipe_rope"])
@pytest.mark.parametrize("n_heads", [4, 6])
def test_model_equals_paper_formula(scheme: str, n_heads: int) -> None:
    model = make(scheme, d_model=48, n_heads=n_heads, overflow="clamp", max_intra=8)
    torch.manual_seed(1)
    ids = torch.randint(0, V, (1, 30))
    ids[0, [3, 4, 9, 20]] = SEP  # includes "S S" and an over-long last segment (clamped at 7)
    with torch.no_grad():
        assert torch.allclose(model(ids), _paper_forward(model, ids), atol=1e-5)


def test_forward_with_targets_is_the_one_loss():

    torch.manual_seed(0)
    model = DecoderLM(ModelConfig(vocab_size=50, d_model=16, n_layers=1, n_heads=2, scheme="alibi"))
    ids = torch.randint(0, 50, (2, 9))
    targets = torch.randint(0, 50, (2, 9))
    targets[0, 3] = -100
    logits = model(ids)
    flat = logits.reshape(-1, 50).float()
    assert torch.equal(model(ids, targets), F.cross_entropy(flat, targets.reshape(-1)))
    want_sum = F.cross_entropy(flat, targets.reshape(-1), reduction="sum")
    assert torch.equal(model(ids, targets, reduction="sum"), want_sum)
    with pytest.raises(ShapeError, match="targets"):
        model(ids, targets[:, :4])


def test_float_targets_give_the_multi_label_loss_with_padding_left_out():
    torch.manual_seed(0)
    model = DecoderLM(ModelConfig(vocab_size=6, d_model=16, n_layers=1, n_heads=2, scheme="rope"))
    ids = torch.randint(0, 6, (2, 7))
    sets = (torch.rand(2, 7, 6) < 0.4).float()
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    logits = model(ids, attention_mask=mask)
    per = F.binary_cross_entropy_with_logits(logits, sets, reduction="none")
    keep = mask.bool()
    want = per[keep].mean()
    got = model(ids, sets, attention_mask=mask)
    assert torch.allclose(got, want, atol=1e-6)
    assert torch.allclose(model(ids, sets, attention_mask=mask, reduction="sum"), per[keep].sum())
    # padded rows do not count: changing their targets leaves the loss unchanged
    sets2 = sets.clone()
    sets2[1, 5:] = 1 - sets2[1, 5:]
    assert torch.equal(model(ids, sets2, attention_mask=mask), got)
    # the integer path is untouched: still exactly the cross-entropy
    labels = torch.randint(0, 6, (2, 7))
    assert torch.equal(
        model(ids, labels), F.cross_entropy(model(ids).reshape(-1, 6), labels.reshape(-1))
    )
    with pytest.raises(ShapeError, match="multi-label"):
        model(ids, sets[..., :4])


def test_intra_init_zeros_leaves_every_other_weight_as_normal_init():
    cfg = ModelConfig(vocab_size=40, d_model=16, n_layers=1, n_heads=2, scheme="bipe_alibi")
    torch.manual_seed(3)
    normal = DecoderLM(cfg).state_dict()
    torch.manual_seed(3)
    zeros = DecoderLM(cfg.replace(intra_init="zeros")).state_dict()
    assert torch.count_nonzero(zeros.pop("pos.intra_embedding.weight")) == 0
    normal.pop("pos.intra_embedding.weight")
    assert all(torch.equal(normal[k], zeros[k]) for k in normal)
