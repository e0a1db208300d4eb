"""Per-cell cost of `bipe synthetic`: a width-32 cell's training against bare loops, in one run.

Three ways to train the same model (same init, same AdamW, same number of steps) on the same
language, alternated and repeated so that load hits them alike; speed is tokens per CPU-second of
this process (one torch thread), which other jobs on the machine disturb far less than wall time:

* cell:        `experiments.synthetic.task.train_cell` (sampling, batches, positions, lr schedule,
               clipping, loss check: everything a cell does while it trains);
* bare:        a plain loop drawing words from the same sampler and building the same tensors,
               then forward + backward + clipping + AdamW step (no schedule, no statistics);
* bare-cached: the plain loop on batches built before the timer (model cost only).

The harness overhead is cell against bare (target < 10%); bare-cached shows the share of sampling.
Then each preset's wall time: ``--presets tiny`` runs the whole tiny sweep in a temporary directory.

    python benchmarks/synthetic_cell.py                 # width 32, 80 steps, 5 rounds, tiny preset
    python benchmarks/synthetic_cell.py --quick         # 30 steps, 2 rounds, no preset
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from _common import quick_parser  # first: benchmark scripts shadow package names

from experiments.engine.trainer import make_optimizer
from experiments.synthetic.config import load_synthetic_config, make_sampler
from experiments.synthetic.task import Cell, build_cell_model, train_cell
from experiments.synthetic.words import to_tensors, word_batch

AUTOMATON = "random:types=2,states=5"


def bare(cfg, cell, binfa, batches=None) -> tuple[int, float]:
    """(tokens, CPU seconds) of a plain training loop; batches pre-built when given."""
    model = build_cell_model(cfg, cell, binfa)
    opt = make_optimizer(model, cfg.train)  # the same AdamW and clipping: only the harness differs
    sampler = make_sampler(cfg, cell.spec, binfa, tuple(cfg.task.segments), seed=cell.seed)
    n = len(binfa.symbols)
    model.train()
    tokens, t0 = 0, time.process_time()
    for step in range(cfg.train.steps):
        if batches is None:
            batch = word_batch([sampler.sample() for _ in range(cfg.train.batch_size)], n)
        else:
            batch = batches[step]
        ids, targets, pos = to_tensors(batch)
        loss = model(ids, targets, positions=pos)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
        opt.step()
        tokens += batch.tokens
    return tokens, time.process_time() - t0


def harness(cfg, cell, binfa) -> tuple[int, float]:
    """(tokens, CPU seconds) of the cell's own training loop (model and sampler built before it,
    as in the bare loops)."""
    _, stats = train_cell(cfg, cell, binfa)
    return stats["tokens"], stats["cpu_seconds"]


def main() -> None:
    """Print tokens per CPU-second of the three loops and their ratios, then preset wall times."""
    parser = quick_parser(__doc__, "30 steps, 2 rounds, no preset timing")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument(
        "--presets", default="tiny", help="comma list of presets to time ('' = none)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps, rounds = (30, 2) if args.quick else (80, 5)
    cfg = load_synthetic_config("cpu", [f"train.steps={steps}"])
    cell = Cell(AUTOMATON, "bipe_rope", args.width, 0)
    binfa = cell.spec.build()
    sampler = make_sampler(cfg, cell.spec, binfa, tuple(cfg.task.segments), seed=0)
    n = len(binfa.symbols)
    cached = [
        word_batch([sampler.sample() for _ in range(cfg.train.batch_size)], n) for _ in range(steps)
    ]
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, fn in (
            ("cell", lambda: harness(cfg, cell, binfa)),
            ("bare", lambda: bare(cfg, cell, binfa)),
            ("bare-cached", lambda: bare(cfg, cell, binfa, cached)),
        ):
            tokens, cpu = fn()
            best[name] = max(best.get(name, 0.0), tokens / cpu)
    print(
        f"width {args.width}, {AUTOMATON}, bipe_rope, {steps} steps x {cfg.train.batch_size} words, best of {rounds}"
    )
    print("| loop | tokens per CPU-second | cell / loop |")
    print("|---|---|---|")
    for name, rate in best.items():
        print(f"| {name} | {rate:,.0f} | {best['cell'] / rate:.3f} |")
    print(
        f"harness overhead against the bare loop: {100 * (best['bare'] / best['cell'] - 1):+.1f}%"
    )
    for preset in [p for p in args.presets.split(",") if p and not args.quick]:
        time_preset(preset)


def time_preset(preset: str) -> None:
    """Wall time of ``bipe synthetic --preset NAME`` in a fresh process, into a temporary folder."""
    from experiments.synthetic.task import collect

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        argv = [
            sys.executable,
            "-m",
            "experiments.cli",
            "synthetic",
            "--preset",
            preset,
            "--out",
            tmp,
        ]
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=root, check=True, capture_output=True)
        wall = time.perf_counter() - t0
        pcfg = load_synthetic_config(preset)
        res = collect(pcfg, tmp)
    cpu = sum(r["train"].get("cpu_seconds", 0.0) for r in res.results)
    print(
        f"preset {preset}: {len(res.results)} cells, wall {wall:.1f} s with {pcfg.workers} workers "
        f"(training CPU time summed over cells: {cpu:.1f} s)"
    )


if __name__ == "__main__":
    main()
