"""Bi-NFA language learning (`bipe synthetic`) as a task of the sweep engine: sampled words ->
batches -> a model trained in the engine's loop -> accuracy at every extrapolation factor.

The task is the standard formal-language one: at every position the model predicts the SET of legal
next tokens (multi-label over the alphabet plus the separator), trained with the model's own loss
given multi-hot targets (`DecoderLM(ids, targets)`, binary cross-entropy). A token is right when
the predicted set (logit > 0) equals the legal set; a word is right when all its tokens are.

Each cell (automaton, scheme, width, seed) writes ``<out>/cells/<name>/result.json`` when it ends
(a worker process runs the cells of one automaton and seed in turn, sharing the automaton and its
test words), so an interrupted sweep keeps every finished cell and a rerun skips them (unless a
setting that changes their numbers changed).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.engine import sweep
from experiments.engine.sweep import TASKS, CellInterrupted, SweepResult
from experiments.synthetic.config import (
    TASK,
    AutomatonSpec,
    SyntheticConfig,
    cell_model_config,
    make_sampler,
    parse_automaton,
)
from experiments.synthetic.probes import probe_layers
from experiments.synthetic.words import TEST_SEED, test_words, to_tensors, word_batch


@dataclass(frozen=True)
class Cell:
    """One trained model: an automaton spec, a positional scheme, a width and a seed."""

    automaton: str
    scheme: str
    width: int
    seed: int

    @property
    def spec(self) -> AutomatonSpec:
        """The parsed automaton spec."""
        return parse_automaton(self.automaton)

    @property
    def name(self) -> str:
        """Directory name, e.g. ``mod-marked-k2-n2-s0-bipe_rope-w16-seed0``."""
        return f"{self.spec.name}-{self.scheme}-w{self.width}-seed{self.seed}"


def all_cells(cfg: SyntheticConfig) -> list[Cell]:
    """Every cell, seed by seed (a cut-short sweep still covers every automaton and scheme once)."""
    return [
        Cell(a, s, w, seed)
        for seed in cfg.seeds
        for a in cfg.automata
        for w in cfg.widths
        for s in cfg.schemes
    ]


# ------------------------------------------------------------------------------ training
def build_cell_model(cfg: SyntheticConfig, cell: Cell, binfa: Any):  # -> DecoderLM
    """The cell's DecoderLM (seeded by the cell's seed)."""
    import torch

    from bipe_core import DecoderLM

    n_symbols = len(binfa.symbols)
    max_tokens = cfg.task.segments[1] * (cfg.task.max_len + 1)
    torch.manual_seed(cell.seed)
    return DecoderLM(
        cell_model_config(cfg, cell.scheme, cell.width, n_symbols, n_symbols - 1, max_tokens)
    )


def train_cell(cfg: SyntheticConfig, cell: Cell, binfa: Any, model: Any = None) -> tuple[Any, dict]:
    """Train the cell's model on freshly sampled words; returns (model, training statistics)."""
    import torch

    from experiments.engine.trainer import Batch, Loop, make_optimizer, run_loop

    t = cfg.train
    torch.set_num_threads(t.threads)
    model = model if model is not None else build_cell_model(cfg, cell, binfa)
    sampler = make_sampler(cfg, cell.spec, binfa, tuple(cfg.task.segments), seed=cell.seed)
    n_symbols = len(binfa.symbols)

    def batch(step: int) -> Batch:  # words are drawn in step order from the cell's sampler
        words = word_batch([sampler.sample() for _ in range(t.batch_size)], n_symbols)
        return Batch(*to_tensors(words), words.tokens)

    done = run_loop(Loop(model, make_optimizer(model, t), t, batch, cell.name), t.steps)
    if done.interrupted:
        raise CellInterrupted(f"{cell.name} stopped at step {done.step}")
    return model, {
        "steps": t.steps,
        "final_loss": round(done.final_loss, 6),
        "seconds": round(done.seconds, 2),
        "cpu_seconds": round(done.cpu_seconds, 2),  # what an idle core would need
        "tokens": done.tokens,
        "tokens_per_s": round(done.tokens_per_s, 1) if done.seconds > 0 else None,
        "params": model.num_parameters(),
    }


