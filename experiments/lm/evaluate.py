"""Perplexity against evaluation length: non-overlapping blocks of 1x..8x the training length.

The protocol of the paper (Section 4.1): the evaluation split is one token stream; it is cut into
non-overlapping blocks of length L, every token of a block is predicted from the earlier tokens of
the same block only, and PPL = exp(mean loss over all predicted tokens). The same first
``eval_tokens`` tokens are scored at every length, so lengths differ only in how much context
each prediction sees. Positions inside a block are re-based as the model would compute them from
the block alone (first segment 0, first token intra 0).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch

from experiments.errors import ExperimentError
from experiments.lm.config import RunSpec, from_dict
from experiments.lm.data import check_same_data, corpus_tokens, data_fingerprints, run_stream
from experiments.lm.train import load_trained
from experiments.pipeline import TokenStream, blocks


class NonFiniteLossError(ExperimentError):
    """A loss came out NaN or infinite: no perplexity is recorded from it."""


@dataclass
class LengthResult:
    """Perplexity at one evaluation length."""

    length: int
    multiplier: float
    loss: float
    ppl: float
    blocks: int
    tokens: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def eval_budget(stream_len: int, lengths: list[int], eval_tokens: int, split: str = "test") -> int:
    """Tokens scored at every length: a multiple of the longest length, at most ``eval_tokens``.

    Raises ExperimentError when the split cannot fill even one block of the longest length.
    """
    longest = max(lengths)
    usable = stream_len - 1  # the last token has no next-token target
    if isinstance(eval_tokens, bool) or not isinstance(eval_tokens, int) or eval_tokens < longest:
        raise ExperimentError(
            f"eval_tokens={eval_tokens!r} cannot fill one block of the longest evaluation length "
            f"{longest}; use at least {longest}"
        )
    if usable < longest:
        raise ExperimentError(
            f"evaluation length {longest} needs at least {longest + 1} tokens but the {split} split "
            f"has {stream_len}; use smaller eval.multipliers or a shorter train.seq_len"
        )
    budget = min(eval_tokens, usable)
    return budget // longest * longest


@torch.no_grad()
def perplexity_at(
    model: torch.nn.Module,
    stream: TokenStream,
    length: int,
    budget: int,
    batch_size: int = 1,
    use_positions: bool = True,
) -> tuple[float, int]:
    """Mean loss over the first ``budget`` tokens cut into blocks of ``length``; (loss, blocks)."""
    if length < 1 or budget < length:
        raise ExperimentError(f"bad evaluation length {length} for a budget of {budget} tokens")
    total, count, n_blocks = 0.0, 0, 0
    plain = TokenStream(stream.ids, stream.doc_starts) if not use_positions else stream
    for x, y, pos in blocks(plain, length, budget, batch_size):
        total += float(model(x, y, positions=pos, reduction="sum"))
        count += y.numel()
        n_blocks += x.shape[0]
    return total / count, n_blocks


def perplexity_by_length(
    model: torch.nn.Module,
    stream: TokenStream,
    train_len: int,
    multipliers: list[int],
    eval_tokens: int,
    batch_size: int = 1,
    split: str = "test",
) -> list[LengthResult]:
    """Perplexity at every ``k * train_len`` (the paper: k = 1..8), same tokens at each length."""
    if not multipliers or any(
        isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in multipliers
    ):
        raise ExperimentError(
            f"evaluation multipliers must be positive integers (e.g. 1 2 4 8), got {multipliers!r}"
        )
    lengths = [int(k * train_len) for k in multipliers]
    budget = eval_budget(len(stream), lengths, eval_tokens, split)
    model.eval()
    results = []
    for k, length in zip(multipliers, lengths):
        t0 = time.perf_counter()
        # Long blocks cost memory: shrink the batch so every step holds about the same tokens.
        bs = max(1, batch_size * train_len // length)
        loss, blocks = perplexity_at(model, stream, length, budget, bs, stream.segment is not None)
        if not math.isfinite(loss):
            raise NonFiniteLossError(f"the loss at evaluation length {length} is {loss}")
        results.append(
            LengthResult(
                length,
                float(k),
                loss,
                math.exp(min(loss, 50.0)),
                blocks,
                budget,
                time.perf_counter() - t0,
            )
        )
    return results


def evaluate_run(
    run_dir,
    cfg=None,
    cache_dir=None,
    split: str | None = None,
    multipliers: list[int] | None = None,
    eval_tokens: int | None = None,
) -> dict[str, Any]:
    """Load a trained run and measure perplexity against length on its corpus' eval split."""
    model, info = load_trained(run_dir)
    cfg = cfg or from_dict(info["experiment"])
    spec = RunSpec(**info["spec"])
    # The options replace the config's evaluation settings, and the result records them as run.
    given = {"split": split, "multipliers": multipliers, "eval_tokens": eval_tokens}
    cfg = from_dict({"eval": {k: v for k, v in given.items() if v is not None}}, cfg)
    e = cfg.eval
    split = e.split
    tokens = corpus_tokens(cfg, spec.corpus, cache_dir)
    if tokens.actual_vocab_size() != info.get("vocab_size"):
        raise ExperimentError(
            f"{run_dir}: the cached tokenizer has {tokens.actual_vocab_size()} tokens but the model "
            f"was trained with {info.get('vocab_size')}; was the cache directory changed?"
        )
    check_same_data(run_dir, info.get("data"), data_fingerprints(cfg, spec, tokens))
    stream = run_stream(cfg, spec, tokens, split)
    try:
        rows = perplexity_by_length(
            model, stream, cfg.train.seq_len, e.multipliers, e.eval_tokens, e.batch_size, split
        )
    except NonFiniteLossError as exc:
        raise NonFiniteLossError(
            f"{run_dir} ({spec.name}, step {info.get('step')}): {exc}; the checkpoint's weights "
            "are not finite or the model diverged, so no perplexity is recorded"
        ) from None
    return {
        "corpus": spec.corpus,
        "scheme": spec.scheme,
        "segmenter": spec.segmenter,
        "split": split,
        "eval_tokens": e.eval_tokens,
        "tokens_scored": rows[0].tokens,
        "multipliers": list(e.multipliers),
        "train_len": cfg.train.seq_len,
        "step": info.get("step"),
        "results": [r.to_dict() for r in rows],
    }
