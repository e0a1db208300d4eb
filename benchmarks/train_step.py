"""Training-step throughput of `DecoderLM` (every scheme) against Hugging Face's LlamaForCausalLM.

One training step = forward with the loss, backward, AdamW step, on the same batch of random ids
(with a separator about every 12 tokens, so the bilevel schemes see segments), both models with
the same sizes (LLaMA's SwiGLU width, RMSNorm, no biases, untied head) and one torch thread.
Shapes (``--shapes``):

* cpu-small: d 128, 3 layers, 4 heads, vocabulary 1,024, batch 8 x 256 tokens;
* d256:      d 256, 4 layers, 8 heads, vocabulary 4,096, batch 4 x 512 tokens.

Every model runs ``--steps`` steps per round; rounds alternate the models (in a rotating order) so
that load from other processes hits them alike, and the best round counts. Time is CPU time of this
process (one thread), which other jobs on a shared machine disturb far less than wall time. Reported: steps per
second of HF Llama and of each scheme, eager and (``--compile``) compiled with
``torch.compile(fullgraph=True)``, the ratio ours / HF (> 1: ours is faster), the compile time (the
first compiled steps, forward and backward, minus one compiled step) and the steps after which
compiling pays off (compile time / time saved per step against eager).

    python benchmarks/train_step.py                          # both shapes, eager, every scheme
    python benchmarks/train_step.py --compile --schemes rope bipe_alibi bipe_alibi_io
    python benchmarks/train_step.py --quick                  # cpu-small, 2 rounds of 3 steps
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from _common import quick_parser  # first: benchmark scripts shadow package names

from bipe_core import DecoderLM, ModelConfig, list_schemes

SHAPES = {
    "cpu-small": dict(d_model=128, n_layers=3, n_heads=4, vocab_size=1024, batch=8, length=256),
    "d256": dict(d_model=256, n_layers=4, n_heads=8, vocab_size=4096, batch=4, length=512),
}
SEPARATORS, LEVEL_SEPARATORS = (1, 2), (3,)
HF = "hf_llama"


@dataclass
class Runner:
    """One model under test: its training step and, once measured, its compile time."""

    name: str
    step: Callable[[], None]
    compile_s: float = math.nan


def our_model(scheme: str, shape: dict[str, int]) -> DecoderLM:
    """A seeded DecoderLM of ``shape`` for ``scheme`` (hierarchical schemes get one outer level)."""
    torch.manual_seed(0)
    fields = {k: v for k, v in shape.items() if k not in ("batch", "length")}
    cfg = ModelConfig(
        **fields,
        scheme=scheme,
        separator_ids=SEPARATORS,
        level_separator_ids=(LEVEL_SEPARATORS,) if scheme.startswith("hier") else (),
        max_positions=shape["length"],
    )
    return DecoderLM(cfg).train()


def hf_model(shape: dict[str, int]) -> torch.nn.Module:
    """LlamaForCausalLM of the same sizes (SDPA attention, as ours)."""
    import transformers

    torch.manual_seed(0)
    fields = {k: v for k, v in shape.items() if k not in ("batch", "length")}
    hidden = ModelConfig(**fields, scheme="rope").ffn_hidden  # LLaMA's SwiGLU width, as ours
    cfg = transformers.LlamaConfig(
        vocab_size=shape["vocab_size"],
        hidden_size=shape["d_model"],
        intermediate_size=hidden,
        num_hidden_layers=shape["n_layers"],
        num_attention_heads=shape["n_heads"],
        num_key_value_heads=shape["n_heads"],
        max_position_embeddings=shape["length"],
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        attn_implementation="sdpa",
    )
    return transformers.LlamaForCausalLM(cfg).train()


def batch(shape: dict[str, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ids (separators about every 12 tokens) and their next-token targets."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(4, shape["vocab_size"], (shape["batch"], shape["length"] + 1), generator=g)
    cut = torch.rand(ids.shape, generator=g)
    ids[cut < 1 / 12] = SEPARATORS[0]
    ids[cut < 1 / 60] = LEVEL_SEPARATORS[0]
    return ids[:, :-1].contiguous(), ids[:, 1:].contiguous()


def train_step(model: torch.nn.Module, loss_fn: Callable[[], torch.Tensor]) -> Callable[[], None]:
    """forward + backward + AdamW step of ``loss_fn`` over ``model``'s parameters."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step() -> None:
        loss = loss_fn()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def runners(shape: dict[str, int], schemes: list[str], compile_: bool) -> list[Runner]:
    """HF Llama and our model per scheme (eager, and compiled when asked), each with its step."""
    ids, targets = batch(shape)
    hf = hf_model(shape)
    out = [Runner(HF, train_step(hf, lambda: hf(input_ids=ids, labels=ids).loss))]
    for scheme in schemes:
        model = our_model(scheme, shape)
        out.append(Runner(scheme, train_step(model, lambda m=model: m(ids, targets))))
        if compile_:
            twin = our_model(scheme, shape)
            fast = torch.compile(twin, fullgraph=True)
            runner = Runner(f"{scheme}+c", train_step(twin, lambda f=fast: f(ids, targets)))
            runner.compile_s = compile_time(runner.step)
            out.append(runner)
    return out


