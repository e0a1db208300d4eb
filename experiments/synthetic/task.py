"""Bi-NFA language learning (`bipe synthetic`): sampled words -> batches -> trained cells -> accuracy.

The task is the standard formal-language one: at every position the model predicts the SET of legal
next tokens (multi-label over the alphabet plus the separator), trained with the model's own loss
given multi-hot targets (`DecoderLM(ids, targets)`, binary cross-entropy). A token is right when
the predicted set (logit > 0) equals the legal set; a word is right when all its tokens are.
BiPE positions are the sampler's own segment and intra arrays (`positions_from_arrays`).

Words come from `automata.samplers.HierarchicalSampler` (torch-free); tensors are built here. Each
cell (automaton, scheme, width, seed) writes ``<out>/cells/<name>/result.json`` atomically when it
ends (a worker process runs the cells of one automaton and seed in turn), so an interrupted sweep keeps every
finished cell and a rerun skips them (unless a setting that changes their numbers changed).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from experiments.errors import ExperimentError
from experiments.synthetic_config import (
    EXECUTORS,
    AutomatonSpec,
    SyntheticConfig,
    cell_model_config,
    make_sampler,
    parse_automaton,
)

RESULT_NAME = "result.json"
TEST_SEED = 10_007  # test words depend on the automaton and factor only, never on the cell


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


# ------------------------------------------------------------------------------ batches
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

    from experiments.train import lr_at, make_optimizer

    t = cfg.train
    torch.set_num_threads(t.threads)
    model = model if model is not None else build_cell_model(cfg, cell, binfa)
    sampler = make_sampler(cfg, cell.spec, binfa, tuple(cfg.task.segments), seed=cell.seed)
    opt = make_optimizer(model, cfg)  # reads cfg.train, as for `bipe train`
    n_symbols = len(binfa.symbols)
    model.train()
    t0, cpu0, tokens, loss_value = time.perf_counter(), time.process_time(), 0, float("nan")
    for step in range(t.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        batch = word_batch([sampler.sample() for _ in range(t.batch_size)], n_symbols)
        ids, targets, pos = to_tensors(batch)
        loss = model(ids, targets, positions=pos)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
        opt.step()
        tokens += batch.tokens
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            raise ExperimentError(f"{cell.name}: loss became {loss_value} at step {step}")
    seconds = time.perf_counter() - t0
    return model, {
        "steps": t.steps,
        "final_loss": round(loss_value, 6),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu0, 2),  # what an idle core would need
        "tokens": tokens,
        "tokens_per_s": round(tokens / seconds, 1) if seconds > 0 else None,
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
def cell_result(out: Path, cfg: SyntheticConfig, cell: Cell) -> dict[str, Any] | None:
    """The finished result of a cell made with the current settings, or None."""
    path = out / "cells" / cell.name / RESULT_NAME
    try:
        res = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    factors = [r["factor"] for r in res.get("results", [])]
    same = res.get("fingerprint") == cfg.fingerprint() and factors == list(cfg.task.factors)
    return res if same else None


def compute_cell(
    cfg: SyntheticConfig, cell: Cell, binfa: Any = None, tests: dict[int, list[Any]] | None = None
) -> dict[str, Any]:
    """Train, test at every factor and probe one cell; the JSON-ready result."""
    from experiments.probes import probe_layers

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
        "fingerprint": cfg.fingerprint(),
        "train": stats,
        "results": results,
        "probes": probes,
    }


def run_cells(cfg_dict: dict[str, Any], cells: list[tuple], out: str) -> int:
    """Worker entry: compute cells of one automaton in turn, each result.json written atomically.

    Returns the number of cells that failed (0 = all done); a finished cell is skipped, so a job
    that was stopped half-way picks up where it was.
    """
    from experiments.config import overlay

    # Ctrl-C reaches the whole process group: the pool decides (it terminates us), not the signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cfg = SyntheticConfig()
    overlay(cfg, cfg_dict)
    failed = 0
    shared: dict[str, tuple[Any, dict[int, list[Any]]]] = {}  # automaton -> (binfa, test words)
    for fields in cells:
        cell = Cell(*fields)
        if cell_result(Path(out), cfg, cell) is not None:
            continue
        cell_dir = Path(out) / "cells" / cell.name
        cell_dir.mkdir(parents=True, exist_ok=True)
        try:
            if cell.automaton not in shared:
                binfa = cell.spec.build()
                shared[cell.automaton] = (binfa, test_words(cfg, cell.spec, binfa))
            result = compute_cell(cfg, cell, *shared[cell.automaton])
        except Exception as exc:  # recorded per cell so one failure does not lose the others
            (cell_dir / "error.txt").write_text(f"{type(exc).__name__}: {exc}\n", encoding="utf-8")
            print(f"cell {cell.name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed += 1
            continue
        tmp = cell_dir / (RESULT_NAME + ".tmp")
        tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, cell_dir / RESULT_NAME)
        (cell_dir / "error.txt").unlink(missing_ok=True)
    return failed


# ------------------------------------------------------------------------------ the sweep
@dataclass
class SweepResult:
    """What `run_sweep` produced."""

    out: Path
    results: list[dict[str, Any]]
    failed: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    seconds: float = 0.0
    ran: int = 0  # cells this invocation had to run (0: every cell was already done)


def run_sweep(
    cfg: SyntheticConfig,
    out: str | Path,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
    log=print,
) -> SweepResult:
    """Run every unfinished cell (local pool, Slurm or submitit's local executor) and collect all."""
    if executor not in EXECUTORS:
        raise ExperimentError(
            f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}"
        )
    cfg.validate()
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cells = all_cells(cfg)
    pending = [c for c in cells if cell_result(out, cfg, c) is None]
    log(f"{len(cells)} cells ({len(cells) - len(pending)} already done), executor {executor}")
    groups: dict[tuple[int, str], list[Cell]] = {}
    for c in pending:  # one job per (seed, automaton): imports, automaton and test words once
        groups.setdefault((c.seed, c.automaton), []).append(c)
    jobs = [
        (
            f"{g[0].spec.name}-seed{g[0].seed}",
            (cfg.to_dict(), [dataclasses.astuple(c) for c in g], str(out)),
        )
        for g in groups.values()
    ]
    if executor == "local":
        from experiments.pool import Job, run_jobs

        interrupted = run_jobs([Job(name, run_cells, a) for name, a in jobs], cfg.workers, log)
    else:
        from experiments.submit import submit_and_wait

        interrupted = submit_and_wait(
            run_cells, jobs, out / "submitit", executor, executor_options or {}, log
        )
    res = collect(cfg, out)
    res.interrupted = interrupted
    res.seconds = time.perf_counter() - t0
    res.ran = len(pending)
    return res


def collect(cfg: SyntheticConfig, out: str | Path) -> SweepResult:
    """The finished results of every cell under ``out`` and why the others have none."""
    out = Path(out)
    res = SweepResult(out, [])
    for c in all_cells(cfg):
        r = cell_result(out, cfg, c)
        if r is not None:
            res.results.append(r)
        else:
            err = out / "cells" / c.name / "error.txt"
            res.failed[c.name] = err.read_text().strip() if err.exists() else "not finished"
    return res
