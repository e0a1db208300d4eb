"""Hugging Face LLaMA interop, checked against transformers' own LlamaForCausalLM on tiny random
models: plain LLaMA (rope, scaled rope), the paper's BiPE layout (rpe_type + learned intra table),
shards, .bin, export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from bipe_core import (
    CheckpointError,
    ConfigError,
    DecoderLM,
    ModelConfig,
    bilevel_ids,
    export_hf_llama,
    load_hf_llama,
)
from bipe_core.hf import config_from_hf

transformers = pytest.importorskip("transformers")  # optional extra: bipe[hf]

torch.set_num_threads(1)  # tiny matrices: threads only add overhead on a shared 2-core machine

SEPS = [5, 7]


def tiny_llama(tmp: Path, **kw: object) -> torch.nn.Module:
    """A random 2-layer LlamaForCausalLM saved to ``tmp`` (vocab 100, hidden 64, 4 heads)."""
    torch.manual_seed(0)
    fields = dict(
        vocab_size=100,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
    )
    fields.update(kw)
    ref = transformers.LlamaForCausalLM(transformers.LlamaConfig(**fields)).eval()
    ref.save_pretrained(tmp)
    return ref


def ids_with_separators() -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(8, 100, (2, 40), generator=g)
    ids[:, [3, 9, 10, 25]] = 5
    ids[0, 30] = 7
    return ids


def make_paper_layout(tmp: Path, rpe_type: str, train_scale: int = 64) -> torch.Tensor:
    """Turn a saved LLaMA into the paper's layout: config fields plus model.embeds.0.weight."""
    cfg = json.loads((tmp / "config.json").read_text())
    cfg.update(rpe_type=rpe_type, train_scale=train_scale, log_scale=False, bipe_separator_ids=SEPS)
    (tmp / "config.json").write_text(json.dumps(cfg))
    weights = load_file(str(tmp / "model.safetensors"))
    table = torch.randn(train_scale, 64, generator=torch.Generator().manual_seed(2)) * 0.02
    weights["model.embeds.0.weight"] = table
    save_file(weights, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    return table


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"num_key_value_heads": 2, "tie_word_embeddings": True, "rope_theta": 500.0},
        {"rope_parameters": {"rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0}},
        {
            "rope_parameters": {
                "rope_type": "yarn",
                "factor": 8.0,
                "original_max_position_embeddings": 16,
                "beta_fast": 16.0,
                "rope_theta": 500.0,
            }
        },
    ],
    ids=["plain", "gqa-tied-theta", "linear", "yarn"],
)
def test_plain_llama_logits_match_transformers(tmp_path: Path, variant: dict) -> None:
    ref = tiny_llama(tmp_path, **variant)
    ours = load_hf_llama(tmp_path)
    assert ours.config.scheme == "rope" and ours.config.separator_ids == ()
    ids = ids_with_separators()
    with torch.no_grad():
        assert (ref(ids).logits - ours(ids)).abs().max() < 1e-4
    export_hf_llama(ours, tmp_path / "back")  # and transformers reads our export the same way
    again = transformers.LlamaForCausalLM.from_pretrained(tmp_path / "back").eval()
    with torch.no_grad():
        assert (again(ids).logits - ours(ids)).abs().max() < 1e-4


def test_paper_bipe_rope_matches_transformers_with_intra_inputs(tmp_path: Path) -> None:
    ref = tiny_llama(tmp_path)
    table = make_paper_layout(tmp_path, "bipe_rope")
    ours = load_hf_llama(tmp_path)
    assert ours.config.scheme == "bipe_rope" and list(ours.config.separator_ids) == SEPS
    ids = ids_with_separators()
    intra, segment = bilevel_ids(ids, SEPS, 64)
    with torch.no_grad():
        embeds = ref.model.embed_tokens(ids) + table[intra]
        theirs = ref(inputs_embeds=embeds, position_ids=segment).logits
        assert (theirs - ours(ids)).abs().max() < 1e-4
        # the intra table matters: without it the logits differ
        plain = ref(inputs_embeds=ref.model.embed_tokens(ids), position_ids=segment).logits
        assert (plain - ours(ids)).abs().max() > 1e-3


