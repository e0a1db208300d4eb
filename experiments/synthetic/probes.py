"""Linear probes: which automaton state can be read linearly from each layer's hidden states?

For every layer (0 = the input embeddings with the absolute positional part, i = after block i) a
ridge-regression probe onto the one-hot state is fitted on the tokens of the first half of the
words and scored on the second half, for the sampler's top state, bottom state (type, state) and
flat DFA state. A BiPE model that keeps the bilevel state in separable parts should reach top and
bottom states with a small width where the flat state (their product) needs more.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from experiments.synthetic.words import to_tensors

PROBE_TARGETS = ("top", "bottom", "flat")


def layer_states(model: Any, ids: Any, positions: Any) -> list[np.ndarray]:
    """Hidden states (B, T, D) at the input of the first block and after every block."""
    import torch

    seen: list[Any] = []
    hooks = [model.blocks[0].register_forward_pre_hook(lambda m, a: seen.append(a[0].detach()))]
    hooks += [
        b.register_forward_hook(lambda m, a, o: seen.append(o.detach())) for b in model.blocks
    ]
    try:
        model.eval()
        with torch.no_grad():
            model(ids, positions=positions)
    finally:
        for h in hooks:
            h.remove()
    return [s.float().numpy() for s in seen]


def ridge_probe(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    l2: float = 1e-2,
) -> float:
    """Test accuracy of a ridge regression onto one-hot labels (argmax decides the class)."""
    classes, y_idx = np.unique(y_train, return_inverse=True)
    mu, sd = x_train.mean(0), x_train.std(0) + 1e-6
    a = np.hstack([(x_train - mu) / sd, np.ones((len(x_train), 1))])
    b = np.hstack([(x_test - mu) / sd, np.ones((len(x_test), 1))])
    onehot = np.eye(len(classes))[y_idx]
    w = np.linalg.solve(a.T @ a + l2 * len(a) * np.eye(a.shape[1]), a.T @ onehot)
    pred = classes[(b @ w).argmax(1)]
    return float((pred == y_test).mean())


def probe_layers(model: Any, batch: Any) -> list[dict[str, Any]]:
    """Probe accuracy per (layer, target) on a WordBatch, beside the majority-class baseline."""
    ids, _, pos = to_tensors(batch)
    states = layer_states(model, ids, pos)
    half = batch.ids.shape[0] // 2
    train, test = batch.mask.copy(), batch.mask.copy()
    train[half:], test[:half] = False, False
    rows = []
    for target in PROBE_TARGETS:
        y = batch.states[target]
        values, counts = np.unique(y[train], return_counts=True)
        baseline = float((y[test] == values[counts.argmax()]).mean())
        for layer, h in enumerate(states):
            acc = ridge_probe(h[train], y[train], h[test], y[test])
            rows.append(
                {
                    "layer": layer,
                    "target": target,
                    "acc": round(acc, 4),
                    "baseline": round(baseline, 4),
                    "classes": len(values),
                }
            )
    return rows
