"""One training loop for every task: AdamW (weight decay on matrices only), linear warm-up then
cosine decay, gradient clipping, a finite-loss check, and Ctrl-C / SIGTERM answered between two
steps. What a task does around its steps (metrics, validation, checkpoints) is a hook.

A task gives the loop its model, a `batch(step)` function and the shared `TrainConfig`; the loss
is the model's own (`DecoderLM(ids, targets)`: cross-entropy for token ids, binary cross-entropy
for multi-hot targets). Data-parallel runs (torchrun) agree on stopping through `agree`.
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from experiments.engine.config import TrainConfig, validate
from experiments.errors import ExperimentError


def lr_at(step: int, train: TrainConfig) -> float:
    """Learning rate of ``step``: linear warm-up, then cosine decay to ``min_lr_frac * lr``."""
    if train.warmup and step < train.warmup:
        return train.lr * (step + 1) / train.warmup
    span = max(train.steps - train.warmup, 1)
    progress = min(max(step - train.warmup, 0) / span, 1.0)
    floor = train.lr * train.min_lr_frac
    return floor + (train.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(model: torch.nn.Module, train: TrainConfig) -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices only (norms and biases are not decayed)."""
    validate(train, "train")  # torch's own refusal of a bad beta is a traceback, a late one
    params = sorted(model.named_parameters())
    decay = [p for _, p in params if p.requires_grad and p.dim() >= 2]
    rest = [p for _, p in params if p.requires_grad and p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": train.weight_decay},
        {"params": rest, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=train.lr, betas=(train.beta1, train.beta2), foreach=False)


@dataclass
class Batch:
    """One training step's inputs: ids, targets, positions (or None) and the tokens it holds."""

    inputs: torch.Tensor
    targets: torch.Tensor
    positions: Any
    tokens: int


@dataclass
class StepStats:
    """What one step did, and the totals of the loop so far."""

    step: int  # steps done (1 after the first)
    loss: float
    grad_norm: float
    tokens_seen: int  # by all processes since the loop started
    seconds: float  # since the loop started


@dataclass
class LoopResult:
    """How a loop ended."""

    step: int
    interrupted: bool = False
    final_loss: float | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time: what an idle core would need
    tokens: int = 0

    @property
    def tokens_per_s(self) -> float:
        """Training throughput over the loop (all processes)."""
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Loop:
    """A model and optimizer at a step, and where its batches come from."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    train: TrainConfig
    batch: Callable[[int], Batch]
    name: str  # named in errors
    step: int = 0
    forward: torch.nn.Module | None = None  # a DistributedDataParallel wrapper of ``model``
    world: int = 1

    def __post_init__(self) -> None:
        # by construction: no loop trains with settings its config checks would refuse (a
        # negative clip, an infinite rate), whoever built the config
        validate(self.train, "train")

    def one_step(self) -> tuple[float, float, int]:
        """One optimiser step at ``self.step``: (loss, gradient norm, tokens seen by all ranks)."""
        net = self.forward or self.model
        net.train()
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(self.step, self.train)
        b = self.batch(self.step)
        loss = net(b.inputs, b.targets, positions=b.positions)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip = self.train.grad_clip
        # no clipping still measures the norm (it is logged): an infinite bound never scales
        gnorm = torch.nn.utils.clip_grad_norm_(
            self.model.parameters(), math.inf if clip is None else clip
        )
        self.optimizer.step()
        self.step += 1
        value = float(loss.detach())
        if not math.isfinite(value):
            raise ExperimentError(f"{self.name}: loss became {value} at step {self.step}")
        return value, float(gnorm), b.tokens * self.world


def run_loop(
    loop: Loop,
    end: int,
    after_step: Callable[[StepStats, bool], None] | None = None,
    progress: bool = False,
) -> LoopResult:
    """Train ``loop`` up to step ``end`` or until a signal; ``after_step(stats, stopping)`` runs
    after every step (``stopping``: a signal arrived, the loop ends after this hook)."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = LoopResult(loop.step)
    bar = _progress_bar(progress, loop.step, loop.train.steps, loop.name)
    with StopFlag() as stop:
        while loop.step < end:
            loss, gnorm, tokens = loop.one_step()
            result.tokens += tokens
            result.final_loss = loss
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}")
            stopping = agree(stop.signum is not None, loop.world)
            if after_step is not None:
                stats = StepStats(loop.step, loss, gnorm, result.tokens, time.perf_counter() - t0)
                after_step(stats, stopping)
            if stopping:
                result.interrupted = True
                break
    if bar is not None:
        bar.close()
    result.step = loop.step
    result.seconds = time.perf_counter() - t0
    result.cpu_seconds = time.process_time() - cpu0
    return result


class StopFlag:
    """SIGINT/SIGTERM set a flag; the loop finishes its step, lets its task save, and returns."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopFlag:
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        except ValueError:  # not the main thread: no signal handling there
            self._old = {}
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.signum = signum

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _progress_bar(enabled: bool, initial: int, total: int, desc: str) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, leave=False, dynamic_ncols=True)


# -- several processes (torchrun) ----------------------------------------------------------------


def distributed() -> tuple[int, int]:
    """(rank, world size) of this process, joining the process group under torchrun."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def agree(flag: bool, world: int) -> bool:
    """True on every process when it is True on any (a stop request reaches one rank first)."""
    if world <= 1:
        return flag
    import torch.distributed as dist

    t = torch.tensor([1 if flag else 0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def barrier(world: int) -> None:
    """Wait for every process (no-op for one)."""
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
