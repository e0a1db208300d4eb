"""Hierarchies end to end: nested specs -> cached levels -> re-based windows -> hier_* models."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from experiments.corpora import load_corpus
from experiments.errors import ExperimentError
from experiments.lm.config import RunSpec, model_config, run_specs
from experiments.pipeline import CorpusTokens, batch_at, window_levels, window_positions

PROSE = "punct:lines=true@line > punct:terminals=.;:?!,lowercase_next=false"


@pytest.fixture(scope="module")
def stream(cache_dir):
    return CorpusTokens(load_corpus("sample"), 300, cache_dir).stream("train", PROSE, max_intra=16)


def test_a_nested_stream_carries_nested_levels_with_the_segment_last(stream, cache_dir):
    lv = stream.levels
    assert lv.shape == (len(stream), 2) and lv.dtype == np.int64
    assert np.array_equal(lv[:, -1], stream.segment) and stream.intra.max() < 16
    assert np.all(np.diff(lv, axis=0) >= 0)
    # a new coarse segment always opens a new fine one (nesting), never the reverse
    coarse_up, fine_up = np.diff(lv[:, 0]) > 0, np.diff(lv[:, 1]) > 0
    assert np.all(fine_up[coarse_up]) and fine_up.sum() > coarse_up.sum() > 0
    first = stream.doc_starts[1]  # every document opens a new segment at every level
    assert np.all(lv[first] == lv[first - 1] + 1)
    # the finest level equals the flat spec's own positions (the clause segmenter cut at lines)
    cached = CorpusTokens(load_corpus("sample"), 300, cache_dir).stream("train", PROSE, 16)
    assert np.array_equal(cached.levels, lv)  # read back from the cache


def test_windows_re_base_every_level(stream):
    _, _, pos = batch_at(stream, step=3, seed=0, batch_size=4, seq_len=48)
    assert pos.levels.shape == (4, 48, 2)
    assert torch.all(pos.levels[:, 0] == 0) and torch.equal(pos.levels[..., -1], pos.segment)
    starts = np.random.default_rng([0, 3]).integers(0, len(stream) - 49, size=4)
    for row, s in enumerate(starts):
        raw = stream.levels[s : s + 48]
        assert np.array_equal(pos.levels[row].numpy(), window_levels(raw))
        _, seg = window_positions(
            stream.intra[s : s + 48].astype(np.int64), stream.segment[s : s + 48]
        )
        assert np.array_equal(pos.segment[row].numpy(), seg)


def test_hier_schemes_get_n_levels_from_the_nested_spec(micro):
    cfg = micro()
    assert model_config(cfg, "hier_rope", 300, PROSE).n_levels == 2
    assert model_config(cfg, "bipe_rope", 300, PROSE).n_levels is None
    with pytest.raises(ExperimentError, match="nested segmenter"):
        model_config(cfg, "hier_alibi", 300, "punct")
    cfg.model["n_levels"] = 3
    with pytest.raises(ExperimentError, match="2 levels"):
        model_config(cfg, "hier_rope", 300, PROSE)


def test_the_grid_runs_hier_schemes_only_with_nested_specs(micro):
    cfg = dataclasses.replace(micro(), schemes=["rope", "bipe_rope", "hier_rope"])
    cfg.segmenters = ["punct", PROSE]
    assert run_specs(cfg) == [
        RunSpec("sample", "rope", None),
        RunSpec("sample", "bipe_rope", "punct"),
        RunSpec("sample", "bipe_rope", PROSE),
        RunSpec("sample", "hier_rope", PROSE),
    ]
    cfg.segmenters = ["punct"]
    with pytest.raises(ExperimentError, match="nested segmenter"):
        cfg.validate()


@pytest.mark.parametrize("scheme", ["hier_rope", "hier_alibi"])
def test_a_hier_run_trains_evaluates_and_uses_the_outer_level(micro, cache_dir, tmp_path, scheme):
    from experiments.lm.evaluate import evaluate_run
    from experiments.lm.train import load_trained, train_run

    cfg = micro(steps=4)
    spec = RunSpec("sample", scheme, PROSE)
    res = train_run(cfg, spec, tmp_path / scheme, cache_dir=cache_dir)
    assert res.completed and np.isfinite(res.final_loss)
    model, info = load_trained(tmp_path / scheme)
    assert info["model_config"]["n_levels"] == 2 and model.pos.n_levels == 2
    ev = evaluate_run(tmp_path / scheme, cache_dir=cache_dir)
    assert [r["length"] for r in ev["results"]] == [32, 64, 128]
    # the outer level reaches the model: moving one line boundary changes the loss
    stream = CorpusTokens(load_corpus("sample"), 300, cache_dir).stream(
        "train", PROSE, 32, boundary="start"
    )
    x, y, pos = batch_at(stream, 0, 0, 2, 32)
    with torch.no_grad():
        model.pos.eval()
        base = float(model(x, y, positions=pos))
        moved = pos.levels.clone()
        moved[:, 16:, 0] += 1
        other = dataclasses.replace(pos, levels=moved)
        assert float(model(x, y, positions=other)) != pytest.approx(base, abs=1e-7)


def test_a_level_the_segmenter_does_not_have_is_a_typed_error(tmp_path):
    tokens = CorpusTokens(load_corpus("sample", max_docs=3), 260, tmp_path)
    with pytest.raises(ExperimentError, match=r"nested spec .*'nope'.*available: \['sentence'\]"):
        tokens.stream("train", "punct@nope > punct", max_intra=16)
