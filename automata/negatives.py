"""Negative examples for Bi-NFA languages: one-edit perturbations and segments of the wrong type.

Every returned word is checked to be rejected by the flat language (a membership test through the
sampler's on-the-fly DFA), so negatives are never accidentally positive.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from automata.exceptions import AutomataInputError
from automata.samplers import HierarchicalSampler, Sample


def one_edit_negatives(
    sampler: HierarchicalSampler, tokens: Sequence[Hashable], n: int, seed: int = 0
) -> list[dict[str, Any]]:
    """Up to `n` distinct rejected words one substitution, insertion or deletion away from `tokens`."""
    binfa = sampler.binfa
    ids = binfa.symbol_ids
    try:
        word = [ids[t] for t in tokens]
    except KeyError as exc:
        raise AutomataInputError(f"token {exc.args[0]!r} is not a symbol of the Bi-NFA") from None
    rng = np.random.default_rng(seed)
    n_sym = len(binfa.symbols)
    seen: set[tuple[int, ...]] = set()
    out: list[dict[str, Any]] = []
    for _ in range(50 * max(n, 1)):
        if len(out) >= n:
            break
        kind = ("substitute", "insert", "delete")[int(rng.integers(3))]
        if kind != "insert" and not word:
            continue
        pos = int(rng.integers(len(word) + (kind == "insert")))
        new = list(word)
        if kind == "substitute":
            new[pos] = (
                int((word[pos] + 1 + rng.integers(n_sym - 1)) % n_sym) if n_sym > 1 else word[pos]
            )
        elif kind == "insert":
            new.insert(pos, int(rng.integers(n_sym)))
        else:
            del new[pos]
        key = tuple(new)
        if key in seen or sampler.flat.accepts_ids(new):
            continue
        seen.add(key)
        out.append(
            {
                "tokens": [str(binfa.symbols[a]) for a in new],
                "kind": kind,
                "position": pos,
                "label": 0,
            }
        )
    return out


def wrong_type_negatives(
    sampler: HierarchicalSampler, sample: Sample, n: int, seed: int = 0
) -> list[dict[str, Any]]:
    """Up to `n` words where one segment is replaced by a word of another type, invalid for its own.

    The claimed per-token types stay those of `sample`, so the (word, types) pair is always wrong;
    `in_language` says whether the word itself is still accepted (it is when the top automaton lets
    the other type stand there, e.g. a one-state top).
    """
    binfa = sampler.binfa
    rng = np.random.default_rng(seed)
    n_types = len(binfa.types)
    bounds = np.flatnonzero(sample.ids == sampler.sep)
    out: list[dict[str, Any]] = []
    if n_types < 2 or not bounds.size:
        return out
    starts = np.concatenate([[0], bounds[:-1] + 1])
    words = sample.ids.tolist()
    bottoms = binfa.int_bottoms
    seen: set[tuple[int, ...]] = set()
    for _ in range(20 * max(n, 1)):
        if len(out) >= n:
            break
        i = int(rng.integers(bounds.size))
        true_t = sample.segment_types[i]
        other = int((true_t + 1 + rng.integers(n_types - 1)) % n_types)
        if not sampler.lengths[other]:
            continue
        length = sampler.lengths[other][int(rng.integers(len(sampler.lengths[other])))]
        seg, _ = sampler.bottoms[other].draw(length, rng.random(length).tolist())
        if bottoms[true_t].accepts_ids(seg):
            continue  # also valid for its own type: not a negative
        new = words[: starts[i]] + seg + words[bounds[i] :]
        types = [int(t) for t in sample.type_id[: starts[i]]]
        types += [true_t] * (length + 1) + [int(t) for t in sample.type_id[bounds[i] + 1 :]]
        if tuple(new) in seen:
            continue
        seen.add(tuple(new))
        out.append(
            {
                "tokens": [str(binfa.symbols[a]) for a in new],
                "types": [str(binfa.types[t]) for t in types],
                "kind": "wrong-type",
                "segment": i,
                "true_type": str(binfa.types[true_t]),
                "used_type": str(binfa.types[other]),
                "in_language": sampler.flat.accepts_ids(new),
                "label": 0,
            }
        )
    return out