@pytest.mark.parametrize("rpe_type", ["rope", "bipe_rope", "alibi", "bipe_alibi"])
def test_export_then_load_roundtrip(tmp_path: Path, rpe_type: str) -> None:
    torch.manual_seed(0)
    cfg = ModelConfig(
        vocab_size=100,
        d_model=64,
        n_layers=2,
        n_heads=4,
        scheme=rpe_type,
        separator_ids=SEPS if rpe_type.startswith("bipe") else [],
        max_positions=64,
        ffn_hidden=128,
    )
    model = DecoderLM(cfg).eval()
    export_hf_llama(model, tmp_path / "out")
    back = load_hf_llama(tmp_path / "out")
    ids = ids_with_separators()
    assert back.config.scheme == rpe_type
    assert back.config.alibi_factor == cfg.alibi_factor
    with torch.no_grad():
        assert torch.equal(back(ids), model(ids))
    if rpe_type == "rope":  # transformers itself reads our export
        ref = transformers.LlamaForCausalLM.from_pretrained(tmp_path / "out").eval()
        with torch.no_grad():
            assert (ref(ids).logits - model(ids)).abs().max() < 1e-4


def test_sharded_safetensors_and_pytorch_bin(tmp_path: Path) -> None:
    ref = tiny_llama(tmp_path / "shards", tie_word_embeddings=False)
    ref.save_pretrained(tmp_path / "shards", max_shard_size="40KB")
    assert (tmp_path / "shards" / "model.safetensors.index.json").is_file()
    ids = ids_with_separators()
    with torch.no_grad():
        want = ref(ids).logits
        assert (load_hf_llama(tmp_path / "shards")(ids) - want).abs().max() < 1e-4
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "config.json").write_text((tmp_path / "shards" / "config.json").read_text())
    torch.save(ref.state_dict(), bin_dir / "pytorch_model.bin")
    with torch.no_grad():
        assert (load_hf_llama(bin_dir)(ids) - want).abs().max() < 1e-4


def test_paper_config_defaults() -> None:
    paper = {
        "model_type": "llama",
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "vocab_size": 32000,
        "max_position_embeddings": 1024,
        "rms_norm_eps": 1e-5,
        "rope_scaling": None,
        "rpe_type": "bipe_alibi",
        "train_scale": 1024,
        "log_scale": False,
    }
    cfg = config_from_hf(paper)
    assert cfg.scheme == "bipe_alibi" and cfg.separator_ids == (869, 13)
    assert cfg.alibi_factor == 96.0 and cfg.max_intra == 1024 and cfg.overflow == "clamp"
    assert config_from_hf({**paper, "rpe_type": "rope"}).separator_ids == ()
    plain = {k: v for k, v in paper.items() if k not in ("rpe_type", "train_scale", "log_scale")}
    assert config_from_hf(plain).scheme == "rope"
    with pytest.raises(ConfigError, match="rpe_type"):
        config_from_hf({**paper, "rpe_type": "xpos"})
    with pytest.raises(ConfigError, match="log_scale"):
        config_from_hf({**paper, "log_scale": True})


def test_bad_directories(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"config\.json"):
        load_hf_llama(tmp_path)
    tiny_llama(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "hidden_act": "gelu"}))
    with pytest.raises(CheckpointError, match="hidden_act"):
        load_hf_llama(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    weights = load_file(str(tmp_path / "model.safetensors"))
    weights["model.mystery.weight"] = torch.zeros(3)
    save_file(weights, str(tmp_path / "model.safetensors"))
    with pytest.raises(CheckpointError, match="mystery"):
        load_hf_llama(tmp_path)
    del weights["model.mystery.weight"], weights["model.norm.weight"]
    save_file(weights, str(tmp_path / "model.safetensors"))
    with pytest.raises(CheckpointError, match=r"missing norm\.weight"):
        load_hf_llama(tmp_path)
    nope = DecoderLM(ModelConfig(vocab_size=10, d_model=8, n_layers=1, n_heads=2, scheme="nope"))
    with pytest.raises(ConfigError, match="exportable"):
        export_hf_llama(nope, tmp_path / "x")


def test_paper_bipe_alibi_layout_loads(tmp_path: Path) -> None:
    tiny_llama(tmp_path)
    table = make_paper_layout(tmp_path, "bipe_alibi")
    weights = load_file(str(tmp_path / "model.safetensors"))
    for i in range(2):  # the paper registers its ALiBi table as a persistent buffer: ignored
        weights[f"model.layers.{i}.self_attn.alibi"] = torch.zeros(1, 4, 1, 2048)
    save_file(weights, str(tmp_path / "model.safetensors"))
    ours = load_hf_llama(tmp_path)
    assert ours.config.scheme == "bipe_alibi" and ours.config.max_intra == 64
    assert torch.equal(ours.pos.intra_embedding.weight, table)
    press = torch.tensor([2**-2, 2**-4, 2**-6, 2**-8])  # 4 heads
    assert torch.allclose(ours.pos.slopes, 96 * press)
    assert torch.isfinite(ours(ids_with_separators())).all()
