"""Evaluation: non-overlapping blocks, PPL = exp(mean loss), same tokens at every length, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from experiments.errors import ExperimentError
from experiments.lm.config import RunSpec
from experiments.lm.data import prepare_data
from experiments.lm.evaluate import eval_budget, evaluate_run, perplexity_at, perplexity_by_length
from experiments.lm.train import build_model, train_run
from experiments.pipeline import TokenStream, window_positions


def test_budget_is_a_multiple_of_the_longest_length_and_errors_when_too_short():
    assert eval_budget(1000, [32, 64, 256], 600) == 512
    assert eval_budget(1000, [32, 64], 10_000) == 960  # capped by the 999 usable tokens
    with pytest.raises(ExperimentError, match=r"evaluation length 1024 needs at least 1025 tokens"):
        eval_budget(1000, [128, 1024], 4096)


@pytest.mark.parametrize(
    "scheme, segmenter", [("rope", None), ("bipe_rope", "sep"), ("bipe_alibi", "punct")]
)
def test_ppl_is_exp_of_the_mean_loss_over_independent_blocks(micro, cache_dir, scheme, segmenter):
    cfg = micro()
    data = prepare_data(cfg, RunSpec("sample", scheme, segmenter), cache_dir, splits=("test",))
    stream = (
        data.tokens.stream("test", segmenter, cfg.train.seq_len)
        if segmenter
        else data.tokens.stream("test")
    )
    torch.manual_seed(0)
    model = build_model(cfg, scheme, data.vocab_size).eval()
    loss, blocks = perplexity_at(model, stream, 64, 256, batch_size=3)
    assert blocks == 4
    # reference: each block on its own, positions recomputed from the block alone
    total = 0.0
    with torch.no_grad():
        for s in range(0, 256, 64):
            x = torch.from_numpy(stream.ids[s : s + 64].astype(np.int64))[None]
            y = torch.from_numpy(stream.ids[s + 1 : s + 65].astype(np.int64))[None]
            pos = None
            if segmenter:
                from bipe_core.positions import positions_from_arrays

                intra, seg = window_positions(
                    stream.intra[s : s + 64].astype(np.int64), stream.segment[s : s + 64]
                )
                assert seg[0] == 0 and intra[0] == 0
                pos = positions_from_arrays(intra, seg)
            total += float(F.cross_entropy(model(x, positions=pos)[0], y[0], reduction="sum"))
    assert loss == pytest.approx(total / 256, rel=1e-5)


def test_every_length_scores_the_same_tokens(micro, cache_dir):
    cfg = micro()
    data = prepare_data(cfg, RunSpec("sample", "alibi"), cache_dir, splits=("test",))
    model = build_model(cfg, "alibi", data.vocab_size)
    rows = perplexity_by_length(model, data.tokens.stream("test"), 32, [1, 2, 4], 300)
    assert [r.length for r in rows] == [32, 64, 128]
    assert {r.tokens for r in rows} == {256} and [r.blocks for r in rows] == [8, 4, 2]
    assert all(r.ppl == pytest.approx(math.exp(r.loss)) for r in rows)
    with pytest.raises(ExperimentError, match="needs at least"):
        perplexity_by_length(
            model, TokenStream(np.zeros(100, np.int32), np.zeros(1, np.int64)), 32, [1, 4], 300
        )


def test_evaluate_run_reads_a_trained_checkpoint(micro, cache_dir, tmp_path):
    cfg = micro(steps=2)
    train_run(cfg, RunSpec("sample", "bipe_alibi", "sep"), tmp_path / "run", cache_dir=cache_dir)
    ev = evaluate_run(tmp_path / "run", cache_dir=cache_dir, multipliers=[1, 2])
    assert (ev["scheme"], ev["segmenter"], ev["step"], ev["train_len"]) == (
        "bipe_alibi",
        "sep",
        2,
        32,
    )
    assert [r["length"] for r in ev["results"]] == [32, 64]
    assert all(r["ppl"] > 1 for r in ev["results"])
