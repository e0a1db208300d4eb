"""Cached decoding against recomputing the whole prefix at a 2k-token context, side by side.

For each scheme (rope, bipe_rope, alibi, bipe_alibi) a tiny DecoderLM (d_model 128, 4 layers, 4
heads) is given a prompt of ``--context`` tokens with a separator about every 20 tokens, then
decodes ``--new`` tokens greedily two ways in the same run:

* cached:     one prefill of the prompt, then one single-token forward per new token (KV cache and
              segment state carried);
* recompute:  a full forward over the whole prefix for every new token (what the paper's released
              code must do: it has no cache for BiPE).

Reported: prefill time, decode tokens per second of each path (prefill excluded from the cached
rate), their ratio (target >= 10x), and whether both paths chose the same tokens.

    python benchmarks/decode.py            # 2048-token context, 32 new tokens
    python benchmarks/decode.py --quick    # same context, 6 new tokens
"""

from __future__ import annotations

import argparse
import time

import torch

from bipe_core import DecoderLM, ModelConfig

SCHEMES = ("rope", "bipe_rope", "alibi", "bipe_alibi")
VOCAB, SEPARATORS = 512, (1, 2)


def build(scheme: str, context: int, layers: int) -> DecoderLM:
    """A randomly initialised tiny model for ``scheme`` that accepts ``context`` tokens."""
    torch.manual_seed(0)
    cfg = ModelConfig(
        vocab_size=VOCAB,
        d_model=128,
        n_layers=layers,
        n_heads=4,
        scheme=scheme,
        separator_ids=list(SEPARATORS),
        max_positions=context + 64,
    )
    return DecoderLM(cfg).eval()


def make_prompt(context: int) -> torch.Tensor:
    """(1, context) random ids, about one separator every 20 tokens."""
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, VOCAB, (1, context), generator=g)
    seps = torch.rand(1, context, generator=g) < 0.05
    ids[seps] = SEPARATORS[0]
    return ids


@torch.no_grad()
def run_cached(model: DecoderLM, prompt: torch.Tensor, new: int) -> tuple[float, float, list[int]]:
    """(prefill seconds, decode seconds, tokens) of cached greedy decoding."""
    cache = model.new_cache(1, capacity=prompt.shape[1] + new)
    t0 = time.perf_counter()
    logits = model(prompt, cache=cache)[:, -1]
    t1 = time.perf_counter()
    tokens = []
    for _ in range(new):
        token = logits.argmax(-1)
        tokens.append(int(token))
        logits = model(token[:, None], cache=cache)[:, -1]
    return t1 - t0, time.perf_counter() - t1, tokens


@torch.no_grad()
def run_recompute(model: DecoderLM, prompt: torch.Tensor, new: int) -> tuple[float, list[int]]:
    """(seconds, tokens) of greedy decoding that re-runs the full prefix for every token."""
    seq, tokens = prompt, []
    t0 = time.perf_counter()
    for _ in range(new):
        token = model(seq)[:, -1].argmax(-1)
        tokens.append(int(token))
        seq = torch.cat([seq, token[:, None]], dim=1)
    return time.perf_counter() - t0, tokens


def main(argv: list[str] | None = None) -> int:
    """Print one row per scheme: prefill, cached and recompute tokens/s, ratio, tokens equal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 new tokens instead of 32")
    parser.add_argument("--context", type=int, default=2048)
    parser.add_argument("--new", type=int, default=32)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.quick:
        args.new = 6
    torch.set_num_threads(args.threads)
    prompt = make_prompt(args.context)
    print(
        f"context {args.context}, {args.new} new tokens, d_model 128, {args.layers} layers, "
        f"{args.threads} thread(s), torch {torch.__version__}"
    )
    print(
        f"{'scheme':<11} {'prefill s':>9} {'cached tok/s':>13} {'recompute tok/s':>16} "
        f"{'ratio':>7} {'same tokens':>11}"
    )
    ratios = []
    for scheme in SCHEMES:
        model = build(scheme, args.context, args.layers)
        run_cached(model, prompt[:, :64], 2)  # warm-up: first calls allocate
        prefill, decode, cached_tokens = run_cached(model, prompt, args.new)
        recompute, recomputed_tokens = run_recompute(model, prompt, args.new)
        cached_rate, recompute_rate = args.new / decode, args.new / recompute
        ratios.append(cached_rate / recompute_rate)
        print(
            f"{scheme:<11} {prefill:>9.3f} {cached_rate:>13.1f} {recompute_rate:>16.2f} "
            f"{ratios[-1]:>6.1f}x {cached_tokens == recomputed_tokens!s:>11}"
        )
    target = " (target >= 10x at a 2048-token context)" if args.context >= 2048 else ""
    print(f"smallest ratio {min(ratios):.1f}x{target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