def evaluate_words(model: Any, samples: list[Any], n_symbols: int, batch_size: int) -> dict:
    """Word accuracy, token accuracy (predicted set == legal set) and determined next-token accuracy.

    ``next_token_acc`` is plain next-token accuracy (argmax) at the positions whose legal set has
    exactly one token: for the arithmetic family the result digit, '=' and the separator.
    """
    import torch

    model.eval()
    words = right_words = tokens = right_tokens = det = right_det = 0
    with torch.no_grad():
        for i in range(0, len(samples), batch_size):
            batch = word_batch(samples[i : i + batch_size], n_symbols)
            ids, _, pos = to_tensors(batch)
            logits = model(ids, positions=pos)
            legal = torch.from_numpy(batch.legal)
            mask = torch.from_numpy(batch.mask)
            ok = ((logits > 0) == legal).all(-1) | ~mask  # (B, T)
            words += ids.shape[0]
            right_words += int(ok.all(-1).sum())
            tokens += int(mask.sum())
            right_tokens += int((ok & mask).sum())
            single = (legal.sum(-1) == 1) & mask
            hit = logits.argmax(-1) == legal.float().argmax(-1)
            det += int(single.sum())
            right_det += int((hit & single).sum())
    return {
        "word_acc": right_words / words,
        "token_acc": right_tokens / tokens,
        "next_token_acc": right_det / det if det else None,
        "words": words,
        "tokens": tokens,
    }


# ------------------------------------------------------------------------------ one cell
def compute_cell(
    cfg: SyntheticConfig, cell: Cell, binfa: Any = None, tests: dict[int, list[Any]] | None = None
) -> dict[str, Any]:
    """Train, test at every factor and probe one cell; the JSON-ready result."""
    spec = cell.spec
    binfa = binfa if binfa is not None else spec.build()
    tests = tests if tests is not None else test_words(cfg, spec, binfa)
    model, stats = train_cell(cfg, cell, binfa)
    n_symbols = len(binfa.symbols)
    results = []
    for factor, samples in tests.items():
        lo, hi = cfg.segment_ranges()[factor]
        row = evaluate_words(model, samples, n_symbols, cfg.task.eval_batch)
        results.append({"factor": factor, "segments": [lo, hi], **row})
    probes: list[dict[str, Any]] = []
    if cfg.probes:
        sampler = make_sampler(cfg, spec, binfa, tuple(cfg.task.segments),
                               seed=TEST_SEED - 1 + spec.seed, what="probe")  # fmt: skip
        words = [sampler.sample() for _ in range(cfg.task.probe_words)]
        probes = probe_layers(model, word_batch(words, n_symbols))
    return {
        "cell": dataclasses.asdict(cell),
        "name": cell.name,
        "train": stats,
        "results": results,
        "probes": probes,
    }


@dataclass(frozen=True)
class BiNFATask:
    """Learn a Bi-NFA language at one width with one scheme; test it at 1x..8x the segments."""

    name: str = TASK
    unit: str = "cell"
    folder: str = "cells"
    result_name: str = "result.json"

    def cells(self, cfg: SyntheticConfig) -> list[Cell]:
        """Every cell of the sweep (`all_cells`)."""
        return all_cells(cfg)

    def prepare(self, cfg: SyntheticConfig, cells: list[Cell], options: dict) -> None:
        """Nothing to share through the disk: each job builds its automata and test words."""

    def jobs(self, cells: list[Cell]) -> list[tuple[str, list[Cell]]]:
        """One job per (seed, automaton): imports, automaton and test words once per job."""
        groups: dict[tuple[int, str], list[Cell]] = {}
        for c in cells:
            groups.setdefault((c.seed, c.automaton), []).append(c)
        return [(f"{g[0].spec.name}-seed{g[0].seed}", g) for g in groups.values()]

    def run_cell(
        self, cfg: SyntheticConfig, cell: Cell, cell_dir: Path, options: dict, shared: dict
    ) -> dict[str, Any]:
        """`compute_cell`, with the automaton and its test words built once per job."""
        if cell.automaton not in shared:
            binfa = cell.spec.build()
            shared[cell.automaton] = (binfa, test_words(cfg, cell.spec, binfa))
        return compute_cell(cfg, cell, *shared[cell.automaton])


SYNTHETIC_TASK = TASKS.register(TASK, BiNFATask())


def run_sweep(
    cfg: SyntheticConfig,
    out: str | Path,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
    log=print,
) -> SweepResult:
    """Run every unfinished cell (local pool, Slurm or submitit's local executor) and collect all."""
    return sweep.run_sweep(
        SYNTHETIC_TASK,
        cfg.validate(),
        out,
        workers=cfg.workers,
        executor=executor,
        executor_options=executor_options,
        log=log,
    )


def collect(cfg: SyntheticConfig, out: str | Path) -> SweepResult:
    """The finished results of every cell under ``out`` and why the others have none."""
    return sweep.collect(SYNTHETIC_TASK, cfg, out)


def cell_result(out: str | Path, cfg: SyntheticConfig, cell: Cell) -> dict[str, Any] | None:
    """The finished result of a cell made with the current settings, or None."""
    return sweep.cell_result(SYNTHETIC_TASK, cfg, out, cell)
