"""A tiny real DecoderLM shared by the model, cache and checkpoint tests."""

from __future__ import annotations

import torch

from bipe_core import DecoderLM, ModelConfig


def tiny_model(
    scheme: str,
    *,
    vocab_size: int,
    separator: int,
    level_separator: int,
    max_positions: int = 64,
    seed: int = 0,
    **kw: object,
) -> DecoderLM:
    """A seeded 2-layer fp32 model in eval mode; ``hier*`` levels split at ``level_separator``."""
    torch.manual_seed(seed)
    fields: dict[str, object] = dict(
        vocab_size=vocab_size,
        d_model=32,
        n_layers=2,
        n_heads=4,
        scheme=scheme,
        separator_ids=[separator],
        max_positions=max_positions,
    )
    if scheme.startswith("hier"):
        fields["level_separator_ids"] = [[level_separator]]
    fields.update(kw)
    return DecoderLM(ModelConfig(**fields)).eval()
