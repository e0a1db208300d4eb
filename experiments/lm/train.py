"""Training one run (one corpus x scheme x segmenter): AdamW, warm-up + cosine, clipping, resume, DDP.

Data come from `experiments.data` (batches are a pure function of (seed, step), so a resumed run is
identical to an uninterrupted one); the loss is the model's own (`DecoderLM(ids, targets)`).
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from experiments.checkpoints import (
    CHECKPOINT_NAME,
    TrainState,
    load_train_checkpoint,
    read_header,
    save_train_checkpoint,
)
from experiments.config import ExperimentConfig, RunSpec, model_config
from experiments.data import RunData, TokenStream, batch_at, fixed_windows, prepare_data
from experiments.errors import ExperimentError


def build_model(
    cfg: ExperimentConfig, scheme: str, vocab_size: int, segmenter: str | None = None
):  # -> DecoderLM
    """The run's DecoderLM: learned/intra tables sized to the training length, as in the paper."""
    from bipe_core.model import DecoderLM

    return DecoderLM(model_config(cfg, scheme, vocab_size, segmenter))


def lr_at(step: int, cfg: ExperimentConfig) -> float:
    """Learning rate of ``step``: linear warm-up, then cosine decay to ``min_lr_frac * lr``."""
    t = cfg.train
    if t.warmup and step < t.warmup:
        return t.lr * (step + 1) / t.warmup
    span = max(t.steps - t.warmup, 1)
    progress = min(max(step - t.warmup, 0) / span, 1.0)
    floor = t.lr * t.min_lr_frac
    return floor + (t.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(model: torch.nn.Module, cfg: ExperimentConfig) -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices only (norms and biases are not decayed)."""
    t = cfg.train
    decay = [p for _, p in sorted(model.named_parameters()) if p.requires_grad and p.dim() >= 2]
    rest = [p for _, p in sorted(model.named_parameters()) if p.requires_grad and p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": t.weight_decay},
        {"params": rest, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=t.lr, betas=(t.beta1, t.beta2), foreach=False)


@dataclass
class TrainResult:
    """Outcome of `train_run`."""

    run_dir: Path
    step: int
    completed: bool
    interrupted: bool = False
    final_loss: float | None = None
    val_loss: float | None = None
    seconds: float = 0.0
    tokens_per_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


class _StopFlag:
    """SIGINT/SIGTERM set a flag; the loop saves a checkpoint after the current step and returns."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _StopFlag:
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


def _dist() -> tuple[int, int]:
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _run_info(cfg: ExperimentConfig, spec: RunSpec, model: torch.nn.Module, data: RunData) -> dict:
    return {
        "experiment": cfg.to_dict(),
        "spec": {"corpus": spec.corpus, "scheme": spec.scheme, "segmenter": spec.segmenter},
        "model_config": model.config.to_dict(),
        "vocab_size": data.vocab_size,
        "tokens_dir": str(data.tokens.dir),
    }


def _check_compatible(path: Path, info: dict[str, Any]) -> None:
    from bipe_core.config import ModelConfig

    old = read_header(path).get("info", {})
    try:  # a checkpoint written before a new ModelConfig field existed still compares equal
        old_model = ModelConfig.from_dict(old.get("model_config")).to_dict()
    except Exception:
        old_model = old.get("model_config")
    for key, was in (("spec", old.get("spec")), ("model_config", old_model)):
        if was != info.get(key):
            raise ExperimentError(
                f"{path} was made by a different run ({key} differs); use another --out directory "
                "or delete that checkpoint on purpose"
            )
    # Continuing under another schedule or other data would record numbers that no single
    # configuration produced.
    old_exp, new_exp = old.get("experiment", {}), info.get("experiment", {})
    for section, free in (("train", RESUMABLE_TRAIN_KEYS), ("data", RESUMABLE_DATA_KEYS)):
        was, now = old_exp.get(section, {}), new_exp.get(section, {})
        changed = sorted(k for k in now if k not in free and k in was and was[k] != now[k])
        if changed:
            diffs = ", ".join(f"{section}.{k}: {was[k]!r} -> {now[k]!r}" for k in changed)
            raise ExperimentError(
                f"{path} was trained with other settings ({diffs}); resuming would mix two "
                "configurations in one run. Use the checkpoint's settings, another --out "
                "directory, or delete that checkpoint on purpose"
            )


# Settings that may change between a run and its resumption: they do not change what one run
# computes (logging, checkpoint spacing, threads, the progress bar, how many seeds the grid has,
# the corpus list of the grid, how many processes prepare the cache).
RESUMABLE_TRAIN_KEYS = ("log_every", "ckpt_every", "threads", "progress", "seeds")
RESUMABLE_DATA_KEYS = ("corpora", "prep_workers")


@dataclass
class _Run:
    """Everything one training run holds between steps."""

    cfg: ExperimentConfig
    spec: RunSpec
    data: RunData
    model: torch.nn.Module
    ddp_model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    info: dict[str, Any]
    ckpt: Path
    rank: int
    world: int
    step: int


def _start_run(
    cfg: ExperimentConfig,
    spec: RunSpec,
    run_dir: Path,
    cache_dir: str | Path | None,
    resume: bool,
    data: RunData | None,
) -> _Run:
    """Data, model and optimizer of a run, continued from its checkpoint when there is one."""
    t = cfg.train
    rank, world = _dist()
    if t.batch_size % world:
        raise ExperimentError(
            f"train.batch_size={t.batch_size} is not divisible by {world} processes"
        )
    torch.set_num_threads(t.threads)
    run_dir.mkdir(parents=True, exist_ok=True)
    data = data or prepare_data(cfg, spec, cache_dir)
    torch.manual_seed(t.seed)
    model = build_model(cfg, spec.scheme, data.vocab_size, spec.segmenter)
    optimizer = make_optimizer(model, cfg)
    ckpt = run_dir / CHECKPOINT_NAME
    info = _run_info(cfg, spec, model, data)
    step = 0
    if ckpt.exists():
        _check_compatible(ckpt, info)
        if not resume:
            raise ExperimentError(
                f"{ckpt} exists and resuming was turned off (--no-resume); run without "
                "--no-resume to continue it, or use another --out directory"
            )
        step = load_train_checkpoint(ckpt, model, optimizer).step
    ddp_model = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        ddp_model = DistributedDataParallel(model)
    return _Run(cfg, spec, data, model, ddp_model, optimizer, info, ckpt, rank, world, step)


def _train_step(run: _Run) -> tuple[float, float, int]:
    """One optimiser step at ``run.step``: (loss, gradient norm, tokens seen by all ranks)."""
    t = run.cfg.train
    run.ddp_model.train()
    for group in run.optimizer.param_groups:
        group["lr"] = lr_at(run.step, run.cfg)
    x, y, pos = batch_at(
        run.data.train, run.step, t.seed, t.batch_size, t.seq_len, run.rank, run.world
    )
    loss = run.ddp_model(x, y, positions=pos)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    gnorm = torch.nn.utils.clip_grad_norm_(run.model.parameters(), t.grad_clip)
    run.optimizer.step()
    run.step += 1
    value = float(loss.detach())
    if not math.isfinite(value):
        raise ExperimentError(f"{run.spec.name}: loss became {value} at step {run.step}")
    return value, float(gnorm), x.numel() * run.world


def _write_metric(metrics: Any, record: dict[str, Any]) -> None:
    metrics.write(json.dumps(record) + "\n")
    metrics.flush()


def _checkpoint(run: _Run, metrics: Any, result: TrainResult) -> None:
    """Validation loss at checkpoint steps and the final step, then the checkpoint itself."""
    t = run.cfg.train
    if run.step % t.ckpt_every == 0 or run.step == t.steps:
        result.val_loss = val_loss(run.model, run.data.val, run.cfg)
        if run.rank == 0:
            _write_metric(metrics, {"step": run.step, "val_loss": round(result.val_loss, 5)})
    if run.rank == 0:
        save_train_checkpoint(run.ckpt, run.model, run.optimizer, TrainState(run.step, run.info))
    _barrier(run.world)


def train_run(
    cfg: ExperimentConfig,
    spec: RunSpec,
    run_dir: str | Path,
    *,
    cache_dir: str | Path | None = None,
    resume: bool = True,
    stop_at: int | None = None,
    data: RunData | None = None,
) -> TrainResult:
    """Train one run to ``cfg.train.steps`` (or until ``stop_at`` / a signal), checkpointing as it goes.

    With ``resume`` an existing checkpoint in ``run_dir`` is continued; a checkpoint made by a
    different run raises ExperimentError and is never overwritten.
    """
    t = cfg.train
    run_dir = Path(run_dir)
    run = _start_run(cfg, spec, run_dir, cache_dir, resume, data)
    metrics_path = run_dir / "metrics.jsonl"
    if run.rank == 0:
        _truncate_metrics(metrics_path, run.step)
    end = min(t.steps, stop_at) if stop_at is not None else t.steps
    result = TrainResult(run_dir, run.step, completed=run.step >= t.steps, info=run.info)
    bar = _progress(t.progress and run.rank == 0, run.step, t.steps, spec.name)
    t0, tokens_seen = time.perf_counter(), 0
    with _StopFlag() as stop, open(metrics_path, "a", encoding="utf-8") as metrics:
        while run.step < end:
            result.final_loss, gnorm, tokens = _train_step(run)
            tokens_seen += tokens
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{result.final_loss:.3f}")
            if run.rank == 0 and (run.step % t.log_every == 0 or run.step == end):
                _write_metric(metrics, {
                    "step": run.step,
                    "loss": round(result.final_loss, 5),
                    "lr": lr_at(run.step - 1, cfg),
                    "grad_norm": round(gnorm, 4),
                    "tok_per_s": round(tokens_seen / (time.perf_counter() - t0), 1),
                })  # fmt: skip
            stopping = _agree(stop.signum is not None, run.world)
            if run.step % t.ckpt_every == 0 or run.step == end or stopping:
                _checkpoint(run, metrics, result)
            if stopping:
                result.interrupted = True
                break
    if bar is not None:
        bar.close()
    result.step = run.step
    result.completed = run.step >= t.steps
    result.seconds = time.perf_counter() - t0
    result.tokens_per_s = tokens_seen / result.seconds if result.seconds > 0 else 0.0
    return result


@torch.no_grad()
def val_loss(
    model: torch.nn.Module, stream: TokenStream | None, cfg: ExperimentConfig, n_windows: int = 8
) -> float:
    """Mean loss on fixed validation windows at the training length (same windows every time)."""
    if stream is None or len(stream) < cfg.train.seq_len + 2:
        return float("nan")
    model.eval()
    x, y, pos = fixed_windows(stream, cfg.train.seed, n_windows, cfg.train.seq_len)
    return float(model(x, y, positions=pos))


def _agree(flag: bool, world: int) -> bool:
    if world <= 1:
        return flag
    import torch.distributed as dist

    t = torch.tensor([1 if flag else 0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop metric lines after the checkpoint step: those steps are about to be recomputed."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                keep.append(line)
        except json.JSONDecodeError:
            continue  # a line cut by a crash
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(x + "\n" for x in keep), encoding="utf-8")
    os.replace(tmp, path)


def _progress(enabled: bool, initial: int, total: int, desc: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, leave=False, dynamic_ncols=True)


def load_trained(run_dir: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The model of a finished (or interrupted) run, in eval mode, and the run's info."""
    from bipe_core.config import ModelConfig
    from bipe_core.model import DecoderLM

    path = Path(run_dir) / CHECKPOINT_NAME if Path(run_dir).is_dir() else Path(run_dir)
    header = read_header(path)
    info = header.get("info", {})
    try:
        model = DecoderLM(ModelConfig.from_dict(info["model_config"]))
    except Exception as exc:
        raise ExperimentError(f"{path}: cannot rebuild the model: {exc}") from exc
    state = load_train_checkpoint(path, model)
    info = {**state.info, "step": state.step}
    return model.eval(), info
