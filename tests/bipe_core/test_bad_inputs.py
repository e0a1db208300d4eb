"""Issue 11: bad inputs to the core API raise typed errors that name the real problem."""

from __future__ import annotations

import pytest
import torch

from bipe_core import DecoderLM, ModelConfig
from bipe_core.errors import BipeCoreError, ConfigError, InputError
from bipe_core.positions import bilevel_ids, positions_from_arrays


@pytest.mark.parametrize("shape", [(1, 0), (3, 0)])
def test_bilevel_ids_of_an_empty_batch_is_empty(shape):
    intra, segment = bilevel_ids(torch.zeros(shape, dtype=torch.long), [1])
    assert intra.shape == segment.shape == shape
    assert intra.dtype == segment.dtype == torch.long


def test_bad_d_model_is_blamed_alone():
    with pytest.raises(ConfigError) as info:
        ModelConfig(vocab_size=50, d_model="64", n_layers=1, n_heads=2)
    assert "d_model='64'" in str(info.value) and "ffn_hidden" not in str(info.value)


@pytest.mark.parametrize("scheme", ["bipe_rope", "bipe_alibi"])
def test_bipe_model_without_separators_needs_explicit_positions(scheme):
    cfg = ModelConfig(vocab_size=50, d_model=16, n_layers=1, n_heads=2, scheme=scheme)
    model = DecoderLM(cfg).eval()  # building is fine: experiments always pass positions
    ids = torch.tensor([[1, 2, 3, 4]])
    with pytest.raises(InputError, match="separator_ids") as info:
        model(ids)
    assert isinstance(info.value, BipeCoreError)
    pos = positions_from_arrays(intra=[[0, 1, 0, 1]], segment=[[0, 0, 1, 1]])
    assert model(ids, positions=pos).shape == (1, 4, 50)


def test_plain_schemes_need_no_separators():
    model = DecoderLM(ModelConfig(vocab_size=50, d_model=16, n_layers=1, n_heads=2, scheme="rope"))
    assert model(torch.tensor([[1, 2, 3]])).shape == (1, 3, 50)
