"""Bi-NFA words as tensors: sampled words padded into batches with their per-token labels (the
legal next symbols, the automaton states) and BiPE positions, and the fixed test words of an
automaton at every extrapolation factor.

Words come from `automata.samplers.HierarchicalSampler` (torch-free); tensors are built here. BiPE
positions are the sampler's own segment and intra arrays (`positions_from_arrays`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from experiments.synthetic.config import AutomatonSpec, SyntheticConfig, make_sampler

TEST_SEED = 10_007  # test words depend on the automaton and factor only, never on the cell


@dataclass
class WordBatch:
    """Sampled words padded to one length T, with per-token labels (numpy, torch-free)."""

    ids: np.ndarray  # (B, T) token ids (0 where padded)
    legal: np.ndarray  # (B, T, V) bool: legal next tokens after each position
    mask: np.ndarray  # (B, T) bool: real token
    segment: np.ndarray  # (B, T)
    intra: np.ndarray  # (B, T)
    states: dict[str, np.ndarray] = field(default_factory=dict)  # top / bottom / flat, (B, T)

    @property
    def tokens(self) -> int:
        """Real (unpadded) tokens in the batch."""
        return int(self.mask.sum())


def word_batch(samples: list[Any], n_symbols: int) -> WordBatch:
    """Pad annotated samples (automata.samplers.Sample) into one WordBatch."""
    B, T = len(samples), max(len(s.ids) for s in samples)
    ids = np.zeros((B, T), dtype=np.int64)
    legal = np.zeros((B, T, n_symbols), dtype=bool)
    mask = np.zeros((B, T), dtype=bool)
    segment = np.zeros((B, T), dtype=np.int64)
    intra = np.zeros((B, T), dtype=np.int64)
    states = {k: np.full((B, T), -1, dtype=np.int64) for k in ("top", "bottom", "flat")}
    for i, s in enumerate(samples):
        n = len(s.ids)
        ids[i, :n], legal[i, :n], mask[i, :n] = s.ids, s.legal_next, True
        segment[i, :n], intra[i, :n] = s.segment, s.intra
        states["top"][i, :n] = s.top_state
        # bottom DFA ids are per type: the bottom state is the (type, state) pair
        states["bottom"][i, :n] = s.type_id * 100_003 + s.bottom_state
        states["flat"][i, :n] = s.flat_state
    return WordBatch(ids, legal, mask, segment, intra, states)


def to_tensors(batch: WordBatch):  # -> (ids, targets, positions)
    """Torch inputs of a batch: ids (B, T), multi-hot float targets (B, T, V), BiPE positions."""
    import torch

    from bipe_core import positions_from_arrays

    pos = positions_from_arrays(batch.intra, batch.segment, attention_mask=batch.mask)
    ids = torch.from_numpy(batch.ids)
    return ids, torch.from_numpy(batch.legal).float(), pos


def test_words(cfg: SyntheticConfig, spec: AutomatonSpec, binfa: Any) -> dict[int, list[Any]]:
    """Per test factor, the fixed test words of an automaton (the same for every cell)."""
    out = {}
    for factor, rng in cfg.segment_ranges().items():
        sampler = make_sampler(
            cfg, spec, binfa, rng, seed=TEST_SEED * factor + spec.seed, what=f"factor {factor}"
        )
        out[factor] = [sampler.sample() for _ in range(cfg.task.test_words)]
    return out