def compile_time(step: Callable[[], None]) -> float:
    """Wall seconds of the first (compiling) step minus a compiled one."""
    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    step()
    return first - (time.perf_counter() - t0)


def measure(runs: list[Runner], rounds: int, steps: int) -> dict[str, float]:
    """Best CPU seconds per step of every runner over ``rounds`` rotating rounds."""
    for r in runs:
        r.step()  # warm-up: allocator, AdamW state
    best = dict.fromkeys((r.name for r in runs), math.inf)
    for k in range(rounds):
        order = runs[k % len(runs) :] + runs[: k % len(runs)]
        for r in order:
            t0 = time.process_time()
            for _ in range(steps):
                r.step()
            best[r.name] = min(best[r.name], (time.process_time() - t0) / steps)
    return best


def report(shape_name: str, runs: list[Runner], best: dict[str, float]) -> None:
    """The side-by-side table of one shape."""
    print(f"\n## {shape_name}: {SHAPES[shape_name]}")
    print("| model | steps/s | ours / HF | compile s | pays off after (steps) |")
    print("|---|---|---|---|---|")
    hf = best[HF]
    for r in runs:
        sec = best[r.name]
        payoff = "-"
        if not math.isnan(r.compile_s):
            eager = best[r.name.removesuffix("+c")]
            saved = eager - sec
            payoff = f"{r.compile_s / saved:,.0f}" if saved > 0 else "never (slower)"
        comp = "-" if math.isnan(r.compile_s) else f"{r.compile_s:.1f}"
        ratio = "1.00 (reference)" if r.name == HF else f"{hf / sec:.2f}"
        print(f"| {r.name} | {1 / sec:.2f} | {ratio} | {comp} | {payoff} |")


def main() -> None:
    """Parse the options and print one table per shape."""
    parser = quick_parser(__doc__, "cpu-small only, 2 rounds of 3 steps")
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--schemes", nargs="+", default=None, help="default: every scheme")
    parser.add_argument("--compile", action="store_true", help="also time compiled models")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5, help="steps per model per round")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    shapes, rounds, steps = args.shapes, args.rounds, args.steps
    if args.quick:
        shapes, rounds, steps = ["cpu-small"], 2, 3
    schemes = args.schemes or list_schemes()
    print(f"torch {torch.__version__}, {args.threads} thread(s), best of {rounds} rounds x {steps}")
    for name in shapes:
        runs = runners(SHAPES[name], schemes, args.compile)
        report(name, runs, measure(runs, rounds, steps))


if __name__ == "__main__":
    main()
