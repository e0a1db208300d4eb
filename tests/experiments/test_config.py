"""Experiment configuration: presets, JSON files, overrides, and typed errors for bad keys."""

from __future__ import annotations

import json

import pytest

from experiments.errors import ExperimentError
from experiments.lm.config import (
    apply_overrides,
    from_dict,
    load_config,
    preset,
    presets,
    uses_segments,
)


@pytest.mark.parametrize("name", sorted(presets()))
def test_presets_are_valid_and_fresh(name):
    a, b = preset(name), preset(name)
    a.train.steps += 1
    assert b.train.steps != a.train.steps  # each call returns an independent copy


def test_preset_sizes_match_their_purpose():
    gpu = preset("gpu-paper")
    assert (gpu.model["n_layers"], gpu.model["d_model"], gpu.model["n_heads"]) == (12, 768, 12)
    assert gpu.train.seq_len == 1024 and max(gpu.eval.multipliers) == 8
    small = preset("cpu-small")
    assert small.model["d_model"] == 128 and small.train.seq_len in (128, 256)
    assert {"rope", "alibi", "bipe_rope", "bipe_alibi"} <= set(small.schemes)


def test_unknown_keys_raise_and_name_the_valid_ones(tmp_path):
    with pytest.raises(ExperimentError, match=r"unknown config key 'train\.stepz'.*steps"):
        apply_overrides(preset("tiny"), ["train.stepz=3"])
    with pytest.raises(ExperimentError, match="unknown config key 'colour'"):
        from_dict({"colour": "red"})
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"model": {"d_model": 64, "depth": 3}}))
    with pytest.raises(ExperimentError, match=r"model\.depth"):
        load_config("tiny", path)


def test_overrides_and_files_are_typed(tmp_path):
    cfg = apply_overrides(
        preset("tiny"),
        [
            "train.steps=7",
            "train.lr=0.01",
            "eval.multipliers=1,3",
            "schemes=rope,bipe_alibi",
            "train.progress=false",
            "model.alibi_factor=8",
            "data.max_docs=null",
        ],
    )
    assert (cfg.train.steps, cfg.train.lr, cfg.eval.multipliers) == (7, 0.01, [1, 3])
    assert cfg.schemes == ["rope", "bipe_alibi"] and cfg.train.progress is False
    assert cfg.model["alibi_factor"] == 8 and cfg.data.max_docs is None
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"train": {"steps": 3}, "data": {"corpora": ["kjv"]}}))
    cfg = load_config("cpu-small", path, ["train.seq_len=64"])
    assert (cfg.train.steps, cfg.data.corpora, cfg.train.seq_len) == (3, ["kjv"], 64)
    assert cfg.model["d_model"] == 128  # the rest of the preset is kept


@pytest.mark.parametrize(
    "override, word",
    [
        ("train.steps=0", "train.steps"),
        ("train.steps=ten", "integer"),
        ("eval.multipliers=0,2", "multipliers"),
        ("data.vocab_size=100", "vocab_size"),
        ("train.progress=maybe", "true or false"),
        ("eval.split=dev", "eval.split"),
        ("model.intra_init=ones", "intra_init"),
        ("nokey", "key=value"),
    ],
)
def test_bad_values_raise(override, word):
    with pytest.raises(ExperimentError, match=word):
        apply_overrides(preset("tiny"), [override])


def test_bad_files_raise(tmp_path):
    with pytest.raises(ExperimentError, match="cannot read"):
        load_config("tiny", tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ExperimentError, match="cannot read"):
        load_config("tiny", bad)
    with pytest.raises(ExperimentError, match="unknown preset"):
        preset("huge")


def test_baselines_need_no_segments():
    assert not uses_segments("rope") and not uses_segments("alibi")
    assert uses_segments("bipe_rope") and uses_segments("bipe_alibi")


def test_model_section_holds_modelconfig_overrides_judged_by_modelconfig():
    from bipe_core import ModelConfig
    from experiments.lm.config import model_config

    cfg = apply_overrides(preset("tiny"), ["model.rope_theta=500", "model.intra=sinusoidal"])
    mc = model_config(cfg, "bipe_rope", 300)
    assert isinstance(mc, ModelConfig)
    assert (mc.rope_theta, mc.intra, mc.vocab_size, mc.scheme) == (
        500,
        "sinusoidal",
        300,
        "bipe_rope",
    )
    assert mc.max_positions == mc.max_intra == cfg.train.seq_len  # the paper: the training length
    with pytest.raises(ExperimentError, match="rope_theta"):
        apply_overrides(preset("tiny"), ["model.rope_theta=0.5"])
    with pytest.raises(ExperimentError, match=r"unknown config key 'model\.vocab_size'"):
        apply_overrides(preset("tiny"), ["model.vocab_size=99"])
    with pytest.raises(ExperimentError, match="n_heads"):
        apply_overrides(preset("tiny"), ["model.n_heads=3"])  # 64 is not divisible by 3


def test_segmenter_lists_keep_spec_options_together():
    cfg = apply_overrides(preset("tiny"), ["segmenters=punct,fixed:size=120,unit=chars,sep"])
    assert cfg.segmenters == ["punct", "fixed:size=120,unit=chars", "sep"]
